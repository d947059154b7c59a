"""Tokens never show up in reprs or error messages (they end up in logs and in model context)."""

from __future__ import annotations

import traceback
from typing import Any

import httpx2
import pytest

from capacities_mcp.api import (
    CapacitiesApiError,
    CapacitiesClient,
    CapacitiesConnectionError,
    CapacitiesOAuthError,
    OAuthCredential,
    OAuthTokens,
)

from .helpers import API_TOKEN, FakeApi, make_client, raiser

ACCESS = "eyJ-SECRET-ACCESS-token"
REFRESH = "SECRET-REFRESH-token"
SECRETS = (API_TOKEN, ACCESS, REFRESH, "at-NEW-SECRET", "rt-NEW-SECRET")


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {text!r}"


def full_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


def oauth_credential() -> OAuthCredential:
    return OAuthCredential(tokens=OAuthTokens(ACCESS, REFRESH, 1.0), client_id="cid")


def test_reprs_hide_tokens() -> None:
    tokens = OAuthTokens(ACCESS, REFRESH, 123.0)
    assert_clean(repr(tokens))
    assert "123.0" in repr(tokens)
    assert_clean(repr(oauth_credential()))
    personal = CapacitiesClient(api_token=API_TOKEN)
    assert_clean(repr(personal))
    assert "api.capacities.io" in repr(personal)
    oauth = CapacitiesClient(oauth=oauth_credential())
    assert_clean(repr(oauth))
    assert_clean(repr(oauth.oauth_manager))
    assert_clean(repr(oauth.oauth_tokens))


async def test_api_and_connection_errors_do_not_carry_the_token() -> None:
    api = FakeApi(
        [
            httpx2.Response(401, json={"code": "cap_not_authenticated", "message": "Invalid token"}),
            raiser(httpx2.ReadTimeout, "timed out"),
            raiser(httpx2.ConnectError, "refused"),
        ]
    )
    async with make_client(api, max_retries=0) as client:
        for _ in range(3):
            with pytest.raises((CapacitiesApiError, CapacitiesConnectionError)) as caught:
                await client.object.create(structure_id="RootPage")
            assert_clean(full_text(caught.value))


@pytest.mark.parametrize(
    "reply",
    [
        raiser(httpx2.ConnectError, "refused"),
        httpx2.Response(400, json={"error": "invalid_grant", "error_description": "expired"}),
        httpx2.Response(500, text="upstream failed"),
        httpx2.Response(200, text="{broken"),
        httpx2.Response(200, json={"refresh_token": "rt-NEW-SECRET"}),
    ],
    ids=["network", "invalid_grant", "500", "bad json", "no access token"],
)
async def test_oauth_errors_do_not_carry_tokens(reply: Any) -> None:
    api = FakeApi([reply])
    async with make_client(api, oauth=oauth_credential()) as client:  # expired: refresh first
        with pytest.raises(CapacitiesOAuthError) as caught:
            await client.space.get()
    assert_clean(full_text(caught.value))
    assert api.api_requests == []
