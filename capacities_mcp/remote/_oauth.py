"""The MCP authorization server, on the SDK's `mcp.server.auth`, with Capacities as sign-in.

The SDK serves /authorize, /token, /register, /revoke and both metadata documents, and checks
client authentication, redirect URIs, PKCE, code expiry and every bearer token's audience.
This provider supplies what it asks for, all in the shared State so any replica answers:

* `authorize` keeps the request and sends the user to the consent page (`SignIn`), which sends
  them on to Capacities; the callback stores the user's Capacities tokens (encrypted) under a new
  grant and gives the MCP client a single-use code.
* Codes, access tokens and refresh tokens are random and stored only as SHA-256 digests. A code
  is taken atomically (a replayed code finds nothing and ends the grant it produced); refresh
  tokens rotate and a rotated one presented again ends its grant too (theft detection).
* A grant is the unit of revocation: revoking any of its tokens removes the grant and its
  Capacities tokens (and revokes those at Capacities); tokens of a removed grant stop working
  on every replica at their next request, because each request looks its grant up.

MCP clients only ever receive this server's tokens, never a Capacities one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    TokenError,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from capacities_mcp.api import OAuthTokens

from ._clients import ClientDirectory
from ._settings import CONSENT_PATH, MCP_SCOPE, RemoteSettings
from ._state import State
from ._upstream import Upstream

__all__ = [
    "GrantAccessToken",
    "GrantCode",
    "GrantRefreshToken",
    "MultiUserProvider",
    "digest",
    "same_resource",
]

_log = logging.getLogger("capacities_mcp.remote")

NS_REQUEST = "auth-request"  # consent request id -> the MCP client's authorization request
NS_SIGN_IN = "sign-in"  # upstream state -> request + PKCE verifier + browser binding
_NS_CODE = "code"  # digest(code) -> GrantCode
_NS_USED_CODE = "code-used"  # digest(code) -> grant id, for replay detection
_NS_ACCESS = "access"  # digest(token) -> record
_NS_REFRESH = "refresh"  # digest(token) -> record
_NS_ROTATED = "refresh-used"  # digest(token) -> grant id, for reuse detection
_NS_GRANT = "grant"  # grant id -> {client_id, user, created}
REQUEST_TTL = 600.0


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_resource(a: str, b: str) -> bool:
    """RFC 8707 resource identifiers compared as this server writes them (case, trailing slash aside)."""
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def _token_fields(record: dict[str, Any]) -> dict[str, Any]:
    """A stored access or refresh token record as the SDK's token fields (the token itself aside)."""
    return {
        "client_id": record["client_id"],
        "scopes": record["scopes"],
        "expires_at": int(record["expires_at"]),
        "resource": record["resource"],
        "subject": record["subject"],
        "grant_id": record["grant"],
    }


class GrantCode(AuthorizationCode):
    grant_id: str


class GrantRefreshToken(RefreshToken):
    grant_id: str


class GrantAccessToken(AccessToken):
    grant_id: str


class MultiUserProvider(OAuthAuthorizationServerProvider[GrantCode, GrantRefreshToken, GrantAccessToken]):
    """The SDK's provider protocol over the shared State (the identity-assertion grant stays off)."""

    def __init__(
        self,
        settings: RemoteSettings,
        state: State,
        clients: ClientDirectory,
        upstream: Upstream,
        on_revoked: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.state = state
        self.clients = clients
        self.upstream = upstream
        self._on_revoked = on_revoked

    # --- clients ---------------------------------------------------------------------------------

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return await self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        await self.clients.register(client_info)

    # --- authorization ---------------------------------------------------------------------------

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        """Keep the request and send the user to the consent page (nothing stored on an error)."""
        resource = params.resource or self.settings.resource_url
        if not same_resource(resource, self.settings.resource_url):
            raise AuthorizeError("invalid_target", f"resource must be {self.settings.resource_url}")
        request = {
            "client_id": client.client_id,
            "client_name": client.client_name or client.client_id,
            "redirect_uri": str(params.redirect_uri),
            "explicit": params.redirect_uri_provided_explicitly,
            "challenge": params.code_challenge,
            "state": params.state,
            "scopes": params.scopes or [MCP_SCOPE],
            "resource": self.settings.resource_url,
            "issuer": self.settings.public_url,
        }
        request_id = secrets.token_urlsafe(32)
        await self.state.put(NS_REQUEST, request_id, json.dumps(request).encode(), ttl=REQUEST_TTL)
        return f"{self.settings.public_url}{CONSENT_PATH}?request={request_id}"

    async def create_grant(self, request: dict[str, Any], user: str, tokens: OAuthTokens) -> str:
        """After the Capacities sign-in: its tokens, the grant record and the MCP client's code."""
        grant_id = secrets.token_urlsafe(24)
        await self.upstream.save(grant_id, tokens)
        record = {"client_id": request["client_id"], "user": user, "created": time.time()}
        await self.state.put(
            _NS_GRANT, grant_id, json.dumps(record).encode(), ttl=self.settings.refresh_token_lifetime
        )
        code = secrets.token_urlsafe(32)
        stored = GrantCode(
            code=digest(code),
            scopes=request["scopes"],
            expires_at=time.time() + self.settings.code_lifetime,
            client_id=request["client_id"],
            code_challenge=request["challenge"],
            redirect_uri=request["redirect_uri"],
            redirect_uri_provided_explicitly=request["explicit"],
            resource=request["resource"],
            subject=user,
            grant_id=grant_id,
        )
        lifetime = self.settings.code_lifetime
        await self.state.put(_NS_CODE, digest(code), stored.model_dump_json().encode(), ttl=lifetime + 60)
        return code

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> GrantCode | None:
        key = digest(authorization_code)
        raw = await self.state.get(_NS_CODE, key)
        if raw is None:
            used_by = await self.state.get(_NS_USED_CODE, key)
            if used_by is not None:  # a replayed code: whoever holds it may not keep its tokens
                _log.warning("an authorization code was presented twice; its grant is revoked")
                await self.revoke_grant(used_by.decode())
            return None
        return GrantCode.model_validate_json(raw).model_copy(update={"code": authorization_code})

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: GrantCode
    ) -> OAuthToken:
        key = digest(authorization_code.code)
        if await self.state.take(_NS_CODE, key) is None:  # of racing exchanges, one wins
            raise TokenError("invalid_grant", "authorization code was already used")
        grant_id = authorization_code.grant_id
        await self.state.put(_NS_USED_CODE, key, grant_id.encode(), ttl=REQUEST_TTL)
        return await self._issue(
            grant_id,
            client.client_id,
            authorization_code.scopes,
            authorization_code.resource or self.settings.resource_url,
            authorization_code.subject,
        )

    # --- tokens ----------------------------------------------------------------------------------

    async def _issue(
        self, grant_id: str, client_id: str, scopes: list[str], resource: str, subject: str | None
    ) -> OAuthToken:
        now = time.time()
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        lifetime = self.settings.access_token_lifetime
        record: dict[str, Any] = {"grant": grant_id, "client_id": client_id, "scopes": scopes}
        record.update(resource=resource, subject=subject)
        await self.state.put(
            _NS_ACCESS,
            digest(access),
            json.dumps({**record, "expires_at": now + lifetime}).encode(),
            lifetime,
        )
        refresh_lifetime = self.settings.refresh_token_lifetime
        await self.state.put(
            _NS_REFRESH,
            digest(refresh),
            json.dumps({**record, "expires_at": now + refresh_lifetime}).encode(),
            refresh_lifetime,
        )
        return OAuthToken(
            access_token=access, expires_in=int(lifetime), scope=" ".join(scopes), refresh_token=refresh
        )

    async def _live_grant(self, grant_id: str) -> dict[str, Any] | None:
        raw = await self.state.get(_NS_GRANT, grant_id)
        return json.loads(raw) if raw is not None else None

    async def load_access_token(self, token: str) -> GrantAccessToken | None:
        raw = await self.state.get(_NS_ACCESS, digest(token))
        if raw is None:
            return None
        record = json.loads(raw)
        if await self._live_grant(record["grant"]) is None:
            return None
        return GrantAccessToken(token=token, **_token_fields(record))

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> GrantRefreshToken | None:
        key = digest(refresh_token)
        raw = await self.state.get(_NS_REFRESH, key)
        if raw is None:
            rotated_from = await self.state.get(_NS_ROTATED, key)
            if rotated_from is not None:  # a rotated token again: assume it was stolen
                _log.warning("a rotated refresh token was presented again; its grant is revoked")
                await self.revoke_grant(rotated_from.decode())
            return None
        record = json.loads(raw)
        if await self._live_grant(record["grant"]) is None:
            return None
        return GrantRefreshToken(token=refresh_token, **_token_fields(record))

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: GrantRefreshToken, scopes: list[str]
    ) -> OAuthToken:
        key = digest(refresh_token.token)
        if await self.state.take(_NS_REFRESH, key) is None:  # of racing refreshes, one wins
            raise TokenError("invalid_grant", "refresh token was already used")
        grant_id = refresh_token.grant_id
        await self.state.put(_NS_ROTATED, key, grant_id.encode(), ttl=self.settings.refresh_token_lifetime)
        grant = await self._live_grant(grant_id)
        if grant is None:
            raise TokenError("invalid_grant", "the authorization was revoked")
        # The grant lives as long as it is used.
        await self.state.put(
            _NS_GRANT, grant_id, json.dumps(grant).encode(), ttl=self.settings.refresh_token_lifetime
        )
        return await self._issue(
            grant_id,
            client.client_id,
            scopes,
            refresh_token.resource or self.settings.resource_url,
            refresh_token.subject,
        )

    async def revoke_token(self, token: GrantAccessToken | GrantRefreshToken) -> None:
        namespace = _NS_ACCESS if isinstance(token, AccessToken) else _NS_REFRESH
        await self.state.delete(namespace, digest(token.token))
        await self.revoke_grant(token.grant_id)

    async def revoke_grant(self, grant_id: str) -> None:
        """End a grant everywhere: its tokens stop working, its Capacities tokens are revoked."""
        raw = await self.state.take(_NS_GRANT, grant_id)
        tokens = await self.upstream.forget(grant_id)
        if raw is not None:
            _log.info("user %s: authorization revoked", json.loads(raw).get("user"))
        if self._on_revoked is not None:
            await self._on_revoked(grant_id)
        if tokens is not None:
            await self.upstream.revoke(tokens)
