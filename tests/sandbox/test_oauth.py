"""The OAuth provider over real HTTP: discovery, consent, PKCE, codes, refresh rotation,
reuse detection, revocation and expiry."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from capacities_mcp.api import CapacitiesApiError, CapacitiesClient, OAuthCredential, OAuthTokens
from capacities_mcp.sandbox import SandboxConfig, SandboxServer, is_loopback_redirect

from .helpers_oauth import REDIRECT, Flow, pkce


@pytest.fixture(scope="module")
def oauth_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(seed=False)) as server:
        yield server


@pytest.fixture
def flow(oauth_sandbox: SandboxServer) -> Iterator[Flow]:
    driver = Flow(oauth_sandbox)
    yield driver
    driver.close()


def _error(response: httpx2.Response) -> str:
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    return str(body["error"])


def test_discovery_metadata(flow: Flow) -> None:
    meta = flow.http.get("/.well-known/oauth-authorization-server").json()
    base = flow.sandbox.base_url
    assert meta == {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "scopes_supported": ["api:read", "api:write", "offline_access"],
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
    }


def test_full_flow_with_rotation_and_reuse_detection(flow: Flow) -> None:
    tokens = flow.login()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["scope"] == "api:read api:write offline_access"
    _header, payload, _ = tokens["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == flow.sandbox.state.space["id"] and claims["exp"] > time.time()
    assert flow.api_status(tokens["access_token"]) == 200
    first_refresh = tokens["refresh_token"]
    rotated = flow.refresh(first_refresh)
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    new = rotated.json()
    assert new["refresh_token"] != first_refresh and new["access_token"] != tokens["access_token"]
    assert flow.api_status(new["access_token"]) == 200
    # Reusing the rotated refresh token is refused and ends the whole grant.
    reuse = flow.refresh(first_refresh)
    assert reuse.status_code == 400 and _error(reuse) == "invalid_grant"
    assert flow.api_status(new["access_token"]) == 401
    assert flow.api_status(tokens["access_token"]) == 401
    assert _error(flow.refresh(new["refresh_token"])) == "invalid_grant"


def test_reuse_detection_off_keeps_the_grant() -> None:
    with SandboxServer(SandboxConfig(seed=False, reuse_detection=False, auto_approve=True)) as sandbox:
        flow = Flow(sandbox)
        try:
            verifier, challenge = pkce()
            redirect = flow.http.get("/oauth/authorize", params=flow.authorize_params(challenge))
            assert redirect.status_code == 302  # auto-approve: no consent page
            code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
            tokens = flow.exchange(code, verifier).json()
            new = flow.refresh(tokens["refresh_token"]).json()
            assert _error(flow.refresh(tokens["refresh_token"])) == "invalid_grant"
            assert flow.api_status(new["access_token"]) == 200
            assert flow.refresh(new["refresh_token"]).status_code == 200
        finally:
            flow.close()


def test_codes_are_single_use_and_pkce_checked(flow: Flow) -> None:
    verifier, challenge = pkce()
    code = flow.code(challenge)
    wrong = flow.exchange(code, secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and _error(wrong) == "invalid_grant"
    first = flow.exchange(code, verifier)
    assert first.status_code == 200
    again = flow.exchange(code, verifier)
    assert _error(again) == "invalid_grant"
    # Replaying a code revokes what it issued.
    assert flow.api_status(first.json()["access_token"]) == 401
    code2 = flow.code(challenge)
    assert (
        _error(
            flow.token(
                grant_type="authorization_code",
                code=code2,
                code_verifier=verifier,
                redirect_uri="http://127.0.0.1:9/other",
            )
        )
        == "invalid_grant"
    )
    assert (
        _error(flow.token(grant_type="authorization_code", code=code2, redirect_uri=REDIRECT))
        == "invalid_request"
    )
    assert _error(flow.exchange("made-up-code", verifier)) == "invalid_grant"


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"resource": None}, "invalid_target"),
        ({"resource": "https://api.capacities.io"}, "invalid_target"),
        ({"scope": "api:read admin"}, "invalid_scope"),
        ({"scope": "offline_access"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_authorize_errors_redirect_with_state(
    flow: Flow, override: dict[str, str | None], error: str
) -> None:
    _, challenge = pkce()
    response = flow.http.get("/oauth/authorize", params=flow.authorize_params(challenge, **override))
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["error"] == [error] and query["state"] == ["xyz-state"] and "code" not in query


def test_authorize_errors_that_must_not_redirect(flow: Flow) -> None:
    _, challenge = pkce()
    for override, status, error in (
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"client_id": None}, 400, "invalid_request"),
        ({"redirect_uri": "https://evil.example/callback"}, 400, "unauthorized_client"),
        ({"redirect_uri": "http://10.0.0.1:8000/cb"}, 400, "unauthorized_client"),
    ):
        response = flow.http.get("/oauth/authorize", params=flow.authorize_params(challenge, **override))
        assert (response.status_code, _error(response)) == (status, error)
        assert "location" not in response.headers


def test_redirect_allow_list() -> None:
    assert is_loopback_redirect("http://127.0.0.1:1234/any/path?x=1")
    assert is_loopback_redirect("http://localhost:8080/cb")
    assert not is_loopback_redirect("https://127.0.0.1:1234/cb")
    assert not is_loopback_redirect("http://127.0.0.1.evil.com/cb")
    assert not is_loopback_redirect("http://user@127.0.0.1:1/cb")
    assert not is_loopback_redirect("http://127.0.0.1:1/cb#frag")


def test_deny_and_stale_consent(flow: Flow) -> None:
    _, challenge = pkce()
    denied = flow.consent(flow.authorize_params(challenge), decision="deny")
    assert denied.status_code == 302
    query = parse_qs(urlsplit(denied.headers["location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["xyz-state"]
    stale = flow.http.post("/oauth/authorize", data={"request_id": "nope", "decision": "approve"})
    assert _error(stale) == "invalid_request"


def test_read_only_grant_and_no_refresh_without_offline_access(flow: Flow) -> None:
    tokens = flow.login(scope="api:read")
    assert "refresh_token" not in tokens and tokens["scope"] == "api:read"
    assert flow.api_status(tokens["access_token"]) == 200
    denied = flow.http.post(
        "/objects/search", headers={"Authorization": f"Bearer {tokens['access_token']}"}, json={"query": "x"}
    )
    assert denied.status_code == 200
    write = flow.http.post(
        "/object",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        json={"structureId": "RootPage"},
    )
    assert write.status_code == 403 and write.json()["details"] == {"missingScopes": ["api:write"]}


def test_token_endpoint_request_errors(flow: Flow) -> None:
    tokens = flow.login()
    refresh = tokens["refresh_token"]
    assert (
        _error(flow.token(grant_type="refresh_token", refresh_token=refresh, client_secret="s"))
        == "invalid_request"
    )
    as_json = flow.http.post(
        "/oauth/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": flow.sandbox.oauth_client_id,
        },
    )
    assert _error(as_json) == "invalid_request"
    unknown = flow.http.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "x"}
    )
    assert (unknown.status_code, _error(unknown)) == (401, "invalid_client")
    assert _error(flow.token(grant_type="password")) == "unsupported_grant_type"
    assert _error(flow.token()) == "invalid_request"
    assert _error(flow.refresh("nope")) == "invalid_grant"
    assert (
        _error(flow.token(grant_type="refresh_token", refresh_token=refresh, scope="api:read admin"))
        == "invalid_scope"
    )
    # None of those attempts spent the refresh token.
    narrowed = flow.token(grant_type="refresh_token", refresh_token=refresh, scope="api:read")
    assert narrowed.status_code == 200 and narrowed.json()["scope"] == "api:read"


def test_revoke_ends_the_whole_grant(flow: Flow) -> None:
    tokens = flow.login()
    rotated = flow.refresh(tokens["refresh_token"]).json()
    response = flow.http.post(
        "/oauth/revoke",
        data={
            "token": rotated["refresh_token"],
            "token_type_hint": "refresh_token",
            "client_id": flow.sandbox.oauth_client_id,
        },
    )
    assert (response.status_code, response.content) == (200, b"")
    assert flow.api_status(rotated["access_token"]) == 401
    assert _error(flow.refresh(rotated["refresh_token"])) == "invalid_grant"
    for data in ({"token": "unknown"}, {}, {"token": rotated["access_token"]}):
        again = flow.http.post("/oauth/revoke", data=data)
        assert (again.status_code, again.content) == (200, b"")
    other = flow.login()
    flow.sandbox.revoke_token(other["access_token"])  # in-process revoke: same effect
    assert flow.api_status(other["access_token"]) == 401
    assert _error(flow.refresh(other["refresh_token"])) == "invalid_grant"


class _HandClock:
    """The provider's clock, moved by the test: a token's lifetime passes when the test says."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_access_tokens_expire_and_client_refreshes() -> None:
    config = SandboxConfig(seed=False, access_token_lifetime=1.0, auto_approve=True)
    with SandboxServer(config) as sandbox:
        clock = sandbox.runtime.oauth.clock = _HandClock()
        flow = Flow(sandbox)
        try:
            verifier, challenge = pkce()
            location = flow.http.get("/oauth/authorize", params=flow.authorize_params(challenge)).headers[
                "location"
            ]
            tokens = flow.exchange(parse_qs(urlsplit(location).query)["code"][0], verifier).json()
            assert tokens["expires_in"] == 1
            assert flow.api_status(tokens["access_token"]) == 200
            clock.now += 1.1  # however long the steps above took, the token was not yet 1 s old
            assert flow.api_status(tokens["access_token"]) == 401
            assert flow.refresh(tokens["refresh_token"]).status_code == 200
        finally:
            flow.close()


async def test_typed_client_refreshes_on_401(flow: Flow) -> None:
    tokens = flow.login()
    seen: list[OAuthTokens] = []

    async def persist(new: OAuthTokens) -> None:
        seen.append(new)

    credential = OAuthCredential(
        tokens=OAuthTokens(access_token=tokens["access_token"], refresh_token=tokens["refresh_token"]),
        client_id=flow.sandbox.oauth_client_id,
        on_token_refreshed=persist,
    )
    async with CapacitiesClient(oauth=credential, base_url=flow.sandbox.base_url) as client:
        assert (await client.space.get()).id == flow.sandbox.state.space["id"]
        flow.sandbox.faults.expire_tokens = True
        try:
            with pytest.raises(CapacitiesApiError) as caught:
                await client.space.get()  # refreshed once, but every access token counts as expired
            assert caught.value.code == "cap_not_authenticated"
        finally:
            flow.sandbox.faults.expire_tokens = False
        assert len(seen) == 1
        assert (await client.space.get()).id == flow.sandbox.state.space["id"]
        # The client's tokens were rotated: the original refresh token is now spent.
        assert _error(flow.refresh(tokens["refresh_token"])) == "invalid_grant"


def test_resource_may_use_localhost_form(flow: Flow) -> None:
    port = urlsplit(flow.sandbox.base_url).port
    _verifier, challenge = pkce()
    with httpx2.Client(base_url=f"http://localhost:{port}", follow_redirects=False) as http:
        params = flow.authorize_params(challenge, resource=f"http://localhost:{port}")
        page = http.get("/oauth/authorize", params=params)
        assert page.status_code == 200, page.headers.get("location")
