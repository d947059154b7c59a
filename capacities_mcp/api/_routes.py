"""THE route table: every operation of the Capacities API in one declarative list.

The client builds its requests from it, the sandbox builds its routes, validation and rate limits
from it, and the tests check it against the official OpenAPI document. The first 14 entries are
the 1.0.0 contract of `@capacities/api` 1.0.1; the rest are documented extensions that the live
API serves but the contract does not name (`in_contract=False`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from .models import (
    ApiObject,
    AppendBlocksBody,
    CreateObjectBody,
    CreateObjectFromUrlBody,
    CreateObjectMarkdownBody,
    DailyNoteAppendBody,
    DeleteBlockParams,
    DeleteObjectParams,
    GetObjectMarkdownParams,
    GetObjectParams,
    ListObjectsParams,
    MediaUploadIdBody,
    MediaUploadPart,
    MediaUploadPartParams,
    MediaUploadSession,
    MediaUploadStartBody,
    ObjectListPage,
    ObjectMarkdown,
    SearchObjectsBody,
    SearchResponse,
    Space,
    StructuresResponse,
    UpdateBlockBody,
    UpdateObjectBody,
    UpdateObjectMarkdownBody,
)

__all__ = ["RATE_LIMIT_WINDOW_SECONDS", "ROUTES", "ROUTES_BY_NAME", "Method", "Route", "Scope"]

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
Scope = Literal["api:read", "api:write"]
RATE_LIMIT_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Route:
    """One operation: how to call it, what it takes and returns, who may, and how often."""

    name: str
    method: Method
    path: str
    params: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    scope: Scope
    rate_limit: int
    window_seconds: int = RATE_LIMIT_WINDOW_SECONDS
    in_contract: bool = True
    # The body is raw bytes (`application/octet-stream`: a media part), the query is `params`.
    raw_body: bool = False

    @property
    def key(self) -> str:
        """Rate limits are counted per token and per `METHOD /path`."""
        return f"{self.method} {self.path}"

    @property
    def is_read(self) -> bool:
        """Changes nothing: the GETs, and search (a POST)."""
        return self.scope == "api:read"

    @property
    def idempotent(self) -> bool:
        """Sending it twice does what sending it once does: only the reads.

        Every write counts as not idempotent, PATCH and DELETE included: an update appends blocks,
        a delete may meet a restore. So a write is never resent once it may have reached the API,
        and its errors say whether it may have been applied (`maybe_applied`).
        """
        return self.is_read

    @property
    def request_model(self) -> type[BaseModel] | None:
        return self.params or self.body


_R: Scope = "api:read"
_W: Scope = "api:write"

ROUTES: tuple[Route, ...] = (
    Route("space.get", "GET", "/space", None, None, Space, _R, 10),
    Route("space.structures", "GET", "/space/structures", None, None, StructuresResponse, _R, 10),
    Route("object.get", "GET", "/object", GetObjectParams, None, ApiObject, _R, 30),
    Route("object.create", "POST", "/object", None, CreateObjectBody, ApiObject, _W, 30),
    Route("object.update", "PATCH", "/object", None, UpdateObjectBody, ApiObject, _W, 30),
    Route("object.delete", "DELETE", "/object", DeleteObjectParams, None, None, _W, 30),
    Route("object.create_from_url", "POST", "/object/url", None, CreateObjectFromUrlBody, ApiObject, _W, 10),
    Route(
        "object.markdown.get",
        "GET",
        "/object/markdown",
        GetObjectMarkdownParams,
        None,
        ObjectMarkdown,
        _R,
        30,
    ),
    Route(
        "object.markdown.create",
        "POST",
        "/object/markdown",
        None,
        CreateObjectMarkdownBody,
        ApiObject,
        _W,
        30,
    ),
    Route("objects.search", "POST", "/objects/search", None, SearchObjectsBody, SearchResponse, _R, 30),
    Route("blocks.append", "POST", "/blocks/append", None, AppendBlocksBody, ApiObject, _W, 30),
    Route(
        "blocks.daily_note.append",
        "POST",
        "/blocks/daily-note/append",
        None,
        DailyNoteAppendBody,
        None,
        _W,
        30,
    ),
    Route("blocks.block.update", "PATCH", "/blocks/block", None, UpdateBlockBody, ApiObject, _W, 30),
    Route("blocks.block.delete", "DELETE", "/block", DeleteBlockParams, None, ApiObject, _W, 30),
    # Outside the 1.0.0 contract (SDK >= 1.1 and the live API).
    Route(
        "object.markdown.update",
        "PATCH",
        "/object/markdown",
        None,
        UpdateObjectMarkdownBody,
        ApiObject,
        _W,
        30,
        in_contract=False,
    ),
    Route(
        "objects.structure",
        "GET",
        "/objects/structure",
        ListObjectsParams,
        None,
        ObjectListPage,
        _R,
        30,
        in_contract=False,
    ),
    Route(
        "objects.tag",
        "GET",
        "/objects/tag",
        ListObjectsParams,
        None,
        ObjectListPage,
        _R,
        30,
        in_contract=False,
    ),
    Route(
        "objects.collection",
        "GET",
        "/objects/collection",
        ListObjectsParams,
        None,
        ObjectListPage,
        _R,
        30,
        in_contract=False,
    ),
    # Media upload: start, parts, complete or abort (§7.5 of the API notes; quotas a guess).
    Route(
        "media.upload.start",
        "POST",
        "/object/media/upload",
        None,
        MediaUploadStartBody,
        MediaUploadSession,
        _W,
        30,
        in_contract=False,
    ),
    Route(
        "media.upload.part",
        "PUT",
        "/object/media/upload/part",
        MediaUploadPartParams,
        None,
        MediaUploadPart,
        _W,
        30,
        in_contract=False,
        raw_body=True,
    ),
    Route(
        "media.upload.complete",
        "POST",
        "/object/media/upload/complete",
        None,
        MediaUploadIdBody,
        ApiObject,
        _W,
        30,
        in_contract=False,
    ),
    Route(
        "media.upload.abort",
        "POST",
        "/object/media/upload/abort",
        None,
        MediaUploadIdBody,
        None,
        _W,
        30,
        in_contract=False,
    ),
)

ROUTES_BY_NAME: dict[str, Route] = {route.name: route for route in ROUTES}
