"""The server as a Capacities OAuth client (`Upstream`), against a stand-in for Capacities' token
and revocation endpoints on loopback that answers as told and notes what it was sent: the
authorize URL, the code exchange and how its failures are worded, best-effort revocation, and a
grant ended by two replicas at once revoked at Capacities once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from capacities_mcp.api import CapacitiesOAuthError, OAuthTokens
from capacities_mcp.auth import Pkce
from capacities_mcp.remote import MemoryState, MultiUserProvider, RemoteSettings, State, TokenCipher
from capacities_mcp.remote._clients import ClientDirectory
from capacities_mcp.remote._upstream import Upstream

from .helpers_oauth import serving
from .helpers_replicas import free_socket

NOBODY = "http://127.0.0.1:9"  # nothing listens there


class FakeCapacities:
    """Capacities' `/oauth/token` (answering `token_answer`) and `/oauth/revoke` (200), noting
    every form it receives."""

    def __init__(self) -> None:
        self.token_answer: tuple[int, dict[str, Any]] = (400, {"error": "invalid_grant"})
        self.token_forms: list[dict[str, str]] = []
        self.revoked: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/oauth/token", self._token, methods=["POST"]),
                Route("/oauth/revoke", self._revoke, methods=["POST"]),
            ]
        )

    async def _token(self, request: Request) -> JSONResponse:
        self.token_forms.append({k: str(v) for k, v in (await request.form()).items()})
        status, body = self.token_answer
        return JSONResponse(body, status_code=status)

    async def _revoke(self, request: Request) -> JSONResponse:
        self.revoked.append(str((await request.form())["token"]))
        return JSONResponse({})


@pytest.fixture
async def capacities() -> AsyncIterator[tuple[FakeCapacities, str]]:
    fake = FakeCapacities()
    async with serving(fake.app, free_socket()) as origin:
        yield fake, origin


@asynccontextmanager
async def replica_at(api_url: str, state: State, cipher: TokenCipher) -> AsyncIterator[MultiUserProvider]:
    """One replica's authorization server and its `Upstream`, on `state`."""
    settings = RemoteSettings(public_url="http://127.0.0.1:8123", api_url=api_url)
    async with httpx2.AsyncClient(timeout=10) as http:
        upstream = Upstream(settings, state, cipher, http)
        yield MultiUserProvider(settings, state, ClientDirectory(settings, state, http), upstream)


@asynccontextmanager
async def upstream_at(api_url: str) -> AsyncIterator[Upstream]:
    async with replica_at(api_url, MemoryState(), TokenCipher.ephemeral()) as provider:
        yield provider.upstream


async def test_the_authorize_url_asks_for_offline_access_with_pkce_and_this_servers_callback() -> None:
    pkce = Pkce.new()
    async with upstream_at("https://api.example") as upstream:
        url = upstream.authorize_url("the-state", pkce.challenge)
    assert url.startswith("https://api.example/oauth/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query == {
        "response_type": "code",
        "client_id": "capacities-mcp",
        "redirect_uri": "http://127.0.0.1:8123/oauth/callback",
        "scope": "api:read api:write offline_access",
        "resource": "https://api.example",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "state": "the-state",
    }


async def test_the_code_exchange_sends_the_verifier_and_keeps_the_tokens(
    capacities: tuple[FakeCapacities, str],
) -> None:
    fake, origin = capacities
    fake.token_answer = (200, {"access_token": "at", "refresh_token": "rt", "expires_in": 60})
    async with upstream_at(origin) as upstream:
        tokens = await upstream.exchange("the-code", "v" * 43)
    assert (tokens.access_token, tokens.refresh_token) == ("at", "rt") and tokens.expires_at is not None
    assert fake.token_forms == [
        {
            "grant_type": "authorization_code",
            "code": "the-code",
            "redirect_uri": "http://127.0.0.1:8123/oauth/callback",
            "client_id": "capacities-mcp",
            "code_verifier": "v" * 43,
        }
    ]


@pytest.mark.parametrize(
    ("status", "body", "message", "error"),
    [
        (
            400,
            {"error": "invalid_grant", "error_description": "code already used"},
            "Capacities refused the sign-in (HTTP 400, invalid_grant)",
            "invalid_grant",
        ),
        (200, {"token_type": "Bearer"}, "Capacities refused the sign-in (HTTP 200)", None),
        (
            200,
            {"access_token": "at"},
            "Capacities issued no refresh token (offline_access was not granted)",
            None,
        ),
    ],
)
async def test_a_refused_exchange_is_worded_for_the_sign_in(
    capacities: tuple[FakeCapacities, str],
    status: int,
    body: dict[str, Any],
    message: str,
    error: str | None,
) -> None:
    fake, origin = capacities
    fake.token_answer = (status, body)
    async with upstream_at(origin) as upstream:
        with pytest.raises(CapacitiesOAuthError) as info:
            await upstream.exchange("the-code", "v" * 43)
    assert info.value.message == message and info.value.error == error


async def test_unreachable_capacities_fails_the_sign_in_and_revocation_is_best_effort() -> None:
    async with upstream_at(NOBODY) as upstream:
        with pytest.raises(CapacitiesOAuthError) as info:
            await upstream.exchange("the-code", "v" * 43)
        await upstream.revoke(OAuthTokens("at", "rt", None))  # does not raise
    assert info.value.message == "Capacities sign-in failed (ConnectError)"
    assert info.value.status is None and isinstance(info.value.__cause__, httpx2.HTTPError)


async def test_a_grant_ended_by_two_replicas_at_once_is_revoked_at_capacities_once(
    capacities: tuple[FakeCapacities, str], replicas: tuple[State, State]
) -> None:
    """Each replica's `revoke_grant` takes the grant's tokens from the shared State; of the two
    racing for each grant, exactly one gets them and revokes them upstream."""
    fake, origin = capacities
    cipher = TokenCipher.ephemeral()
    grants = [f"grant-{n}" for n in range(8)]
    async with (
        replica_at(origin, replicas[0], cipher) as one,
        replica_at(origin, replicas[1], cipher) as two,
    ):
        for n, grant in enumerate(grants):
            await one.upstream.save(grant, OAuthTokens(f"at-{n}", f"rt-{n}", None))
        async with anyio.create_task_group() as tg:
            for grant in grants:
                tg.start_soon(one.revoke_grant, grant)
                tg.start_soon(two.revoke_grant, grant)
        assert [await two.upstream.load(grant) for grant in grants] == [None] * len(grants)
    assert sorted(fake.revoked) == sorted(f"rt-{n}" for n in range(len(grants)))
