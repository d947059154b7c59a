"""The HTTP transports (streamable HTTP at /mcp, legacy SSE at /sse) and their guards.

Security model, in the order a request meets it:

1. `HttpGuard` (outermost ASGI middleware):
   * a bearer token, when `CAPACITIES_MCP_HTTP_TOKEN` is set, on every request except GET /health
     (constant-time comparison; 401 with `WWW-Authenticate: Bearer` otherwise). A token is
     mandatory for any bind address other than loopback: the settings refuse to start without.
   * on non-loopback binds, a request carrying an `Origin` header that is not explicitly allowed
     gets 403: browsers always send `Origin` on cross-site requests, MCP clients do not.
   * anything but plain HTTP (and the server's lifespan) is refused: a WebSocket scope is closed
     before it is accepted, which uvicorn answers with 403. uvicorn also runs without WebSocket
     support, so an upgrade request arrives as plain HTTP and meets the checks above.
2. The SDK's `TransportSecuritySettings` (Host and Origin allow-lists against DNS rebinding):
   on for loopback binds (`127.0.0.1:*`, `localhost:*`, `[::1]:*` plus `--allowed-host`s), and for
   other binds when `--allowed-host` is given.

Limits on sessions and on header and body read time are in `_http_limits`.

Uvicorn runs with our logging (stderr, redacted) and the real port is logged once it is bound,
so `--port 0` works for tests and scripts.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING

from ._settings import Settings, is_loopback

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.types import ASGIApp, Receive, Scope, Send

    from ._app import App

__all__ = [
    "MCP_PATH",
    "HttpGuard",
    "endpoint_path",
    "guarded",
    "run_uvicorn",
    "serve_http",
    "transport_security",
]

HEALTH_PATH = "/health"
MCP_PATH = "/mcp"
SSE_PATH = "/sse"
SSE_MESSAGE_PATH = "/messages/"

_log = logging.getLogger("capacities_mcp.server")

_LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
_LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


def endpoint_path(settings: Settings) -> str:
    return SSE_PATH if settings.transport == "sse" else MCP_PATH


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Host/Origin allow-lists for the SDK transport (always explicit, never the SDK default).

    The SDK only protects loopback binds by itself, and silently turns protection off for any
    other host; we pass the settings explicitly so the behaviour is ours and testable.
    """
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = list(settings.allowed_hosts)
    origins = list(settings.allowed_origins)
    if is_loopback(settings.host):
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=_LOOPBACK_HOSTS + hosts,
            allowed_origins=_LOOPBACK_ORIGINS + origins,
        )
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=bool(hosts), allowed_hosts=hosts, allowed_origins=origins
    )


class HttpGuard:
    """Bearer-token check and foreign-Origin refusal in front of the whole ASGI app."""

    def __init__(
        self, app: ASGIApp, *, token: str | None, check_origin: bool, allowed_origins: tuple[str, ...]
    ) -> None:
        self.app = app
        self._token = token.encode() if token else None
        self._check_origin = check_origin
        self._allowed_origins = set(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # a WebSocket: closing it before accepting it answers 403
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        origin = headers.get("origin")
        if (
            self._check_origin
            and origin is not None
            and origin.decode("latin-1") not in self._allowed_origins
        ):
            await _reply(send, 403, {"error": "forbidden", "error_description": "Origin not allowed"})
            return
        if self._token is not None and not (
            scope.get("path") == HEALTH_PATH and scope.get("method") in ("GET", "HEAD")
        ):
            presented = _bearer(headers.get("authorization"))
            if presented is None or not hmac.compare_digest(presented, self._token):
                error = "invalid_token" if presented is not None else "invalid_request"
                await _reply(
                    send,
                    401,
                    {"error": error, "error_description": "A valid bearer token is required"},
                    extra=[(b"www-authenticate", f'Bearer realm="capacities-mcp", error="{error}"'.encode())],
                )
                return
        await self.app(scope, receive, send)


def _bearer(value: bytes | None) -> bytes | None:
    if value is None:
        return None
    scheme, _, credentials = value.strip().partition(b" ")
    if scheme.lower() != b"bearer" or not credentials.strip():
        return None
    return credentials.strip()


async def _reply(
    send: Send, status: int, body: dict[str, str], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def build_asgi_app(app: App) -> ASGIApp:
    """The guarded, bounded Starlette app for the configured HTTP transport."""
    from ._http_limits import SseSessionLimit, evict_longest_idle_sessions

    settings = app.settings
    security = transport_security(settings)
    if settings.transport == "sse":
        inner: ASGIApp = SseSessionLimit(
            app.server.sse_app(
                sse_path=SSE_PATH,
                message_path=SSE_MESSAGE_PATH,
                transport_security=security,
                host=settings.host,
            ),
            path=SSE_PATH,
            max_sessions=settings.max_sessions,
            idle_timeout=settings.session_idle_timeout,
        )
    else:
        inner = app.server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            transport_security=security,
            host=settings.host,
            max_sessions=settings.max_sessions,
            session_idle_timeout=settings.session_idle_timeout,
        )
        evict_longest_idle_sessions(app.server.session_manager)
    return guarded(inner, settings, token=settings.http_token, check_origin=not is_loopback(settings.host))


def guarded(inner: ASGIApp, settings: Settings, *, token: str | None, check_origin: bool) -> ASGIApp:
    """`inner` behind the guard (token, Origin, no WebSocket) and the body-read timeout."""
    from ._http_limits import BodyReadTimeout

    guard = HttpGuard(inner, token=token, check_origin=check_origin, allowed_origins=settings.allowed_origins)
    return BodyReadTimeout(guard, seconds=settings.body_timeout)


async def serve_http(app: App) -> None:
    """Run uvicorn until cancelled, with the runtime (client, sandbox) held open throughout.

    Holding the runtime here means the sandbox is ready before the first request and is shared
    by every SSE connection instead of being rebuilt per connection.
    """
    settings = app.settings
    kind = "SSE" if settings.transport == "sse" else "streamable HTTP"
    note = " (clients must send the bearer token)" if settings.http_token else ""
    async with app.runtime.hold():
        await run_uvicorn(build_asgi_app(app), settings, kind=kind, path=endpoint_path(settings), note=note)


async def run_uvicorn(
    asgi: ASGIApp, settings: Settings, *, kind: str, path: str, note: str = "", url: str | None = None
) -> None:
    """Serve `asgi` until cancelled, and say where once the port is bound (`url`: the public one)."""
    import anyio
    import uvicorn

    from ._http_limits import header_timeout_protocol

    debug = settings.log_level == "DEBUG"
    config = uvicorn.Config(
        asgi,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level="debug" if debug else "warning",
        access_log=debug,
        server_header=False,
        lifespan="on",
        http=header_timeout_protocol(settings.header_timeout),
        ws="none",  # no WebSocket endpoint: an upgrade request is plain HTTP to the guard
        timeout_keep_alive=5,
    )
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:

        async def announce() -> None:
            while not server.started:
                if server.should_exit:
                    return
                await anyio.sleep(0.02)
            port = server.servers[0].sockets[0].getsockname()[1] if server.servers else settings.port
            host = f"[{settings.host}]" if ":" in settings.host else settings.host
            where = url or f"http://{host}:{port}"
            _log.warning("capacities-mcp: serving MCP (%s) at %s%s%s", kind, where, path, note)

        tg.start_soon(announce)
        await server.serve()
        tg.cancel_scope.cancel()
