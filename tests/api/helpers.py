"""Test doubles for the API client: a scripted fake Capacities API behind `httpx2.MockTransport`."""

from __future__ import annotations

import copy
import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from capacities_mcp.api import CapacitiesClient, OAuthCredential

BASE_URL = "https://api.test"
API_TOKEN = "cap-api-SECRET-personal-token-123"
OBJECT_ID = "7d2e7f8a-4c3b-4e1d-9f0a-123456789abc"
OTHER_ID = "a793dc41-a1c1-4f38-836e-6527e5a8c016"
BLOCK_ID = "0742d198-776c-4329-8524-9f320908d425"
STRUCTURE_ID = "4ba6e5c6-3f31-45f2-93a0-27a8b2d91551"
COLLECTION_ID = "5cd11f44-88f9-448b-9875-af8ff1a5b2b9"

Reply = httpx2.Response | BaseException | Callable[[httpx2.Request], Any]


@dataclass
class Sent:
    """One request as the fake API received it."""

    request: httpx2.Request
    at: float  # time.monotonic() on arrival
    body: bytes

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.url.params)

    @property
    def raw_query(self) -> str:
        return self.request.url.query.decode()

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)


@dataclass
class FakeApi:
    """A scripted API: answers from `replies` in order, or from `handler` once they run out.

    Every request is recorded in `sent`; a request nobody scripted fails the test loudly.
    """

    replies: list[Reply] = field(default_factory=list)
    handler: Callable[[httpx2.Request], Any] | None = None
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.transport = httpx2.MockTransport(self._handle)

    def add(self, *replies: Reply) -> FakeApi:
        self.replies.extend(replies)
        return self

    async def _handle(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        self.sent.append(Sent(request=request, at=time.monotonic(), body=body))
        if self.replies:
            reply: Any = self.replies.pop(0)
        elif self.handler is not None:
            reply = self.handler
        else:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply) and not isinstance(reply, httpx2.Response):
            result = reply(request)
            if inspect.isawaitable(result):
                result = await result
            if isinstance(result, BaseException):
                raise result
            reply = result
        assert isinstance(reply, httpx2.Response)
        return reply

    @property
    def api_requests(self) -> list[Sent]:
        """Requests other than to the OAuth token endpoint."""
        return [s for s in self.sent if s.path != "/oauth/token"]

    @property
    def token_requests(self) -> list[Sent]:
        return [s for s in self.sent if s.path == "/oauth/token"]


def ok(payload: Any = None, *, headers: dict[str, str] | None = None) -> httpx2.Response:
    if payload is None:
        return httpx2.Response(200, headers=headers)
    return httpx2.Response(200, json=payload, headers=headers)


def error(
    status: int,
    code: str | None = None,
    message: str = "nope",
    *,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx2.Response:
    body: dict[str, Any] = {"message": message}
    if code is not None:
        body["code"] = code
    if details is not None:
        body["details"] = details
    return httpx2.Response(status, json=body, headers=headers)


def make_client(
    api: FakeApi,
    *,
    api_token: str | None = API_TOKEN,
    oauth: OAuthCredential | None = None,
    **options: Any,
) -> CapacitiesClient:
    options.setdefault("backoff_base", 0.01)
    options.setdefault("base_url", BASE_URL)
    if oauth is not None:
        api_token = None
    return CapacitiesClient(api_token=api_token, oauth=oauth, transport=api.transport, **options)


def raiser(
    exc_type: type[httpx2.TransportError], message: str = "boom"
) -> Callable[[httpx2.Request], BaseException]:
    """A reply that raises an httpx2 transport error bound to the request."""

    def reply(request: httpx2.Request) -> BaseException:
        return exc_type(message, request=request)

    return reply


# --- response payloads -------------------------------------------------------------------------

TEXT_TOKEN = {"type": "TextToken", "text": "Hello ", "style": {"bold": True}}


def object_payload(**overrides: Any) -> dict[str, Any]:
    """An object using every property and block type the 1.0.0 contract knows."""
    payload: dict[str, Any] = {
        "id": OBJECT_ID,
        "structureId": STRUCTURE_ID,
        "collections": [COLLECTION_ID],
        "properties": {
            "title": {"type": "title", "title": {"value": "Example"}},
            "description": {
                "type": "richText",
                "richText": {
                    "value": [
                        TEXT_TOKEN,
                        {"type": "LinkToken", "text": "site", "url": "https://example.com"},
                        {"type": "LinkToken", "text": "obj", "entityId": OTHER_ID},
                        {"type": "MathToken", "text": "x^2"},
                        {"type": "CodeToken", "text": "print()"},
                    ]
                },
            },
            "notes": {"type": "text", "text": {"value": None}},
            "pages": {"type": "number", "number": {"value": 321}},
            "read": {"type": "boolean", "boolean": {"value": True}},
            "link": {"type": "url", "url": {"value": "https://example.com"}},
            "due": {
                "type": "date",
                "date": {"dateResolution": "day", "start": "2026-08-01T00:00:00.000Z", "end": None},
            },
            "status": {"type": "label", "label": [{"id": "done", "name": "Done", "color": "green"}]},
            "tags": {"type": "entity", "entity": [{"id": OTHER_ID}]},
            "aliases": {"type": "aliases", "aliases": {"value": ["ex"]}},
            "icon": {"type": "icon", "icon": {"value": {"type": "iconify", "val": "ph-star"}}},
            "createdAt": {"type": "createdAt", "createdAt": {"value": "2026-01-01T10:00:00.000Z"}},
            "lastUpdatedAt": {
                "type": "lastUpdatedAt",
                "lastUpdatedAt": {"value": "2026-02-01T10:00:00.000Z"},
            },
        },
        "blocks": {
            "content": [
                {
                    "id": BLOCK_ID,
                    "type": "TextBlock",
                    "tokens": [TEXT_TOKEN],
                    "blocks": [{"id": "b-child", "type": "HorizontalLineBlock"}],
                    "hierarchy": {"key": "H1", "val": 1},
                    "list": {"type": "bullet"},
                    "todo": {"isDone": False},
                    "toggle": None,
                    "quote": {"layout": "normal"},
                    "colorTheme": "bg-red",
                    "highlight": {"type": "custom", "label": "Note", "location": "p. 3"},
                },
                {"id": "b-group", "type": "GroupBlock", "blocks": [], "toggle": {"isOpen": True}},
                {
                    "id": "b-grid",
                    "type": "GridBlock",
                    "columns": [[], []],
                    "dividers": [0.5],
                    "gridLayout": "columns",
                },
                {"id": "b-code", "type": "CodeBlock", "lang": "py", "text": "pass"},
                {"id": "b-math", "type": "MathBlock", "text": "e=mc^2"},
                {"id": "b-entity", "type": "EntityBlock", "entityId": None},
                {"id": "b-unsupported", "type": "unsupported", "blockType": "TableBlock"},
            ]
        },
        "files": [
            {
                "url": "https://files.test/a.pdf",
                "fileType": "application/pdf",
                "expirationDate": "2026-08-01T01:00:00.000Z",
            }
        ],
    }
    payload.update(overrides)
    return copy.deepcopy(payload)  # callers may mutate it; TEXT_TOKEN is shared


def summary(index: int) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{index:012d}",
        "structureId": "RootPage",
        "title": f"Page {index}",
    }
