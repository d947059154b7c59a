"""The sandbox's OAuth 2.0 provider: authorization code + PKCE (S256) for public clients.

Mirrors what is known of the real one (capacities-api.md §2.4): a `resource` parameter that must
name the API, refresh tokens that rotate on every use, a revoke endpoint that ends the whole
grant, RFC 6749 JSON errors. Where the real behaviour is unknown the sandbox is strict:
reusing a rotated refresh token (or a used code) revokes the grant when `reuse_detection` is on.
Tokens are stored only as hashes (in the store, so grants survive a restart); authorization
codes and pending consent requests live in memory. With several accounts the consent page asks
which one signs in, and the grant opens that account's space only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ._faults import Faults
from ._store import SandboxStore, TokenGrant, hash_token

__all__ = ["OAUTH_CLIENT_ID", "OAUTH_SCOPES", "OAuthProvider", "is_loopback_redirect"]

OAUTH_CLIENT_ID = "capacities-mcp"
OAUTH_SCOPES = ("api:read", "api:write", "offline_access")
_API_SCOPES = frozenset({"api:read", "api:write"})
_CODE_LIFETIME = 600.0
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def is_loopback_redirect(uri: str) -> bool:
    """The registered client's allow-list: any `http://127.0.0.1|localhost:<port>/<path>`."""
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and (parts.hostname or "") in _LOOPBACK_HOSTS
        and not parts.fragment
        and not parts.username
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _s256(verifier: str) -> str:
    return _b64url(hashlib.sha256(verifier.encode()).digest())


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
            headers=_NO_STORE,
        )


@dataclass
class _AuthRequest:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str
    state: str | None
    account: str | None = None


@dataclass
class _Code:
    request: _AuthRequest
    expires_at: float
    used: bool = False
    grant_id: str | None = None


@dataclass
class OAuthSettings:
    access_token_lifetime: float = 3600.0
    refresh_token_lifetime: float = 30 * 86400.0
    auto_approve: bool = False
    reuse_detection: bool = True


class OAuthProvider:
    """Authorize, token and revoke endpoints, and the lookup the API uses for bearer tokens."""

    def __init__(
        self,
        store: SandboxStore,
        settings: OAuthSettings,
        faults: Faults,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings
        self.faults = faults
        self.clock = clock
        self._pending: dict[str, _AuthRequest] = {}
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()
        self._signing_key = secrets.token_bytes(32)
        # Account name -> its space id; empty with one account (the store's space is the one).
        self.accounts: dict[str, str] = {}

    # --- discovery -----------------------------------------------------------------------------

    @staticmethod
    def metadata(base_url: str) -> dict[str, Any]:
        return {
            "issuer": base_url,
            "authorization_endpoint": f"{base_url}/oauth/authorize",
            "token_endpoint": f"{base_url}/oauth/token",
            "revocation_endpoint": f"{base_url}/oauth/revoke",
            "scopes_supported": list(OAUTH_SCOPES),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
        }

    # --- authorize -----------------------------------------------------------------------------

    async def authorize(
        self, request: Request, resources: tuple[str, ...], *, trusted: bool = False
    ) -> Response:
        """`resources`: the accepted values of `resource`, canonical one first.

        `trusted`: the request carries the sandbox's admin token. Only then does `auto_approve`
        skip the consent page; otherwise any local process could mint itself a token.
        """
        params = request.query_params
        client_id = params.get("client_id")
        redirect_uri = params.get("redirect_uri") or ""
        # Errors about the client or its redirect URI must not redirect (RFC 6749 §4.1.2.1).
        if not client_id:
            return OAuthError("invalid_request", "client_id is required").response()
        if client_id != OAUTH_CLIENT_ID:
            return OAuthError("invalid_client", f"Unknown client_id {client_id!r}", 401).response()
        if not is_loopback_redirect(redirect_uri):
            return OAuthError(
                "unauthorized_client",
                "redirect_uri is not registered for this client (loopback http URIs only)",
            ).response()
        state = params.get("state")
        try:
            auth = self._check_authorize_params(params, client_id, redirect_uri, state, resources)
        except OAuthError as exc:
            return _redirect(redirect_uri, error=exc.error, error_description=exc.description, state=state)
        if self.settings.auto_approve and trusted:
            return self._approve(auth)
        request_id = secrets.token_urlsafe(24)
        with self._lock:
            self._pending[request_id] = auth
        return HTMLResponse(_consent_page(request_id, auth, list(self.accounts)), headers=_NO_STORE)

    def _check_authorize_params(
        self, params: Any, client_id: str, redirect_uri: str, state: str | None, resources: tuple[str, ...]
    ) -> _AuthRequest:
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "response_type must be `code`")
        resource = (params.get("resource") or "").rstrip("/")
        if resource not in resources:
            raise OAuthError("invalid_target", f"resource must be {resources[0]}")
        challenge = params.get("code_challenge") or ""
        if params.get("code_challenge_method") != "S256" or not challenge:
            raise OAuthError(
                "invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256"
            )
        if not 43 <= len(challenge) <= 128:
            raise OAuthError("invalid_request", "code_challenge must be BASE64URL(SHA256(code_verifier))")
        scopes = tuple(dict.fromkeys((params.get("scope") or "").split()))
        unknown = [s for s in scopes if s not in OAUTH_SCOPES]
        if unknown:
            raise OAuthError("invalid_scope", f"Unknown scope(s): {' '.join(unknown)}")
        if not _API_SCOPES.intersection(scopes):
            raise OAuthError(
                "invalid_scope", "Request api:read and/or api:write (plus offline_access for a refresh token)"
            )
        return _AuthRequest(client_id, redirect_uri, scopes, challenge, state)

    async def decide(self, request: Request) -> Response:
        """The consent form posts here: approve issues a code, deny says access_denied."""
        form = await request.form()
        request_id = str(form.get("request_id") or "")
        with self._lock:
            auth = self._pending.pop(request_id, None)
        if auth is None:
            return OAuthError(
                "invalid_request", "Unknown or already answered authorization request"
            ).response()
        if form.get("decision") != "approve":
            return _redirect(
                auth.redirect_uri,
                error="access_denied",
                error_description="The user denied access",
                state=auth.state,
            )
        if self.accounts:
            account = str(form.get("account") or next(iter(self.accounts)))
            if account not in self.accounts:
                return OAuthError("invalid_request", f"Unknown account {account!r}").response()
            auth.account = account
        return self._approve(auth)

    def _approve(self, auth: _AuthRequest) -> Response:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[hash_token(code)] = _Code(auth, self.clock() + _CODE_LIFETIME)
        return _redirect(auth.redirect_uri, code=code, state=auth.state)

    # --- token ---------------------------------------------------------------------------------

    async def token(self, request: Request, base_url: str) -> Response:
        try:
            form = await self._form(request)
            if form.get("grant_type") == "authorization_code":
                body = self._exchange_code(form, base_url)
            elif form.get("grant_type") == "refresh_token":
                body = self._refresh(form, base_url)
            elif not form.get("grant_type"):
                raise OAuthError("invalid_request", "grant_type is required")
            else:
                raise OAuthError(
                    "unsupported_grant_type", f"Unsupported grant_type {form.get('grant_type')!r}"
                )
        except OAuthError as exc:
            return exc.response()
        return JSONResponse(body, headers=_NO_STORE)

    async def _form(self, request: Request) -> dict[str, str]:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise OAuthError(
                "invalid_request", "Send the parameters form-encoded (application/x-www-form-urlencoded)"
            )
        form = {key: str(value) for key, value in (await request.form()).items()}
        basic = request.headers.get("authorization", "").lower().startswith("basic ")
        if "client_secret" in form or basic:
            raise OAuthError("invalid_request", "This is a public client: do not send a client secret")
        client_id = form.get("client_id")
        if not client_id:
            raise OAuthError("invalid_request", "client_id is required")
        if client_id != OAUTH_CLIENT_ID:
            raise OAuthError("invalid_client", f"Unknown client_id {client_id!r}", 401)
        return form

    def _exchange_code(self, form: dict[str, str], base_url: str) -> dict[str, Any]:
        code = form.get("code")
        verifier = form.get("code_verifier")
        if not code or not verifier or not form.get("redirect_uri"):
            raise OAuthError("invalid_request", "code, code_verifier and redirect_uri are required")
        with self._lock, self.store.lock:
            record = self._codes.get(hash_token(code))
            if record is None or record.expires_at < self.clock():
                raise OAuthError("invalid_grant", "Unknown or expired authorization code")
            if record.used:
                if self.settings.reuse_detection and record.grant_id is not None:
                    self._revoke_grant(record.grant_id)
                raise OAuthError("invalid_grant", "Authorization code was already used")
            auth = record.request
            if auth.client_id != form["client_id"] or auth.redirect_uri != form["redirect_uri"]:
                raise OAuthError(
                    "invalid_grant", "client_id or redirect_uri does not match the authorization request"
                )
            if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(
                _s256(verifier), auth.code_challenge
            ):
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge (PKCE)")
            record.used = True
            grant_id = secrets.token_hex(12)
            record.grant_id = grant_id
            self.store.oauth["grants"][grant_id] = {
                "clientId": auth.client_id,
                "scopes": list(auth.scopes),
                "createdAt": self.clock(),
                "revoked": False,
                **({"account": auth.account} if auth.account is not None else {}),
            }
            body = self._issue(grant_id, list(auth.scopes), base_url)
            self.store.save()
            return body

    def _refresh(self, form: dict[str, str], base_url: str) -> dict[str, Any]:
        token = form.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "refresh_token is required")
        with self.store.lock:
            record = self.store.oauth["refresh"].get(hash_token(token))
            grant = self.store.oauth["grants"].get(record["grant"]) if record else None
            if record is None or grant is None or grant["revoked"]:
                raise OAuthError("invalid_grant", "Unknown or revoked refresh token")
            if grant["clientId"] != form["client_id"]:
                raise OAuthError("invalid_grant", "Refresh token was issued to another client")
            if record["rotated"]:
                if self.settings.reuse_detection:
                    self._revoke_grant(record["grant"])
                    self.store.save()
                    raise OAuthError(
                        "invalid_grant",
                        "Refresh token was already used; the grant has been revoked, sign in again",
                    )
                raise OAuthError("invalid_grant", "Refresh token was already used")
            if record["expiresAt"] < self.clock():
                raise OAuthError("invalid_grant", "Refresh token expired; sign in again")
            scopes = list(grant["scopes"])
            if form.get("scope"):
                asked = form["scope"].split()
                if not set(asked) <= set(scopes):
                    raise OAuthError("invalid_scope", "A refresh cannot widen the granted scopes")
                scopes = [s for s in scopes if s in asked]
            record["rotated"] = True
            body = self._issue(record["grant"], scopes, base_url)
            self.store.save()
            return body

    def _issue(self, grant_id: str, scopes: list[str], base_url: str) -> dict[str, Any]:
        now = self.clock()
        lifetime = self.settings.access_token_lifetime
        access = self._jwt(base_url, grant_id, scopes, now, now + lifetime)
        oauth = self.store.oauth
        # Forget tokens that can no longer be used, so the state stays small.
        for table in ("access", "refresh"):
            for key in [k for k, v in oauth[table].items() if v["expiresAt"] < now]:
                del oauth[table][key]
        oauth["access"][hash_token(access)] = {
            "grant": grant_id,
            "scopes": scopes,
            "expiresAt": now + lifetime,
        }
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(lifetime) if float(lifetime).is_integer() else lifetime,
            "scope": " ".join(scopes),
        }
        if "offline_access" in scopes:
            refresh = secrets.token_urlsafe(40)
            oauth["refresh"][hash_token(refresh)] = {
                "grant": grant_id,
                "rotated": False,
                "expiresAt": now + self.settings.refresh_token_lifetime,
            }
            body["refresh_token"] = refresh
        return body

    def _jwt(self, base_url: str, grant_id: str, scopes: list[str], now: float, expires: float) -> str:
        account = self.store.oauth["grants"].get(grant_id, {}).get("account")
        space_id = self.accounts.get(account, self.store.space["id"]) if account else self.store.space["id"]
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64url(
            json.dumps(
                {
                    "iss": base_url,
                    "aud": base_url,
                    "sub": space_id,
                    "client_id": OAUTH_CLIENT_ID,
                    "scope": " ".join(scopes),
                    "iat": int(now),
                    "exp": int(expires),
                    "jti": secrets.token_hex(12),
                    "gid": grant_id,
                },
                separators=(",", ":"),
            ).encode()
        )
        signature = hmac.new(self._signing_key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64url(signature)}"

    # --- revoke --------------------------------------------------------------------------------

    async def revoke(self, request: Request) -> Response:
        """RFC 7009: always 200 with an empty body; any token of a grant ends the whole grant."""
        try:
            form = {key: str(value) for key, value in (await request.form()).items()}
        except Exception:  # a malformed body still gets the documented answer
            form = {}
        token = form.get("token")
        if token:
            self.revoke_token(token)
        return Response(status_code=200, headers=_NO_STORE)

    def revoke_token(self, token: str) -> bool:
        with self.store.lock:
            digest = hash_token(token)
            record = self.store.oauth["access"].get(digest) or self.store.oauth["refresh"].get(digest)
            if record is None:
                return False
            self._revoke_grant(record["grant"])
            self.store.save()
            return True

    def _revoke_grant(self, grant_id: str) -> None:
        oauth = self.store.oauth
        grant = oauth["grants"].get(grant_id)
        if grant is not None:
            grant["revoked"] = True
        for table in ("access", "refresh"):
            for key in [k for k, v in oauth[table].items() if v["grant"] == grant_id]:
                del oauth[table][key]

    def expire_access_tokens(self) -> int:
        """Make every access token issued so far expired (refresh tokens stay good): the next
        call with one gets 401, so tests can make clients refresh exactly once, when they choose."""
        with self.store.lock:
            records = list(self.store.oauth["access"].values())
            for record in records:
                record["expiresAt"] = 0.0
            self.store.save()
            return len(records)

    # --- bearer lookup -------------------------------------------------------------------------

    def access_grant(self, token: str) -> TokenGrant | None:
        """The grant behind a live access token; None when unknown, revoked or expired."""
        record = self.store.oauth["access"].get(hash_token(token))
        if record is None or self.faults.expire_tokens or record["expiresAt"] <= self.clock():
            return None
        grant = self.store.oauth["grants"].get(record["grant"])
        if grant is None or grant["revoked"]:
            return None
        scopes = frozenset(record["scopes"]) & _API_SCOPES
        return TokenGrant("oauth", scopes, record["grant"], grant.get("account"))


def _redirect(uri: str, **params: str | None) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    separator = "&" if urlsplit(uri).query else "?"
    return RedirectResponse(f"{uri}{separator}{query}", status_code=302, headers=_NO_STORE)


def _consent_page(request_id: str, auth: _AuthRequest, accounts: list[str]) -> str:
    scopes = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in auth.scopes)
    choices = "".join(f'<option value="{html.escape(a)}">{html.escape(a)}</option>' for a in accounts)
    chooser = f'<p><label>Sign in as <select name="account">{choices}</select></label></p>'
    chooser = chooser if accounts else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize {html.escape(auth.client_id)}</title></head>
<body>
<h1>Allow <em>{html.escape(auth.client_id)}</em> to use your Capacities sandbox space?</h1>
<p>It asks for:</p><ul>{scopes}</ul>
<p>You will be sent back to <code>{html.escape(auth.redirect_uri)}</code>.</p>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="request_id" value="{html.escape(request_id)}">
{chooser}
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</body></html>
"""
