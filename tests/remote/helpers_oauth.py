"""Helpers for the multi-user tests (no tests here): servers, a person's browser, signed-in clients.

* `remote_server(sandbox)`: a multi-user server in this event loop on a free loopback port,
  pointed at a sandbox with several accounts (the State may be given, to share it between two).
* `Browser(account)`: what a person does in a browser: the consent page here, then the sandbox's
  consent page as `account`, until the redirect to the MCP client (whose URL it returns).
* `signed_in(url, browser)`: a real MCP client (`mcp.Client`) whose HTTP client carries the
  SDK's own client-side OAuth (`OAuthClientProvider`), signing in through that browser.
* `RecordingState`, `HeldState`: in-memory States that note every write, or hold up one user's
  token reads.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import socket
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx2
import uvicorn
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from mcp.types import CallToolResult, TextContent
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from capacities_mcp.remote import (
    MemoryState,
    RemoteRuntime,
    RemoteSettings,
    State,
    TokenCipher,
    build_remote_app,
    open_runtime,
)
from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server import Settings

REDIRECT = "http://127.0.0.1:53682/callback"  # the MCP client's; nothing listens, the browser stops there
ACCOUNTS = ("alice", "bob")


def text_of(result: CallToolResult) -> str:
    return "\n".join(part.text for part in result.content if isinstance(part, TextContent))


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@asynccontextmanager
async def serving(app: ASGIApp, sock: socket.socket) -> AsyncIterator[str]:
    """`app` on `sock` with uvicorn, in this event loop; yields its base URL."""
    # Idle connections are kept longer than clients keep theirs (httpx: 5 s), so a client never
    # reuses one the server is just closing (the MCP client does not survive that ReadError).
    config = uvicorn.Config(
        app, lifespan="on", log_config=None, log_level="warning", ws="none", timeout_keep_alive=30
    )
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: server.serve(sockets=[sock]))
        with anyio.fail_after(20):
            while not server.started:
                await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True


@dataclass
class RemoteServer:
    url: str  # the MCP endpoint
    runtime: RemoteRuntime

    @property
    def origin(self) -> str:
        return self.url.removesuffix("/mcp")


@asynccontextmanager
async def remote_server(
    sandbox: SandboxServer,
    *,
    state: State | None = None,
    cipher: TokenCipher | None = None,
    public_url: str | None = None,
    **overrides: Any,
) -> AsyncIterator[RemoteServer]:
    """A multi-user server on a free port (its public URL is that port's, unless given)."""
    sock = _bound_socket()
    port = sock.getsockname()[1]
    settings = Settings(transport="http", multi_user=True, api_url=sandbox.base_url, port=port)
    public = public_url or f"http://127.0.0.1:{port}"
    remote = RemoteSettings(public_url=public, api_url=sandbox.base_url, **overrides)
    async with open_runtime(settings, remote, state=state, cipher=cipher) as runtime:  # noqa: SIM117
        async with serving(build_remote_app(runtime), sock) as origin:  # the app needs the runtime
            yield RemoteServer(f"{origin}/mcp", runtime)


@asynccontextmanager
async def document_server(documents: dict[str, Callable[[str], dict[str, Any]]]) -> AsyncIterator[str]:
    """A loopback web server answering `path` with `documents[path](its own URL)` as JSON."""

    def endpoint(build: Callable[[str], dict[str, Any]]) -> Callable[[Any], Awaitable[JSONResponse]]:
        async def answer(request: Any) -> JSONResponse:
            return JSONResponse(build(str(request.url)))

        return answer

    app = Starlette(routes=[Route(path, endpoint(build)) for path, build in documents.items()])
    async with serving(app, _bound_socket()) as origin:
        yield origin


@dataclass
class Browser:
    """A person signing in: approves here, picks `account` at Capacities (the sandbox)."""

    account: str
    decision: str = "approve"
    http: httpx2.AsyncClient = field(
        default_factory=lambda: httpx2.AsyncClient(follow_redirects=False, timeout=30)
    )
    visited: list[str] = field(default_factory=list)

    async def get(self, url: str) -> httpx2.Response:
        self.visited.append(url)
        return await self.http.get(url)

    async def consent(self, consent_url: str, decision: str | None = None) -> httpx2.Response:
        """This server's consent page, then the chosen button."""
        page = await self.get(consent_url)
        assert page.status_code == 200, page.text
        fields = dict(re.findall(r'name="(request|csrf)" value="([^"]+)"', page.text))
        form = {**fields, "decision": decision or self.decision}
        return await self.http.post(consent_url.split("?", 1)[0], data=form)

    async def capacities(self, authorize_url: str, decision: str = "approve") -> httpx2.Response:
        """The sandbox's consent page: sign in as `account`."""
        page = await self.get(authorize_url)
        assert page.status_code == 200, page.text
        found = re.search(r'name="request_id" value="([^"]+)"', page.text)
        assert found is not None, page.text
        form = {"request_id": found.group(1), "decision": decision, "account": self.account}
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
        return await self.http.post(f"{origin}/oauth/authorize", data=form)

    async def sign_in(self, authorization_url: str) -> AuthorizationCodeResult:
        """From the MCP server's /authorize to the MCP client's redirect URI."""
        to_consent = await self.get(authorization_url)
        assert to_consent.status_code == 302, to_consent.text
        to_capacities = await self.consent(to_consent.headers["location"])
        location = to_capacities.headers["location"]
        if not location.startswith(REDIRECT):
            back = await self.capacities(location)
            assert back.status_code == 302, back.text
            home = await self.get(back.headers["location"])
            assert home.status_code == 303, home.text
            location = home.headers["location"]
        return redirect_result(location)

    async def aclose(self) -> None:
        await self.http.aclose()


def redirect_result(location: str) -> AuthorizationCodeResult:
    assert location.startswith(REDIRECT), location
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if "error" in query:
        raise SignInRefused(query["error"], query.get("error_description", ""))
    return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))


class SignInRefused(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error


@dataclass
class MemoryStorage:
    """The SDK client's token storage, kept in the test."""

    tokens: OAuthToken | None = None
    client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


def client_metadata(name: str = "Test MCP client") -> OAuthClientMetadata:
    return OAuthClientMetadata(
        client_name=name,
        redirect_uris=[REDIRECT],  # type: ignore[list-item]
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
    )


def oauth_provider(
    url: str, browser: Browser, storage: MemoryStorage, *, document_url: str | None = None
) -> OAuthClientProvider:
    """The SDK's client-side OAuth, signing in through `browser` (with a metadata document URL:
    as a Client ID Metadata Document client; the SDK accepts only https ones up front)."""
    pending: list[str] = []

    async def redirect(authorization_url: str) -> None:
        pending.append(authorization_url)

    async def callback() -> AuthorizationCodeResult:
        return await browser.sign_in(pending.pop())

    provider = OAuthClientProvider(url, client_metadata(), storage, redirect, callback)
    if document_url is not None:
        provider.context.client_metadata_url = document_url  # a loopback http URL, for the test
    return provider


@asynccontextmanager
async def signed_in(
    url: str,
    browser: Browser,
    *,
    storage: MemoryStorage | None = None,
    document_url: str | None = None,
    mode: str = "auto",
    timeout: float = 30.0,
    **client_options: Any,
) -> AsyncIterator[tuple[Client, MemoryStorage, OAuthClientProvider]]:
    """A connected `mcp.Client` whose requests carry this user's tokens (signing in as needed)."""
    storage = storage if storage is not None else MemoryStorage()
    provider = oauth_provider(url, browser, storage, document_url=document_url)
    http = httpx2.AsyncClient(auth=provider, timeout=timeout, follow_redirects=True)
    transport = streamable_http_client(url, http_client=http)
    async with http, Client(transport, mode=mode, **client_options) as client:  # type: ignore[arg-type]
        yield client, storage, provider


class RecordingState(MemoryState):
    """The in-memory State, noting every write: "a bad input stores nothing" is then checkable."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, str]] = []

    async def put(self, namespace: str, key: str, value: bytes, ttl: float | None = None) -> None:
        self.writes.append((namespace, key))
        await super().put(namespace, key, value, ttl)

    async def put_new(self, namespace: str, key: str, value: bytes, ttl: float | None = None) -> bool:
        self.writes.append((namespace, key))
        return await super().put_new(namespace, key, value, ttl)

    def written_since(self, mark: int) -> list[str]:
        return [namespace for namespace, _ in self.writes[mark:]]


class HeldState(MemoryState):
    """The in-memory State, where reading the Capacities tokens of a grant in `held` waits for
    `release` (one user's slow State): `reached` is set when such a read begins, `token_reads`
    counts each grant's reads."""

    def __init__(self) -> None:
        super().__init__()
        self.held: set[str] = set()
        self.reached, self.release = anyio.Event(), anyio.Event()
        self.token_reads: Counter[str] = Counter()

    async def get(self, namespace: str, key: str) -> bytes | None:
        if namespace == "cap-tokens":
            self.token_reads[key] += 1
            if key in self.held:
                self.reached.set()
                await self.release.wait()
        return await super().get(namespace, key)


@dataclass
class ManualClient:
    """An OAuth client driven by hand, for requests no well-behaved client sends."""

    server: RemoteServer
    http: httpx2.AsyncClient = field(default_factory=lambda: httpx2.AsyncClient(timeout=30))
    client_id: str = ""
    client_secret: str = ""

    async def register(self, **metadata: Any) -> httpx2.Response:
        body = {"client_name": "Manual client", "redirect_uris": [REDIRECT], **metadata}
        response = await self.http.post(f"{self.server.origin}/register", json=body)
        if response.status_code == 201:
            self.client_id = response.json()["client_id"]
            self.client_secret = response.json().get("client_secret") or ""
        return response

    def authorize_url(self, challenge: str, **overrides: str | None) -> str:
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "client-state",
            "resource": self.server.url,
        }
        params.update(overrides)
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.server.origin}/authorize?{query}"

    async def code(self, browser: Browser, challenge: str, **overrides: str | None) -> str:
        result = await browser.sign_in(self.authorize_url(challenge, **overrides))
        assert result.state == "client-state"
        return result.code

    async def token(self, **form: str) -> httpx2.Response:
        base = {"client_id": self.client_id}
        if self.client_secret:
            base["client_secret"] = self.client_secret
        return await self.http.post(f"{self.server.origin}/token", data={**base, **form})

    async def exchange(self, code: str, verifier: str, **extra: str) -> httpx2.Response:
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
        return await self.token(**{**form, "redirect_uri": REDIRECT, **extra})

    async def login(self, browser: Browser) -> dict[str, Any]:
        verifier, challenge = pkce()
        response = await self.exchange(await self.code(browser, challenge), verifier)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def mcp_status(self, access_token: str, url: str | None = None) -> int:
        """POST a tools/list to the MCP endpoint with this token; the HTTP status."""
        response = await self.http.post(
            url or self.server.url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={
                "Authorization": f"Bearer {access_token}",
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2025-11-25",
            },
        )
        return response.status_code

    async def aclose(self) -> None:
        await self.http.aclose()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge
