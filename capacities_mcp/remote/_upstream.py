"""The server as a Capacities OAuth client: the sign-in redirect, the code exchange, revocation,
and each grant's Capacities tokens, kept encrypted in the shared State.

One static client id (`capacities-mcp` unless configured) serves every user, with this server's
callback as its redirect URI; PKCE and a single-use `state` protect each sign-in. The tokens a
grant holds are sealed with `TokenCipher`, bound to the grant by the cipher's `aad`, so a blob
moved to another grant's slot does not decrypt. `credential` gives the API client what it needs
to refresh them once for all replicas: a State lock, and a re-read of the State under it. The
OAuth steps themselves (PKCE, the authorize URL, the exchange, revocation) are `auth`'s, the same
ones `capacities-mcp auth login` takes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx2

from capacities_mcp.api import CapacitiesOAuthError, OAuthCredential, OAuthTokens
from capacities_mcp.auth import (
    DEFAULT_SCOPES,
    OAuthEndpoints,
    authorize_url,
    redeem_code,
    revoke_token,
)

from ._crypto import TokenCipher, TokenDecryptError
from ._settings import RemoteSettings
from ._state import State

__all__ = ["Upstream"]

_NS_TOKENS = "cap-tokens"  # grant id -> sealed Capacities tokens
_REFRESH_LOCK_SECONDS = 30.0


class Upstream:
    """Capacities OAuth endpoints for this server's client id, and each grant's token slot."""

    def __init__(
        self, settings: RemoteSettings, state: State, cipher: TokenCipher, http: httpx2.AsyncClient
    ) -> None:
        self._settings = settings
        self._state = state
        self._cipher = cipher
        self._http = http
        self._endpoints = OAuthEndpoints.fixed(settings.api_url)
        # Called with a grant id when Capacities refuses its refresh token (the user removed the
        # connection, or it expired): the grant ends, so the client's next request gets 401.
        self.on_sign_in_ended: Callable[[str], Awaitable[None]] | None = None

    def authorize_url(self, state: str, challenge: str) -> str:
        return authorize_url(
            self._endpoints,
            client_id=self._settings.oauth_client_id,
            redirect_uri=self._settings.callback_url,
            scopes=DEFAULT_SCOPES,
            resource=self._settings.api_url,
            challenge=challenge,
            state=state,
        )

    async def exchange(self, code: str, verifier: str) -> OAuthTokens:
        """The tokens for a callback's code; `CapacitiesOAuthError` when Capacities refuses."""
        try:
            data = await redeem_code(
                self._http,
                self._endpoints,
                code=code,
                verifier=verifier,
                redirect_uri=self._settings.callback_url,
                client_id=self._settings.oauth_client_id,
            )
        except CapacitiesOAuthError as exc:
            raise _sign_in_failed(exc) from exc.__cause__
        if not data.get("refresh_token"):
            raise CapacitiesOAuthError("Capacities issued no refresh token (offline_access was not granted)")
        return OAuthTokens.from_token_response(data)

    async def revoke(self, tokens: OAuthTokens) -> None:
        """End the Capacities grant behind `tokens` (best effort: revocation at home already happened)."""
        with contextlib.suppress(CapacitiesOAuthError):
            await revoke_token(
                self._http,
                self._endpoints,
                token=tokens.refresh_token,
                client_id=self._settings.oauth_client_id,
            )

    # --- each grant's tokens ---------------------------------------------------------------------

    def _aad(self, grant_id: str) -> bytes:
        return f"{_NS_TOKENS}:{grant_id}".encode()

    async def save(self, grant_id: str, tokens: OAuthTokens) -> None:
        plain = json.dumps(
            {"a": tokens.access_token, "r": tokens.refresh_token, "e": tokens.expires_at}
        ).encode()
        sealed = self._cipher.encrypt(plain, self._aad(grant_id))
        await self._state.put(_NS_TOKENS, grant_id, sealed, ttl=self._settings.refresh_token_lifetime)

    async def load(self, grant_id: str) -> OAuthTokens | None:
        return self._unseal(grant_id, await self._state.get(_NS_TOKENS, grant_id))

    async def forget(self, grant_id: str) -> OAuthTokens | None:
        """Remove a grant's tokens; returns them (to revoke at Capacities) if there were any.

        One atomic take: of replicas ending the grant at once, one gets the tokens and revokes.
        """
        return self._unseal(grant_id, await self._state.take(_NS_TOKENS, grant_id))

    def _unseal(self, grant_id: str, sealed: bytes | None) -> OAuthTokens | None:
        if sealed is None:
            return None
        try:
            data = json.loads(self._cipher.decrypt(sealed, self._aad(grant_id)))
        except TokenDecryptError:
            return None  # sealed with a key no longer configured: the user signs in again
        return OAuthTokens(access_token=data["a"], refresh_token=data["r"], expires_at=data["e"])

    def credential(self, grant_id: str, tokens: OAuthTokens) -> OAuthCredential:
        """What a grant's API client refreshes with: one refresh for all replicas, then shared."""

        async def persist(new: OAuthTokens) -> None:
            await self.save(grant_id, new)

        async def latest() -> OAuthTokens | None:
            return await self.load(grant_id)

        @asynccontextmanager
        async def refreshing() -> AsyncIterator[None]:
            async with self._state.lock(f"cap-refresh:{grant_id}", _REFRESH_LOCK_SECONDS):
                try:
                    yield
                except CapacitiesOAuthError as exc:
                    if (exc.error or "").startswith("invalid_grant") and self.on_sign_in_ended is not None:
                        await self.on_sign_in_ended(grant_id)
                    raise

        return OAuthCredential(
            tokens=tokens,
            client_id=self._settings.oauth_client_id,
            on_token_refreshed=persist,
            refresh_lock=refreshing,
            load_tokens=latest,
        )


def _sign_in_failed(exc: CapacitiesOAuthError) -> CapacitiesOAuthError:
    """The code exchange's failure as the sign-in tells it (never Capacities' description)."""
    if exc.status is None:
        cause = exc.__cause__
        return CapacitiesOAuthError(f"Capacities sign-in failed ({type(cause).__name__})", cause=cause)
    error = f", {exc.error}" if exc.error else ""
    return CapacitiesOAuthError(
        f"Capacities refused the sign-in (HTTP {exc.status}{error})", status=exc.status, error=exc.error
    )
