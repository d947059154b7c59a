"""The multi-user server: the ordinary tools, behind MCP authorization, each call with its
caller's own Capacities client.

    async with open_runtime(settings, remote) as runtime:
        asgi = build_remote_app(runtime)       # Starlette app: /mcp, OAuth, consent, /health

Streamable HTTP runs stateless (no MCP session lives in a process), so any replica answers any
request; everything a request needs is in the shared State. The SDK's bearer middleware
checks each token and its audience; `MultiUserServer` then finds the grant's `ServerState` in
the pool and runs the tool or resource read with it (`serving`).
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from mcp.server.auth.handlers.metadata import MetadataHandler
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.routes import build_metadata, cors_middleware
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import Context
from mcp.server.request_state import RequestStateSecurity
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, InputRequiredResult, TextContent
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp

from capacities_mcp.api import API_VERSION
from capacities_mcp.server import (
    MCP_PATH,
    CapacitiesMCPServer,
    ServerState,
    Settings,
    active_state,
    guarded,
    populate,
    server_options,
    serving,
    transport_security,
)

from ._clients import ClientDirectory
from ._crypto import TokenCipher, TokenDecryptError
from ._oauth import GrantAccessToken, MultiUserProvider
from ._pool import SignInEnded, UserPool
from ._settings import CALLBACK_PATH, CONSENT_PATH, MCP_SCOPE, RemoteSettings
from ._signin import SignIn
from ._state import State, open_state

__all__ = ["MultiUserServer", "RemoteRuntime", "build_remote_app", "open_runtime"]

_log = logging.getLogger("capacities_mcp.remote")
_SIGNED_OUT = (
    "Your Capacities sign-in for this connection has ended (revoked or expired). Reconnect this "
    "server in your MCP client to sign in again."
)


@dataclass
class RemoteRuntime:
    """What one replica holds open while it serves."""

    settings: Settings
    remote: RemoteSettings
    state: State
    cipher: TokenCipher
    provider: MultiUserProvider
    pool: UserPool
    sign_in: SignIn
    request_state_key: bytes


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    remote: RemoteSettings,
    *,
    state: State | None = None,
    cipher: TokenCipher | None = None,
) -> AsyncIterator[RemoteRuntime]:
    """Open the State (unless given), the outbound HTTP client and the user pool; close them after."""
    from ._upstream import Upstream

    async with AsyncExitStack() as stack:
        if state is None:
            state = open_state(remote.redis_url)
            stack.push_async_callback(state.aclose)
            ping = getattr(state, "ping", None)
            if ping is not None:
                await ping()  # an unreachable Redis fails the start, not the first sign-in
        cipher = cipher or TokenCipher.ephemeral()
        http = httpx2.AsyncClient(timeout=15.0, headers={"User-Agent": "capacities-mcp (multi-user)"})
        stack.push_async_callback(http.aclose)
        api_version = settings.api_version or API_VERSION
        upstream = Upstream(remote, state, cipher, http)
        pool = UserPool(remote, upstream, state, api_version)
        stack.push_async_callback(pool.aclose)
        provider = MultiUserProvider(remote, state, ClientDirectory(remote, state, http), upstream, pool.drop)
        upstream.on_sign_in_ended = provider.revoke_grant
        key = await _shared_key(state, cipher, "request-state")
        yield RemoteRuntime(
            settings, remote, state, cipher, provider, pool, SignIn(provider, api_version), key
        )


async def _shared_key(state: State, cipher: TokenCipher, name: str) -> bytes:
    """A secret every replica agrees on: the first to start makes it, sealed in the State."""
    aad = f"config:{name}".encode()
    await state.put_new("config", name, cipher.encrypt(secrets.token_bytes(32), aad))
    sealed = await state.get("config", name)
    try:
        return cipher.decrypt(sealed or b"", aad)
    except TokenDecryptError:  # sealed under a key no longer configured: make a new one
        fresh = secrets.token_bytes(32)
        await state.put("config", name, cipher.encrypt(fresh, aad))
        return fresh


class MultiUserServer(CapacitiesMCPServer):
    """Tools and resources run with the caller's own `ServerState`, found by their grant."""

    pool: UserPool | None = None

    @asynccontextmanager
    async def _caller(self) -> AsyncIterator[ServerState]:
        token = get_access_token()
        if self.pool is None or not isinstance(token, GrantAccessToken):
            raise SignInEnded("no signed-in user on this request")
        async with self.pool.state_for(token.grant_id) as state:
            with serving(state):
                yield state

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[ServerState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            async with self._caller():
                return await super().call_tool(name, arguments, context)
        except SignInEnded:
            return CallToolResult(content=[TextContent(type="text", text=_SIGNED_OUT)], is_error=True)

    async def list_tools(self) -> Any:
        """The caller's own list (write tools go when their token turns out to lack api:write)."""
        try:
            async with self._caller():
                return await super().list_tools()
        except SignInEnded:
            return await super().list_tools()

    async def read_resource(self, uri: Any, context: Any = None) -> Any:
        async with self._caller():
            return await super().read_resource(uri, context)


async def _current_state() -> ServerState:
    state = active_state()
    if state is None:
        raise RuntimeError("no signed-in user on this request")
    return state


def auth_settings(remote: RemoteSettings) -> AuthSettings:
    """This server as both resource server and authorization server (URLs kept as written: an
    issuer compares as a string, so no trailing slash may appear)."""
    return AuthSettings.model_validate(
        {
            "issuer_url": remote.public_url,
            "resource_server_url": remote.resource_url,
            "client_registration_options": ClientRegistrationOptions(
                enabled=True, valid_scopes=[MCP_SCOPE], default_scopes=[MCP_SCOPE]
            ),
            "revocation_options": RevocationOptions(enabled=True),
            "required_scopes": [MCP_SCOPE],
            "validate_token_resource": True,
        }
    )


def build_remote_app(runtime: RemoteRuntime) -> ASGIApp:
    """The replica's ASGI app (raises ValueError for unknown tool or toolset names)."""
    settings, remote = runtime.settings, runtime.remote
    auth = auth_settings(remote)
    server = MultiUserServer(
        **server_options(settings),
        auth=auth,
        auth_server_provider=runtime.provider,
        request_state_security=RequestStateSecurity(keys=[runtime.request_state_key]),
    )
    server.pool = runtime.pool
    populate(server, settings, _current_state)
    server.custom_route(CONSENT_PATH, methods=["GET", "POST"])(runtime.sign_in.consent)
    server.custom_route(CALLBACK_PATH, methods=["GET"])(runtime.sign_in.callback)
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        transport_security=_transport_security(settings, remote),
        host=settings.host,
    )
    _advertise_client_documents(app, auth)
    # No shared bearer token (OAuth replaces it) and no blanket Origin refusal: bearer tokens are
    # not ambient credentials a browser would send on its own, browser-based MCP clients need
    # CORS on the OAuth endpoints, and the consent form carries its own CSRF check.
    return guarded(app, settings, token=None, check_origin=False)


def _transport_security(settings: Settings, remote: RemoteSettings) -> TransportSecuritySettings:
    """Host and Origin allow-lists: the public URL's, plus what single-user HTTP allows (loopback's
    on a loopback bind, and the configured ones)."""
    public = dataclasses.replace(
        settings,
        allowed_hosts=(remote.netloc, *settings.allowed_hosts),
        allowed_origins=(remote.public_url, *settings.allowed_origins),
    )
    return transport_security(public)


def _advertise_client_documents(app: Starlette, auth: AuthSettings) -> None:
    """RFC 8414 metadata as the SDK builds it, plus what it cannot know: client ids may be
    metadata document URLs, whose clients (public ones) authenticate with no secret, and our
    redirects back to clients carry `iss` (RFC 9207)."""
    metadata = build_metadata(
        auth.issuer_url,
        None,
        auth.client_registration_options or ClientRegistrationOptions(),
        auth.revocation_options or RevocationOptions(),
    )
    metadata.client_id_metadata_document_supported = True
    metadata.authorization_response_iss_parameter_supported = True  # RFC 9207
    metadata.scopes_supported = [MCP_SCOPE]
    methods = ["none", "client_secret_post", "client_secret_basic"]
    metadata.token_endpoint_auth_methods_supported = methods
    metadata.revocation_endpoint_auth_methods_supported = methods
    path = "/.well-known/oauth-authorization-server"
    handler = cors_middleware(MetadataHandler(metadata).handle, ["GET", "OPTIONS"])
    routes: Iterable[Any] = app.router.routes
    for index, route in enumerate(routes):
        if isinstance(route, Route) and route.path == path:
            app.router.routes[index] = Route(path, endpoint=handler, methods=["GET", "OPTIONS"])
            return
    raise RuntimeError("the SDK no longer serves authorization server metadata where expected")
