"""The person's part of an authorization: the consent page, then Capacities, then back.

    /authorize (SDK) -> GET /consent -> POST /consent -> Capacities /oauth/authorize
                     -> GET /oauth/callback -> the MCP client's redirect URI with a code

The browser is bound to its sign-in by a cookie: the consent form must carry the cookie's value
(a forged cross-site POST carries neither), and the callback must come from the browser that
approved (a `state` replayed from elsewhere finds no matching cookie). Each step takes its
record from the State atomically, so a step cannot be repeated, and a bad or stale request
stores nothing. Users appear in logs as a hash of their space id, never by name or token.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from typing import Any

from mcp.server.auth.provider import construct_redirect_uri
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from capacities_mcp.api import CapacitiesClient, CapacitiesError, OAuthCredential
from capacities_mcp.auth import Pkce

from ._oauth import NS_REQUEST, NS_SIGN_IN, REQUEST_TTL, MultiUserProvider, digest
from ._pages import PAGE_HEADERS, consent_page, error_page

__all__ = ["SignIn", "user_hash"]

_log = logging.getLogger("capacities_mcp.remote")


def user_hash(space_id: str) -> str:
    """How logs name a user: stable, short, and not their space id."""
    return digest(f"capacities-space:{space_id}")[:12]


class SignIn:
    """The consent and callback endpoints (Starlette handlers)."""

    def __init__(self, provider: MultiUserProvider, api_version: str) -> None:
        self.provider = provider
        self.settings = provider.settings
        self._api_version = api_version
        secure = self.settings.public_url.startswith("https://")
        # `__Host-` pins the cookie to this exact origin (only allowed with Secure).
        self._cookie = "__Host-capacities-mcp-signin" if secure else "capacities-mcp-signin"
        self._secure = secure

    async def consent(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._decide(request)
        request_id = request.query_params.get("request", "")
        raw = await self.provider.state.get(NS_REQUEST, request_id) if request_id else None
        if raw is None:
            return error_page(
                "This sign-in has expired", "The authorization request is unknown or already used."
            )
        pending = json.loads(raw)
        csrf = request.cookies.get(self._cookie) or secrets.token_urlsafe(32)
        page = consent_page(
            request_id=request_id,
            csrf=csrf,
            client_name=pending["client_name"],
            client_id=pending["client_id"],
            redirect_uri=pending["redirect_uri"],
        )
        page.set_cookie(
            self._cookie, csrf, max_age=int(REQUEST_TTL), httponly=True, secure=self._secure, samesite="lax"
        )
        return page

    async def _decide(self, request: Request) -> Response:
        form = await request.form()
        cookie = request.cookies.get(self._cookie, "")
        csrf = str(form.get("csrf") or "")
        if not cookie or not hmac.compare_digest(cookie.encode(), csrf.encode()):
            return error_page(
                "This sign-in cannot go on", "The form did not come from this browser's consent page."
            )
        raw = await self.provider.state.take(NS_REQUEST, str(form.get("request") or "x"))
        if raw is None:
            return error_page(
                "This sign-in has expired", "The authorization request is unknown or already used."
            )
        pending: dict[str, Any] = json.loads(raw)
        if form.get("decision") != "approve":
            return _back_to_client(pending, error="access_denied", error_description="The user denied access")
        pkce = Pkce.new()
        upstream_state = secrets.token_urlsafe(32)
        record = {**pending, "verifier": pkce.verifier, "browser": digest(cookie)}
        await self.provider.state.put(
            NS_SIGN_IN, upstream_state, json.dumps(record).encode(), ttl=REQUEST_TTL
        )
        target = self.provider.upstream.authorize_url(upstream_state, pkce.challenge)
        return RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)

    async def callback(self, request: Request) -> Response:
        params = request.query_params
        raw = await self.provider.state.take(NS_SIGN_IN, params.get("state") or "x")
        if raw is None:
            return error_page("This sign-in cannot go on", "The state is unknown, already used or expired.")
        pending: dict[str, Any] = json.loads(raw)
        cookie = request.cookies.get(self._cookie, "")
        if not cookie or not hmac.compare_digest(digest(cookie), pending["browser"]):
            return error_page("This sign-in cannot go on", "It was started in another browser.")
        if params.get("error") or not params.get("code"):
            _log.info("Capacities sign-in ended without a code (%s)", params.get("error", "no code"))
            return _back_to_client(
                pending, error="access_denied", error_description="Capacities sign-in was denied"
            )
        try:
            code = await self._signed_in(pending, params["code"])
        except CapacitiesError as exc:
            _log.warning("Capacities sign-in failed: %s", type(exc).__name__)
            return _back_to_client(
                pending, error="server_error", error_description="Capacities sign-in failed"
            )
        response = _back_to_client(pending, code=code)
        response.delete_cookie(self._cookie, secure=self._secure, httponly=True, samesite="lax")
        return response

    async def _signed_in(self, pending: dict[str, Any], upstream_code: str) -> str:
        """Exchange the Capacities code, learn whose space it opens, store the grant."""
        tokens = await self.provider.upstream.exchange(upstream_code, pending["verifier"])
        credential = OAuthCredential(tokens=tokens, client_id=self.settings.oauth_client_id)
        async with CapacitiesClient(
            oauth=credential, base_url=self.settings.api_url, api_version=self._api_version
        ) as client:
            space = await client.space.get()
        user = user_hash(space.id)
        code = await self.provider.create_grant(pending, user, tokens)
        _log.info("user %s signed in through client %r", user, pending["client_name"][:60])
        return code


def _back_to_client(pending: dict[str, Any], **params: str) -> RedirectResponse:
    """To the MCP client's redirect URI with `params`, its own `state`, and this server as `iss`
    (RFC 9207: the client can tell which authorization server answered)."""
    url = construct_redirect_uri(
        pending["redirect_uri"], **params, state=pending.get("state"), iss=pending["issuer"]
    )
    return RedirectResponse(url, status_code=303, headers=PAGE_HEADERS)
