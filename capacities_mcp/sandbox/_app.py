"""The sandbox as a Starlette ASGI app: the API routes come from the route table.

Every API request goes through one pipeline, in this order: rate limit (so that every answer,
errors included, carries a `RateLimit` header), forced faults, version header, bearer token,
scope, input validation with the route's model, then the route's handler under the store lock.
Dropped connections and added latency sit in a raw ASGI layer around everything, because
dropping a connection needs the socket, not a response.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio.to_thread
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.routing import Route as StarletteRoute
from starlette.types import Receive, Scope, Send

from capacities_mcp._collector import collector_paused

from ..api import API_VERSION_HEADER, ROUTES, Route, code_for_status, format_issues, issues_from
from ..api.models import ApiObject
from ._account import SandboxAccount
from ._config import CURRENT_API_VERSION, SandboxConfig
from ._errors import SandboxApiError, invalid_input, not_found
from ._faults import Faults
from ._media import MEDIA_FILES_PATH, MediaUploads
from ._oauth import OAUTH_CLIENT_ID, OAuthProvider, OAuthSettings
from ._ratelimit import FixedWindowLimiter, RateDecision
from ._space import (
    ParsedMarkdown,
    SpaceService,
    markdown_document_body,
    store_from_seed,
)
from ._store import PERSONAL_TOKEN_PREFIX, SandboxStore, TokenGrant, hash_token
from ._wire import WireJSONResponse, parse_json

__all__ = ["ADMIN_TOKEN_HEADER", "API_VERSION_HEADER", "SandboxApp", "SandboxRuntime", "create_app"]

# Where the sandbox's admin token goes (`Authorization: Bearer <admin token>` works too).
ADMIN_TOKEN_HEADER = "X-Sandbox-Admin-Token"

logger = logging.getLogger("capacities_mcp.sandbox")

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_UNKNOWN_ROUTE_LIMIT = 30
_CLOUDFLARE_1015 = """<!DOCTYPE html>
<html><head><title>Access denied | api.capacities.io used Cloudflare to restrict access</title></head>
<body><h1>Error 1015</h1><h2>You are being rate limited</h2>
<p>error code: 1015</p></body></html>
"""
_SERVER_ERROR_MESSAGES = {
    "cap_server_error": "Internal server error",
    "cap_service_unavailable": "Service temporarily unavailable",
}

# A route's work on the caller's space: (its account, the validated input) -> the answer.
Handler = Callable[[SandboxAccount, dict[str, Any]], Any]


class SandboxRuntime:
    """One sandbox: config, fault switches, quotas, OAuth, and its accounts' spaces.

    `main` is the space of the data file and of `api_token`; `accounts` are the others
    (config.accounts[1:]), in memory. Only what is a space's own is per account
    (`SandboxAccount`); the quotas, fault switches, OAuth provider and admin token are shared,
    as one API server's would be.
    """

    def __init__(
        self, config: SandboxConfig, *, store: SandboxStore | None = None, faults: Faults | None = None
    ) -> None:
        self.config = config
        self.base_url: str | None = None  # set by the server once it knows its port

        def base_url() -> str:
            return self.base_url or ""

        self.main = SandboxAccount(
            store if store is not None else load_store(config), config, base_url=base_url
        )
        self.accounts: dict[str, SandboxAccount] = {
            name: SandboxAccount(account_store(config, name), config, base_url=base_url)
            for name in config.accounts[1:]
        }
        self.faults = faults if faults is not None else Faults()
        self.limiter = FixedWindowLimiter(config.rate_limit_window)
        self.oauth = OAuthProvider(
            self.store,
            OAuthSettings(
                access_token_lifetime=config.access_token_lifetime,
                refresh_token_lifetime=config.refresh_token_lifetime,
                auto_approve=config.auto_approve,
                reuse_detection=config.reuse_detection,
            ),
            self.faults,
        )
        if config.accounts:  # this provider signs every account in, each into its own space
            self.oauth.accounts = {config.accounts[0]: self.store.space["id"]} | {
                name: account.store.space["id"] for name, account in self.accounts.items()
            }
        # Guards what would otherwise let any local process change the sandbox's behaviour or
        # mint itself a token: the fault switches and OAuth auto-approval. New at every start,
        # unless the config names one (scripts that start the sandbox and then drive it).
        self.admin_token = config.admin_token or secrets.token_urlsafe(32)
        self._min_version = _version_tuple(config.min_api_version)

    # The main space's, for callers that serve one account (most tests, the CLI).
    @property
    def store(self) -> SandboxStore:
        return self.main.store

    @property
    def service(self) -> SpaceService:
        return self.main.service

    @property
    def media(self) -> MediaUploads:
        return self.main.media

    def account(self, name: str | None) -> SandboxAccount:
        """An account's space (None, the first account or an unknown name: the main one)."""
        return self.accounts.get(name, self.main) if name is not None else self.main

    def every_account(self) -> tuple[SandboxAccount, ...]:
        """The main space first, then the others: where a token or a file may be."""
        return (self.main, *self.accounts.values())

    # --- credentials ---------------------------------------------------------------------------

    def mint_token(
        self, scopes: tuple[str, ...] | list[str] = ("api:read", "api:write"), *, account: str | None = None
    ) -> str:
        """A personal token of the main space, or of the named account's."""
        bad = [s for s in scopes if s not in ("api:read", "api:write")]
        if bad or not scopes:
            raise ValueError("scopes must be a non-empty subset of api:read, api:write")
        return self.account(account).store.mint_personal_token(scopes)

    def revoke_token(self, token: str) -> bool:
        """Revoke a personal token, or the whole OAuth grant an access/refresh token belongs to."""
        if token.startswith(PERSONAL_TOKEN_PREFIX):
            return any(account.store.revoke_personal_token(token) for account in self.every_account())
        return self.oauth.revoke_token(token)

    def is_admin(self, request: Request) -> bool:
        """True when the request carries this sandbox's admin token (compared in constant time)."""
        presented = request.headers.get(ADMIN_TOKEN_HEADER) or _bearer(request) or ""
        return hmac.compare_digest(presented.encode(), self.admin_token.encode())

    def authenticate(self, token: str | None) -> TokenGrant | None:
        if not token:
            return None
        if token.startswith(PERSONAL_TOKEN_PREFIX):
            for name, account in [(None, self.main), *self.accounts.items()]:
                with account.store.lock:
                    grant = account.store.personal_grant(token)
                if grant is not None:
                    return replace(grant, account=name)
            return None
        with self.store.lock:
            return self.oauth.access_grant(token)

    # --- version -------------------------------------------------------------------------------

    def check_version(self, raw: str | None) -> None:
        if raw is None:
            return
        value = raw.strip()
        if not _SEMVER.match(value):
            raise SandboxApiError(
                400,
                "cap_invalid_input",
                f"Invalid {API_VERSION_HEADER} header {value!r}: expected a semantic version "
                f"such as {CURRENT_API_VERSION}",
            )
        if _version_tuple(value) < self._min_version:
            raise SandboxApiError(
                400,
                "cap_invalid_input",
                f"API version {value} is no longer supported; the minimum supported version is "
                f"{self.config.min_api_version}",
            )

    # --- daily notes and shutdown --------------------------------------------------------------

    def close(self) -> None:
        """Apply queued daily-note appends and let another sandbox serve the data file."""
        for account in (*self.accounts.values(), self.main):
            account.close()

    @property
    def pending_daily_notes(self) -> int:
        """Daily-note appends of the main space still queued."""
        return self.main.pending_daily_notes

    def flush_daily_notes(self) -> None:
        """Apply every queued daily-note append now, in order, in every account's space."""
        for account in self.every_account():
            account.flush_daily_notes()


def _version_tuple(version: str) -> tuple[int, int, int]:
    match = _SEMVER.match(version.strip())
    if match is None:
        raise ValueError(f"Not a semantic version: {version!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def load_store(config: SandboxConfig) -> SandboxStore:
    """The saved state when the data file exists, else the demo space (or an empty one)."""
    path = config.data_path
    if path is not None and path.exists():
        return SandboxStore.load(path)
    if config.seed:
        from ._seed import demo_space

        today = config.clock.today()
        with collector_paused():  # a large generated space is ~a million new objects
            seed = demo_space(today)
            if config.seed_size:
                from ._synthetic import synthetic_space

                seed = synthetic_space(today, config.seed_size, seed=config.seed_random, base=seed)
            store = store_from_seed(seed, data_file=path)
    else:
        store = empty_store(path)
    store.save()
    return store


def account_store(config: SandboxConfig, name: str) -> SandboxStore:
    """Another account's space: the demo space (or an empty one) under its own id and title."""
    if config.seed:
        from ._seed import demo_space

        store = store_from_seed(demo_space(config.clock.today()))
    else:
        store = empty_store()
    store.space = {**store.space, "id": str(uuid.uuid4()), "title": f"{name}'s space"}
    return store


def empty_store(data_file: Path | None = None) -> SandboxStore:
    """A space with only pages and tags, for tests that want to start from nothing."""
    title = {"id": "title", "name": "Title", "type": "title", "writable": True}
    structures = [
        {
            "id": sid,
            "title": name,
            "pluralName": f"{name}s",
            "propertyDefinitions": [dict(title)],
            "labelColor": "gray",
            "collections": [],
        }
        for sid, name in (("RootPage", "Page"), ("RootTag", "Tag"))
    ]
    return SandboxStore(
        space={"id": str(uuid.uuid4()), "title": "Sandbox"},
        structures=structures,
        content_property={
            "RootPage": "content",
            "RootTag": "content",
            "RootDailyNote": "RootDailyNote_notes",
        },
        data_file=data_file,
    )


# --- route handlers ------------------------------------------------------------------------------


def _list(kind: str) -> Handler:
    def handler(space: SandboxAccount, q: dict[str, Any]) -> Any:
        return space.service.list_page(kind, q["id"], q.get("pageSize"), q.get("cursor"))

    return handler


def _delete_object(space: SandboxAccount, q: dict[str, Any]) -> None:
    space.service.delete_object(q["id"], hard=bool(q.get("hardDelete")))


def _daily_note(space: SandboxAccount, body: dict[str, Any]) -> None:
    space.queue(space.service.prepare_daily_note_append(body))


def _object_markdown(space: SandboxAccount, q: dict[str, Any]) -> dict[str, Any]:
    obj = space.service.live_object(q["id"])
    return {"id": obj["id"], "structureId": obj["structureId"], "markdown": space.service.markdown_of(obj)}


HANDLERS: dict[str, Handler] = {
    "space.get": lambda sp, _: sp.store.space,
    "space.structures": lambda sp, _: sp.service.structures_response(),
    "object.get": lambda sp, q: sp.service.live_object(q["id"]),
    "object.create": lambda sp, b: sp.service.create_object(b),
    "object.update": lambda sp, b: sp.service.update_object(b),
    "object.delete": _delete_object,
    "object.create_from_url": lambda sp, b: sp.service.create_from_url(b),
    "object.markdown.get": _object_markdown,
    "object.markdown.create": lambda sp, b: sp.service.create_from_markdown(b["structureId"], b["markdown"]),
    "object.markdown.update": lambda sp, b: sp.service.update_from_markdown(b["id"], b["markdown"]),
    "objects.search": lambda sp, b: sp.service.search(b["query"], b.get("structureIds"), b.get("limit")),
    "objects.structure": _list("structure"),
    "objects.tag": _list("tag"),
    "objects.collection": _list("collection"),
    "blocks.append": lambda sp, b: sp.service.append_blocks(b),
    "blocks.daily_note.append": _daily_note,
    "blocks.block.update": lambda sp, b: sp.service.update_block(b),
    "blocks.block.delete": lambda sp, q: sp.service.delete_block(q["objectId"], q["blockId"]),
    "media.upload.start": lambda sp, b: sp.media.start(b, sp.service),
    "media.upload.part": lambda sp, q: sp.media.part(q),
    "media.upload.complete": lambda sp, b: sp.media.complete(b["id"], sp.service, sp.base_url),
    "media.upload.abort": lambda sp, b: sp.media.abort(b["id"]),
}


# --- the pipeline --------------------------------------------------------------------------------


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _caller(request: Request, token: str | None) -> str:
    """Whose quota a request uses: its bearer token's (valid or not), else its address's."""
    if token is not None:
        return hash_token(token)[:24]
    host = request.client.host if request.client else "unknown"
    return f"anonymous:{host}"


def _error_response(error: SandboxApiError, headers: dict[str, str]) -> JSONResponse:
    return WireJSONResponse(error.body(), status_code=error.status, headers=headers)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_large = SandboxApiError(
        413, "cap_invalid_input", f"Request body too large: the limit is {limit} bytes"
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _validate(model: type[BaseModel], data: Any, *, strict: bool) -> dict[str, Any]:
    try:
        parsed = model.model_validate(data, strict=strict)
    except ValidationError as exc:
        raise SandboxApiError(400, "cap_invalid_input", format_issues(issues_from(exc))) from None
    return parsed.to_wire()  # type: ignore[attr-defined, no-any-return]


async def _request_input(request: Request, route: Route, config: SandboxConfig) -> dict[str, Any]:
    if route.params is not None:
        # Strict too: the models' own before-validators turn "true"/"false" and digit strings
        # into booleans and ints, as the official server does; "yes" or "1.5" stay errors.
        query = _validate(route.params, dict(request.query_params), strict=True)
        if route.raw_body:  # a media part: its bytes, up to the part size
            query["content"] = await _read_body(request, config.upload_part_size)
        return query
    limit = config.max_body_bytes
    if route.body is None:
        return {}
    raw = await _read_body(request, limit)
    # Large bodies (thousands of blocks) take a while to read and validate: off the event loop.
    return await anyio.to_thread.run_sync(_body_input, route.body, raw)


def _body_input(model: type[BaseModel], raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise invalid_input("Invalid input: expected object, received undefined")
    try:
        data = parse_json(raw)
    except ValueError:  # UnicodeDecodeError included
        raise invalid_input("Invalid JSON body") from None
    return _validate(model, data, strict=True)


# Routes whose Markdown becomes blocks, and which part of the request that is.
_MARKDOWN_TO_PARSE: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "object.markdown.create": lambda body: markdown_document_body(body["markdown"]),
    "object.create_from_url": lambda body: body.get("markdown"),
    "blocks.append": lambda body: body.get("markdown"),
    "blocks.daily_note.append": lambda body: body.get("markdown"),
}


async def _parse_markdown_ahead(
    space: SandboxAccount, route: Route, data: dict[str, Any]
) -> ParsedMarkdown | None:
    """Parse a request's Markdown in a worker thread, before the store lock is taken.

    Parsing is the costly part of a large write; done here, other requests (reads and writes)
    are served meanwhile instead of queueing behind the lock.
    """
    text_of = _MARKDOWN_TO_PARSE.get(route.name)
    text = text_of(data) if text_of is not None else None
    if not text:
        return None
    blocks = await anyio.to_thread.run_sync(space.service.parse_markdown, text)
    return ParsedMarkdown(text, blocks)


def _answer(
    space: SandboxAccount,
    route: Route,
    handler: Handler,
    data: dict[str, Any],
    parsed: ParsedMarkdown | None,
    headers: dict[str, str],
) -> Response:
    """Run the route's handler under the store lock (in a worker thread) and render its answer.

    The answer is rendered under the lock too, so it is a snapshot.
    """
    with space.service.markdown_parsed_ahead(parsed), space.store.lock:
        result = handler(space, data)
        if route.response is ApiObject:  # stored objects carry internal fields
            result = space.store.public(result)
        if route.scope == "api:write":
            space.store.save()
        if result is None:
            return Response(status_code=200, headers=headers)
        return WireJSONResponse(result, headers=headers)


def _api_endpoint(runtime: SandboxRuntime, route: Route | None) -> Callable[[Request], Awaitable[Response]]:
    """One endpoint per route of the table (`route=None`: the answer for unknown routes)."""
    handler = HANDLERS[route.name] if route is not None else None

    async def endpoint(request: Request) -> Response:
        token = _bearer(request)
        key = route.key if route is not None else f"{request.method} {request.url.path}"
        limit = route.rate_limit if route is not None else _UNKNOWN_ROUTE_LIMIT
        decision: RateDecision = runtime.limiter.hit(_caller(request, token), key, limit)
        headers = {"RateLimit": decision.header}
        try:
            if not decision.allowed:
                headers["Retry-After"] = str(decision.reset_seconds)
                raise SandboxApiError(429, "cap_rate_limit_exceeded", "Rate limit exceeded")
            faults = runtime.faults
            if faults.html_429:
                return HTMLResponse(_CLOUDFLARE_1015, status_code=429)
            if faults.status is not None:
                code = code_for_status(faults.status)
                if faults.status == 503:
                    headers["Retry-After"] = "1"
                raise SandboxApiError(faults.status, code, _SERVER_ERROR_MESSAGES.get(code, "Server error"))
            runtime.check_version(request.headers.get(API_VERSION_HEADER))
            if route is None or handler is None:
                raise not_found(f"Route {request.method} {request.url.path} not found")
            grant = await anyio.to_thread.run_sync(runtime.authenticate, token)
            if grant is None:
                raise SandboxApiError(
                    401, "cap_not_authenticated", "Missing, invalid, expired or revoked bearer token"
                )
            if route.scope not in grant.scopes:
                raise SandboxApiError(
                    403,
                    "cap_scope_insufficient",
                    f"This token lacks the {route.scope} scope",
                    {"missingScopes": [route.scope]},
                )
            space = runtime.account(grant.account)  # the token's own space, never another's
            data = await _request_input(request, route, runtime.config)
            parsed = await _parse_markdown_ahead(space, route, data)
            # The store lock and the work under it stay off the event loop: one large write must
            # not stall every other connection.
            return await anyio.to_thread.run_sync(_answer, space, route, handler, data, parsed, headers)
        except SandboxApiError as error:
            return _error_response(error, headers)
        except Exception:  # a sandbox bug (or a failed save) still answers like the API
            logger.exception("sandbox: %s %s failed", request.method, request.url.path)
            failure = SandboxApiError(500, "cap_server_error", "Internal server error")
            return _error_response(failure, headers)

    return endpoint


def _base_url(runtime: SandboxRuntime, request: Request) -> str:
    return runtime.base_url or str(request.base_url).rstrip("/")


def _oauth_routes(runtime: SandboxRuntime) -> list[BaseRoute]:
    oauth = runtime.oauth

    def forced_failure() -> Response | None:
        status = runtime.faults.status
        if status is None:
            return None
        error = "temporarily_unavailable" if status == 503 else "server_error"
        return JSONResponse(
            {"error": error, "error_description": "Forced by the sandbox"}, status_code=status
        )

    async def metadata(request: Request) -> Response:
        return JSONResponse(oauth.metadata(_base_url(runtime, request)))

    async def authorize(request: Request) -> Response:
        if request.method == "POST":
            return await oauth.decide(request)
        # The canonical base URL, and the one this request used (127.0.0.1 vs localhost).
        resources = (_base_url(runtime, request), str(request.base_url).rstrip("/"))
        return await oauth.authorize(request, resources, trusted=runtime.is_admin(request))

    async def token(request: Request) -> Response:
        return forced_failure() or await oauth.token(request, _base_url(runtime, request))

    async def revoke(request: Request) -> Response:
        return forced_failure() or await oauth.revoke(request)

    return [
        StarletteRoute("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
        StarletteRoute("/oauth/authorize", authorize, methods=["GET", "POST"]),
        StarletteRoute("/oauth/token", token, methods=["POST"]),
        StarletteRoute("/oauth/revoke", revoke, methods=["POST"]),
    ]


def _control_routes(runtime: SandboxRuntime) -> list[BaseRoute]:
    """`/_sandbox/*`: health (open) and fault switches (admin token) for sandboxes in another process."""

    async def health(request: Request) -> Response:
        with runtime.store.lock:
            count = sum(1 for _ in runtime.store.live_objects())
        return JSONResponse(
            {
                "status": "ok",
                "spaceId": runtime.store.space["id"],
                "objects": count,
                "oauthClientId": OAUTH_CLIENT_ID,
                "pendingDailyNotes": runtime.pending_daily_notes,
            }
        )

    async def faults(request: Request) -> Response:
        if not runtime.is_admin(request):
            return JSONResponse(
                {
                    "code": "cap_not_authenticated",
                    "message": f"The fault switches need the sandbox's admin token in the "
                    f"{ADMIN_TOKEN_HEADER} header (printed by 'capacities-mcp sandbox' on stderr)",
                },
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="capacities-sandbox-admin"'},
            )
        if request.method == "POST":
            try:
                raw = await request.body()
                changes = json.loads(raw) if raw.strip() else {}
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object of fault switches")
                # `{}` or `{"reset": true, ...}` starts from all switches off.
                reset = not changes or changes.pop("reset", False) is True
                runtime.faults.update(changes, reset=reset)
            except ValueError as exc:
                return JSONResponse({"code": "cap_invalid_input", "message": str(exc)}, status_code=400)
        return JSONResponse(runtime.faults.snapshot())

    async def media_file(request: Request) -> Response:
        """An uploaded file at its object's `files[0].url` (the `sig` stands in for a signed URL)."""
        object_id, signature = request.path_params["object_id"], request.query_params.get("sig", "")
        for space in runtime.every_account():
            with space.store.lock:
                stored = space.media.file(object_id, signature)
            if stored is not None:
                return Response(stored.data, media_type=stored.file_type)
        return JSONResponse({"code": "cap_not_found", "message": "No such file"}, status_code=404)

    return [
        StarletteRoute("/_sandbox/health", health, methods=["GET"]),
        StarletteRoute("/_sandbox/faults", faults, methods=["GET", "POST"]),
        StarletteRoute(MEDIA_FILES_PATH + "/{object_id}", media_file, methods=["GET"]),
    ]


def _api_routes(runtime: SandboxRuntime) -> list[BaseRoute]:
    missing = [route.name for route in ROUTES if route.name not in HANDLERS]
    if missing:
        raise RuntimeError(f"No sandbox handler for route(s): {', '.join(missing)}")
    # Methods the table does not name on a known path answer 404, like unknown paths.
    return [
        StarletteRoute(route.path, _api_endpoint(runtime, route), methods=[route.method]) for route in ROUTES
    ]


class SandboxApp(Starlette):
    """The Starlette app, with the two faults that must act before Starlette sees a request.

    Added latency, and dropped connections: the socket is closed without any response, which
    needs the server's transport (reached through uvicorn's `send`), not a Response.
    """

    runtime: SandboxRuntime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self.runtime.faults
        if scope["type"] == "http" and not scope["path"].startswith("/_sandbox/"):
            if faults.latency > 0:
                await asyncio.sleep(faults.latency)
            if faults.drop_connection:
                transport = getattr(getattr(send, "__self__", None), "transport", None)
                if transport is None:
                    raise ConnectionAbortedError("drop_connection: no transport to abort")
                transport.abort()
                for _ in range(3):  # let the server notice, so it does not try to answer
                    await asyncio.sleep(0)
                return
        await super().__call__(scope, receive, send)


def create_app(config: SandboxConfig | None = None, *, runtime: SandboxRuntime | None = None) -> SandboxApp:
    """The sandbox as an ASGI app (no thread, no socket): serve it with any ASGI server.

    Its state is at `app.runtime` (store, faults, OAuth, `mint_token`).
    """
    runtime = runtime or SandboxRuntime(config or SandboxConfig())
    unknown = _api_endpoint(runtime, None)
    routes = [
        *_api_routes(runtime),
        *_oauth_routes(runtime),
        *_control_routes(runtime),
        StarletteRoute("/{path:path}", unknown, methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"]),
    ]
    app = SandboxApp(routes=routes)
    app.runtime = runtime
    return app
