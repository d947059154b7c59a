"""Signing in: OAuth Authorization Code + PKCE through a loopback redirect, or a personal token.

The flow follows RFC 8252 (OAuth for native apps): the CLI is a public client with no secret, so
it proves possession with PKCE (S256) and receives the code on a one-shot HTTP listener bound to
127.0.0.1 on an ephemeral port. The browser is a convenience, never a requirement: the URL is
always printed, and the flow gives up cleanly after a timeout.

Everything that talks to the network is async (httpx2); the loopback listener is a stdlib
`http.server` on a daemon thread, because a browser sends one request and that is all we need.
"""

from __future__ import annotations

import html
import os
import secrets
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.to_thread
import httpx2

from ..api import CapacitiesApiError, CapacitiesClient, CapacitiesError, CapacitiesOAuthError, OAuthTokens
from ._oauth_client import (
    DEFAULT_SCOPES,
    OAuthEndpoints,
    Pkce,
    authorize_url,
    redeem_code,
    revoke_token,
)
from ._store import (
    SecretStorage,
    StoredCredentials,
    TokenStore,
    TokenStoreError,
    normalize_base_url,
)

__all__ = [
    "DEFAULT_SCOPES",
    "DEFAULT_TIMEOUT_SECONDS",
    "EXIT_FAILED",
    "EXIT_TIMEOUT",
    "CallbackResult",
    "LoginError",
    "LoginTimeout",
    "LoopbackReceiver",
    "OAuthEndpoints",
    "Pkce",
    "authorize_url",
    "discover_endpoints",
    "exchange_code",
    "oauth_login",
    "open_browser",
    "revoke_grant",
    "token_login",
]

DEFAULT_TIMEOUT_SECONDS = 300.0
CALLBACK_PATH = "/callback"
EXIT_FAILED = 1
EXIT_TIMEOUT = 3
_HTTP_TIMEOUT = 30.0


class LoginError(Exception):
    """Signing in did not work; the message says why and what to do (never holds a token)."""

    exit_code = EXIT_FAILED


class LoginTimeout(LoginError):
    """Nobody completed the browser step in time."""

    exit_code = EXIT_TIMEOUT


# -- discovery --


async def discover_endpoints(http: httpx2.AsyncClient, base_url: str) -> OAuthEndpoints:
    """RFC 8414 metadata from `/.well-known/oauth-authorization-server`, else the fixed URLs."""
    fallback = OAuthEndpoints.fixed(base_url)
    url = f"{normalize_base_url(base_url)}/.well-known/oauth-authorization-server"
    try:
        response = await http.get(url)
        data = response.json() if response.status_code == 200 else None
    except (httpx2.HTTPError, ValueError):
        return fallback
    if not isinstance(data, dict):
        return fallback

    def pick(key: str, default: str) -> str:
        value = data.get(key)
        return value if isinstance(value, str) and value.startswith(("https://", "http://")) else default

    return OAuthEndpoints(
        pick("authorization_endpoint", fallback.authorization_endpoint),
        pick("token_endpoint", fallback.token_endpoint),
        pick("revocation_endpoint", fallback.revocation_endpoint),
        discovered=True,
    )


# -- the loopback redirect --


@dataclass(frozen=True)
class CallbackResult:
    """What the browser brought back: a code, or an OAuth error (never both)."""

    code: str | None = None
    error: str | None = None
    error_description: str | None = None


class LoopbackReceiver:
    """A one-shot HTTP listener on 127.0.0.1 that receives the authorization response.

    Only `GET /callback` with the exact `state` counts. A wrong state aborts the sign-in (it is
    either a stale tab or a forged request), and so does an `error=` answer such as
    `access_denied`. Other paths (a browser asking for /favicon.ico) get a 404 and are ignored.
    """

    def __init__(self, expected_state: str) -> None:
        self._expected_state = expected_state
        self._done = threading.Event()
        self._result: CallbackResult | None = None
        self._result_lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="capacities-mcp-login", daemon=True
        )

    @property
    def redirect_uri(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{CALLBACK_PATH}"

    def __enter__(self) -> LoopbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    async def wait(self, timeout: float) -> CallbackResult:
        """The callback's result; `LoginTimeout` when nothing came within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self._done.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LoginTimeout(
                    f"No answer from the browser within {timeout:g} s: sign-in timed out. "
                    "Run `capacities-mcp auth login` again (use --timeout for more time)."
                )
            await anyio.to_thread.run_sync(self._done.wait, min(remaining, 0.25))
        assert self._result is not None
        return self._result

    def _settle(self, result: CallbackResult) -> bool:
        with self._result_lock:
            if self._result is not None:
                return False
            self._result = result
        self._done.set()
        return True

    def _handle(self, target: str) -> tuple[int, str, str]:
        """(status, title, message) for one request to the listener."""
        parts = urlsplit(target)
        if parts.path != CALLBACK_PATH:
            return 404, "Not found", "This address only receives the Capacities sign-in."
        query = parse_qs(parts.query, keep_blank_values=True)

        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        if not secrets.compare_digest((one("state") or "").encode(), self._expected_state.encode()):
            settled = self._settle(CallbackResult(error="state_mismatch"))
            return (
                400,
                "Sign-in rejected",
                "The answer did not belong to this sign-in (state mismatch)"
                + (", so it was stopped." if settled else "."),
            )
        error = one("error")
        if error is not None:
            description = one("error_description")
            self._settle(CallbackResult(error=error, error_description=description))
            if error == "access_denied":
                return 200, "Access denied", "You declined access. You can close this tab."
            return 400, "Sign-in failed", f"Capacities answered: {error}."
        code = one("code")
        if not code:
            self._settle(CallbackResult(error="invalid_response", error_description="no code"))
            return 400, "Sign-in failed", "The answer carried no authorization code."
        self._settle(CallbackResult(code=code))
        return 200, "Signed in", "capacities-mcp received the sign-in. You can close this tab."

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "capacities-mcp-login"

            def do_GET(self) -> None:
                status, title, message = receiver._handle(self.path)
                body = (
                    "<!doctype html><meta charset=utf-8>"
                    f"<title>{html.escape(title)}</title>"
                    f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                # The default logs the request line, which holds the authorization code.
                return

        return Handler


# -- the token endpoint --


@dataclass(frozen=True)
class TokenGrant:
    """A token response: the token set and the scopes actually granted."""

    tokens: OAuthTokens
    scopes: tuple[str, ...]


async def exchange_code(
    http: httpx2.AsyncClient,
    endpoints: OAuthEndpoints,
    *,
    code: str,
    verifier: str,
    redirect_uri: str,
    client_id: str,
    requested_scopes: Sequence[str],
) -> TokenGrant:
    """Trade the authorization code (plus the PKCE verifier) for tokens."""
    try:
        data = await redeem_code(
            http, endpoints, code=code, verifier=verifier, redirect_uri=redirect_uri, client_id=client_id
        )
    except CapacitiesOAuthError as exc:
        if exc.status is None:
            raise LoginError(
                f"Could not reach the token endpoint {endpoints.token_endpoint} "
                f"({type(exc.__cause__).__name__})"
            ) from None
        raise LoginError(f"The code exchange failed: {exc.message}") from None
    scope = data.get("scope")
    return TokenGrant(
        tokens=OAuthTokens.from_token_response(data),
        scopes=tuple(scope.split()) if isinstance(scope, str) else tuple(requested_scopes),
    )


async def revoke_grant(
    http: httpx2.AsyncClient, endpoints: OAuthEndpoints, *, token: str, client_id: str
) -> None:
    """RFC 7009 revocation of the whole grant; raises `LoginError` when it did not succeed."""
    try:
        await revoke_token(http, endpoints, token=token, client_id=client_id)
    except CapacitiesOAuthError as exc:
        raise LoginError(exc.message if exc.status is None else f"revocation failed: {exc.message}") from None


# -- the browser --


def open_browser(url: str) -> bool:
    """Try to open `url` in a graphical browser; False when there is none (or it failed).

    On a Linux box without a display, `webbrowser` may pick a text browser that takes over the
    terminal, so we do not try there: the printed URL is enough.
    """
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        return bool(webbrowser.open(url, new=1, autoraise=True))
    except webbrowser.Error:
        return False


# -- the two ways in --


async def oauth_login(
    store: TokenStore,
    *,
    base_url: str,
    client_id: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    browser: Callable[[str], bool] | None = open_browser,
    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    storage: SecretStorage = "file",
) -> StoredCredentials:
    """Run the whole Authorization Code + PKCE flow and store the tokens.

    `browser` opens the authorize URL (None: do not try); the URL is printed either way. Returns
    what was stored, with the space filled in when `GET /space` worked.
    """
    base_url = normalize_base_url(base_url)
    pkce = Pkce.new()
    state = secrets.token_urlsafe(32)
    async with httpx2.AsyncClient(timeout=_HTTP_TIMEOUT) as http:
        endpoints = await discover_endpoints(http, base_url)
        with LoopbackReceiver(state) as receiver:
            url = authorize_url(
                endpoints,
                client_id=client_id,
                redirect_uri=receiver.redirect_uri,
                scopes=scopes,
                resource=base_url,
                challenge=pkce.challenge,
                state=state,
            )
            opened = False
            if browser is not None:
                opened = await anyio.to_thread.run_sync(browser, url)
            say(
                ("Your browser should open. If it does not, open" if opened else "Open")
                + " this address to sign in to Capacities:\n\n    "
                + url
                + f"\n\nWaiting for the answer (up to {timeout:g} s; Ctrl-C to stop)..."
            )
            result = await receiver.wait(timeout)
        if result.error == "access_denied":
            raise LoginError("Access was denied in the browser: nothing was stored.")
        if result.error == "state_mismatch":
            raise LoginError(
                "The browser's answer did not match this sign-in (state mismatch), so it was "
                "rejected: nothing was stored. Run `capacities-mcp auth login` again."
            )
        if result.error is not None or result.code is None:
            detail = f" ({result.error_description})" if result.error_description else ""
            raise LoginError(f"Sign-in failed: {result.error}{detail}. Nothing was stored.")
        grant = await exchange_code(
            http,
            endpoints,
            code=result.code,
            verifier=pkce.verifier,
            redirect_uri=receiver.redirect_uri,
            client_id=client_id,
            requested_scopes=scopes,
        )
        if not grant.tokens.refresh_token:
            say(
                "Warning: no refresh token was issued (is `offline_access` among the scopes?); "
                "this sign-in ends when the access token expires."
            )
        credentials = StoredCredentials(
            kind="oauth",
            base_url=base_url,
            client_id=client_id,
            scopes=grant.scopes,
            tokens=grant.tokens,
            storage=storage,
        )
        replaced = await _store_replacing(store, credentials)
        if (
            replaced is not None
            and replaced.kind == "oauth"
            and replaced.tokens is not None
            and replaced.tokens.refresh_token
            and replaced.client_id
        ):
            # The previous grant is no longer used by anyone: do not leave it alive.
            try:
                old_endpoints = (
                    endpoints
                    if replaced.base_url == base_url
                    else await discover_endpoints(http, replaced.base_url)
                )
                await revoke_grant(
                    http,
                    old_endpoints,
                    token=replaced.tokens.refresh_token,
                    client_id=replaced.client_id,
                )
            except LoginError as exc:
                say(f"Note: the previous sign-in could not be revoked ({exc}).")
    return await _remember_space(store, say)


async def token_login(
    store: TokenStore,
    *,
    base_url: str,
    token: str,
    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    storage: SecretStorage = "file",
) -> StoredCredentials:
    """Check a personal API token with `GET /space`, then store it."""
    base_url = normalize_base_url(base_url)
    token = token.strip()
    if not token:
        raise LoginError("The personal API token is empty.")
    try:
        async with CapacitiesClient(api_token=token, base_url=base_url) as client:
            space = await client.space.get()
    except CapacitiesApiError as exc:
        if exc.status == 401:
            raise LoginError(
                "Capacities rejected this token (401). Create one in the Capacities app: "
                "Settings > Capacities API > Generate new token."
            ) from None
        raise LoginError(f"Could not check the token with GET /space: {exc}") from None
    except CapacitiesError as exc:
        raise LoginError(f"Could not check the token with GET /space: {exc}") from None
    credentials = StoredCredentials(
        kind="api_token",
        base_url=base_url,
        api_token=token,
        space_id=space.id,
        space_title=space.title,
        storage=storage,
    )
    await _store_replacing(store, credentials)
    return store.read() or credentials


async def _store_replacing(store: TokenStore, credentials: StoredCredentials) -> StoredCredentials | None:
    """Write `credentials` under the lock; returns what they replaced (None if nothing usable)."""
    async with store.alock():

        def swap() -> StoredCredentials | None:
            try:
                previous = store.read()
            except TokenStoreError:
                previous = None  # a broken file is exactly what a new sign-in should replace
            store.write(credentials)
            return previous

        return await anyio.to_thread.run_sync(swap)


async def _remember_space(store: TokenStore, say: Callable[[str], None]) -> StoredCredentials:
    """Call `GET /space` with the stored credentials and keep its id and title for `status`.

    Goes through the store-backed credential, so a refresh on the way is persisted.
    """
    stored = store.read()
    if stored is None:
        raise LoginError("The credentials vanished right after they were stored.")
    try:
        async with CapacitiesClient(**stored.client_kwargs()) as client:
            space = await client.space.get()
    except CapacitiesError as exc:
        say(f"Warning: signed in, but GET /space failed: {exc}")
        return store.read() or stored

    async with store.alock():

        def update() -> StoredCredentials:
            current = store.read()
            if current is None or not current.same_grant_as(stored):
                return current or stored
            return store.write(replace(current, space_id=space.id, space_title=space.title))

        return await anyio.to_thread.run_sync(update)
