"""Credentials: a personal API token, or OAuth tokens that refresh themselves.

OAuth access tokens live about an hour and refresh tokens rotate on every use, so a refresh is a
one-way door: the old refresh token stops working the moment a new one is issued. The manager
therefore refreshes at most once for any number of concurrent callers, hands the complete new set
to `on_token_refreshed` (awaited, so it can be persisted) before anyone uses it, and lets the
caller plug in a cross-process lock and a "re-read the store" step for processes sharing tokens.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2

from ._errors import CapacitiesOAuthError

__all__ = ["PROACTIVE_REFRESH_SECONDS", "OAuthCredential", "OAuthTokenManager", "OAuthTokens"]

PROACTIVE_REFRESH_SECONDS = 60


@dataclass(frozen=True)
class OAuthTokens:
    """One token set. `expires_at` is a Unix time in seconds, or None when unknown."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float | None = None

    @classmethod
    def from_token_response(cls, data: Mapping[str, Any], *, previous_refresh_token: str = "") -> OAuthTokens:
        """The set an RFC 6749 token response carries (`access_token` must be checked first).

        Refresh tokens rotate on use: the new one wins; without one the previous one is kept.
        `expires_in` (seconds) becomes an absolute `expires_at`; without it, expiry is unknown.
        """
        expires_in = data.get("expires_in")
        refresh = data.get("refresh_token")
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(refresh) if refresh else previous_refresh_token,
            expires_at=(
                time.time() + float(expires_in)
                if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool)
                else None
            ),
        )

    def near_expiry(self, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) >= self.expires_at - PROACTIVE_REFRESH_SECONDS


@asynccontextmanager
async def _no_lock() -> AsyncIterator[None]:
    yield


@dataclass
class OAuthCredential:
    """OAuth tokens plus what it takes to refresh them.

    `on_token_refreshed` receives every new token set and must persist it; if it raises, the
    error surfaces and the new tokens are not used. For tokens shared between processes, give
    `refresh_lock` (a cross-process lock) and `load_tokens` (re-read the shared store): under the
    lock the manager first adopts tokens another process already rotated instead of spending a
    refresh token that is no longer valid.
    """

    tokens: OAuthTokens
    client_id: str
    on_token_refreshed: Callable[[OAuthTokens], Awaitable[None]] | None = None
    refresh_lock: Callable[[], AbstractAsyncContextManager[object]] | None = None
    load_tokens: Callable[[], Awaitable[OAuthTokens | None]] | None = None


class OAuthTokenManager:
    """Holds the current tokens and refreshes them: proactively, reactively, single-flight."""

    def __init__(self, credential: OAuthCredential, token_url: str, http: httpx2.AsyncClient):
        self._credential = credential
        self._token_url = token_url
        self._http = http
        self._tokens = credential.tokens
        self._lock = anyio.Lock()
        self.refresh_count = 0  # token requests actually sent (for tests and diagnostics)

    @property
    def tokens(self) -> OAuthTokens:
        return self._tokens

    async def access_token(self) -> str:
        """A usable access token, refreshing first when the current one is about to expire."""
        current = self._tokens
        if current.near_expiry():
            await self.refresh(stale_access_token=current.access_token)
        return self._tokens.access_token

    async def refresh(self, *, stale_access_token: str | None = None) -> None:
        """Refresh once; callers whose stale token was already replaced just return.

        `stale_access_token` is the token the caller found wanting (expired or answered 401).
        """
        async with self._lock:
            if stale_access_token is not None and self._tokens.access_token != stale_access_token:
                return  # another caller refreshed while we waited
            lock = self._credential.refresh_lock or _no_lock
            async with lock():
                if await self._adopt_shared_tokens(stale_access_token):
                    return
                # The old refresh token dies as the request arrives: once sent, the new set is
                # kept and persisted even if the caller is cancelled meanwhile (bounded by the
                # HTTP timeout), or the next refresh would spend a dead token.
                with anyio.CancelScope(shield=True):
                    new_tokens = await self._request_new_tokens()
                    if self._credential.on_token_refreshed is not None:
                        await self._credential.on_token_refreshed(new_tokens)
                    self._tokens = new_tokens

    async def _adopt_shared_tokens(self, stale_access_token: str | None) -> bool:
        """Use tokens another process rotated, if the shared store has newer ones."""
        if self._credential.load_tokens is None:
            return False
        latest = await self._credential.load_tokens()
        if latest is None or latest.refresh_token == self._tokens.refresh_token:
            return False
        self._tokens = latest
        fresh = latest.access_token != stale_access_token and not latest.near_expiry()
        return fresh

    async def _request_new_tokens(self) -> OAuthTokens:
        self.refresh_count += 1
        try:
            response = await self._http.post(
                self._token_url,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self._tokens.refresh_token,
                    "client_id": self._credential.client_id,
                },
            )
        except httpx2.HTTPError as exc:
            raise CapacitiesOAuthError(
                f"Token refresh request failed (network error: {type(exc).__name__})", cause=exc
            ) from exc
        if response.status_code < 200 or response.status_code >= 300:
            error = _oauth_error_code(response.text)
            # invalid_grant: the refresh token expired, was revoked or was already rotated; no
            # retry can fix that, only a new sign-in (say so: this text reaches the user).
            raise CapacitiesOAuthError(
                f"Token refresh failed with status {response.status_code}"
                + (f": {error}" if error else "")
                + (
                    "; the refresh token expired or was revoked, so sign in again"
                    if error is not None and error.startswith("invalid_grant")
                    else ""
                ),
                status=response.status_code,
                error=error,
            )
        try:
            data = response.json()
        except ValueError as exc:
            raise CapacitiesOAuthError("Token refresh returned invalid JSON", cause=exc) from exc
        if not isinstance(data, dict) or not data.get("access_token"):
            raise CapacitiesOAuthError("Token refresh response missing access_token")
        return OAuthTokens.from_token_response(data, previous_refresh_token=self._tokens.refresh_token)


def _oauth_error_code(body: str) -> str | None:
    """The RFC 6749 `error` of a failed token response (never its token-bearing parts)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        error: str = parsed["error"]
        description = parsed.get("error_description")
        return error + (f" ({description})" if isinstance(description, str) else "")
    return None
