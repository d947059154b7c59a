"""The steps every Capacities sign-in takes as an OAuth client: PKCE, the authorize URL, the code
exchange and revocation.

`capacities-mcp auth login` (a native app with a loopback redirect) and the multi-user server (one
client id, its own callback) are the same kind of client; they differ in where the code arrives
and in how they word a failure to their reader. So a failure here is a `CapacitiesOAuthError`
with the HTTP status (None: the endpoint was not reached) and the RFC 6749 `error`, and each
caller words it its own way.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx2

from ..api import CapacitiesOAuthError
from ._store import normalize_base_url

__all__ = [
    "DEFAULT_SCOPES",
    "OAuthEndpoints",
    "Pkce",
    "authorize_url",
    "redeem_code",
    "revoke_token",
]

DEFAULT_SCOPES = ("api:read", "api:write", "offline_access")


@dataclass(frozen=True)
class OAuthEndpoints:
    """Where to authorize, exchange and revoke; `discovered` says whether metadata was used."""

    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    discovered: bool = False

    @classmethod
    def fixed(cls, base_url: str) -> OAuthEndpoints:
        """The documented fixed URLs, used when discovery fails (or is not tried)."""
        base = normalize_base_url(base_url)
        return cls(f"{base}/oauth/authorize", f"{base}/oauth/token", f"{base}/oauth/revoke")


@dataclass(frozen=True)
class Pkce:
    """A PKCE pair (RFC 7636, S256): the verifier stays here, the challenge goes to the browser."""

    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        # 64 random bytes -> 86 URL-safe characters, within the 43..128 the RFC allows.
        verifier = secrets.token_urlsafe(64)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        return cls(verifier, challenge)


def authorize_url(
    endpoints: OAuthEndpoints,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str],
    resource: str,
    challenge: str,
    state: str,
) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "resource": resource,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
    }
    separator = "&" if "?" in endpoints.authorization_endpoint else "?"
    return endpoints.authorization_endpoint + separator + urlencode(params)


async def redeem_code(
    http: httpx2.AsyncClient,
    endpoints: OAuthEndpoints,
    *,
    code: str,
    verifier: str,
    redirect_uri: str,
    client_id: str,
) -> dict[str, object]:
    """The token response for an authorization code and its PKCE verifier (with an access token)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "code_verifier": verifier,
    }
    response = await _post(http, endpoints.token_endpoint, form)
    data = _json_object(response)
    access = data.get("access_token") if data is not None else None
    if response.status_code != 200 or data is None or not isinstance(access, str) or not access:
        raise _refused(response, data)
    return data


async def revoke_token(
    http: httpx2.AsyncClient, endpoints: OAuthEndpoints, *, token: str, client_id: str
) -> None:
    """RFC 7009 revocation of the whole grant behind `token`; raises unless Capacities said 200."""
    form = {"token": token, "token_type_hint": "refresh_token", "client_id": client_id}
    response = await _post(http, endpoints.revocation_endpoint, form)
    if response.status_code != 200:
        raise _refused(response, _json_object(response))


async def _post(http: httpx2.AsyncClient, url: str, form: dict[str, str]) -> httpx2.Response:
    try:
        return await http.post(url, data=form)
    except httpx2.HTTPError as exc:
        raise CapacitiesOAuthError(f"could not reach {url} ({type(exc).__name__})", cause=exc) from exc


def _json_object(response: httpx2.Response) -> dict[str, object] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _refused(response: httpx2.Response, data: dict[str, object] | None) -> CapacitiesOAuthError:
    """`HTTP status error (description)`, from the RFC 6749 error fields only (never the body)."""
    error = data.get("error") if data is not None else None
    text = f"HTTP {response.status_code}"
    if isinstance(error, str):
        text += f" {error}"
        description = data.get("error_description") if data is not None else None
        if isinstance(description, str):
            text += f" ({description})"
    return CapacitiesOAuthError(
        text, status=response.status_code, error=error if isinstance(error, str) else None
    )
