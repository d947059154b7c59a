"""Bad inputs to the authorization server get proper OAuth errors and store nothing.

Driven by hand (`ManualClient`): the requests a well-behaved client never sends. "Nothing
stored" is read from a State that notes every write."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from capacities_mcp.remote import MemoryState
from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from .helpers_oauth import (
    ACCOUNTS,
    REDIRECT,
    Browser,
    ManualClient,
    RecordingState,
    RemoteServer,
    SignInRefused,
    document_server,
    pkce,
    remote_server,
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(accounts=ACCOUNTS, rate_limit_window=0.05)) as server:
        yield server


@asynccontextmanager
async def _manual(
    sandbox: SandboxServer, **settings: Any
) -> AsyncIterator[tuple[RemoteServer, RecordingState, ManualClient]]:
    """A server on a State that notes every write, and a client registered with it."""
    state = RecordingState()
    async with remote_server(sandbox, state=state, **settings) as server:
        client = ManualClient(server)
        assert (await client.register()).status_code == 201
        yield server, state, client
        await client.aclose()


@pytest.fixture
async def setup(sandbox: SandboxServer) -> AsyncIterator[tuple[RemoteServer, RecordingState, ManualClient]]:
    async with _manual(sandbox) as manual:
        yield manual


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def test_wrong_audience_is_refused_at_authorize_and_at_the_endpoint(
    sandbox: SandboxServer, setup: tuple[RemoteServer, RecordingState, ManualClient]
) -> None:
    _, state, client = setup
    _, challenge = pkce()
    mark = len(state.writes)
    answer = await client.http.get(client.authorize_url(challenge, resource="https://other.example/mcp"))
    assert answer.status_code == 302
    assert _query(answer.headers["location"])["error"] == "invalid_target"
    assert answer.headers["location"].startswith(REDIRECT)
    assert state.written_since(mark) == []
    # A token this server issued, shown to another server (another resource) sharing its State.
    browser = Browser("alice")
    tokens = await client.login(browser)
    async with remote_server(sandbox, state=state) as other:
        assert await client.mcp_status(tokens["access_token"], other.url) == 401
    assert await client.mcp_status(tokens["access_token"]) == 200
    await browser.aclose()


async def test_codes_expire_and_a_replayed_code_ends_its_grant(
    sandbox: SandboxServer, setup: tuple[RemoteServer, RecordingState, ManualClient]
) -> None:
    browser = Browser("alice")
    # Codes that expire as they are issued: every exchange comes after the lifetime, however
    # fast or slow the machine (a 1 s lifetime also expired the codes other tests exchange).
    async with _manual(sandbox, code_lifetime=0.0) as (_, expiring_state, expiring):
        verifier, challenge = pkce()
        stale = await expiring.code(browser, challenge)
        mark = len(expiring_state.writes)
        expired = await expiring.exchange(stale, verifier)
        assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
        assert expired.json()["error_description"] == "authorization code has expired"
        assert expiring_state.written_since(mark) == []

    client = setup[2]
    verifier, challenge = pkce()
    code = await client.code(browser, challenge)
    first = await client.exchange(code, verifier)
    assert first.status_code == 200
    replay = await client.exchange(code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert await client.mcp_status(first.json()["access_token"]) == 401  # the grant is gone
    await browser.aclose()


async def test_unknown_client_and_redirect_mismatch(
    setup: tuple[RemoteServer, RecordingState, ManualClient],
) -> None:
    server, state, client = setup
    _, challenge = pkce()
    mark = len(state.writes)
    unknown = await client.http.get(client.authorize_url(challenge, client_id="no-such-client"))
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_request"
    elsewhere = await client.http.get(client.authorize_url(challenge, redirect_uri="http://127.0.0.1:9/evil"))
    assert elsewhere.status_code == 400 and elsewhere.json()["error"] == "invalid_request"
    assert "location" not in elsewhere.headers  # never redirect to an unregistered URI
    token = await client.http.post(
        f"{server.origin}/token", data={"grant_type": "authorization_code", "client_id": "nope", "code": "x"}
    )
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"
    assert state.written_since(mark) == []

    browser = Browser("bob")
    verifier, challenge = pkce()
    code = await client.code(browser, challenge)
    mark = len(state.writes)
    mismatch = await client.exchange(code, verifier, redirect_uri="http://127.0.0.1:53682/other")
    assert mismatch.status_code == 400 and mismatch.json()["error"] == "invalid_request"
    assert state.written_since(mark) == []
    await browser.aclose()


async def test_pkce_is_required_and_checked(setup: tuple[RemoteServer, RecordingState, ManualClient]) -> None:
    _, state, client = setup
    mark = len(state.writes)
    no_challenge = await client.http.get(client.authorize_url("", code_challenge=None))
    assert _query(no_challenge.headers["location"])["error"] == "invalid_request"
    plain = await client.http.get(client.authorize_url("x" * 43, code_challenge_method="plain"))
    assert _query(plain.headers["location"])["error"] == "invalid_request"
    assert state.written_since(mark) == []

    browser = Browser("alice")
    verifier, challenge = pkce()
    code = await client.code(browser, challenge)
    mark = len(state.writes)
    missing = await client.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    wrong = await client.exchange(code, pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert state.written_since(mark) == []
    assert (await client.exchange(code, verifier)).status_code == 200  # the right one still works
    await browser.aclose()


async def test_tampered_or_foreign_state_at_the_callback(
    sandbox: SandboxServer, setup: tuple[RemoteServer, RecordingState, ManualClient]
) -> None:
    _, state, client = setup
    browser = Browser("alice")
    _, challenge = pkce()
    to_consent = await browser.get(client.authorize_url(challenge))
    to_capacities = await browser.consent(to_consent.headers["location"])
    back = await browser.capacities(to_capacities.headers["location"])
    callback = back.headers["location"]
    upstream_state = _query(callback)["state"]
    mark = len(state.writes)
    tampered = await browser.get(callback.replace(upstream_state, upstream_state[:-2] + "xx"))
    assert tampered.status_code == 400 and "cannot go on" in tampered.text
    other_browser = Browser("alice")
    foreign = await other_browser.get(callback)  # the right state, from a browser that did not approve
    assert foreign.status_code == 400
    assert state.written_since(mark) == []
    assert (await browser.get(callback)).status_code == 400  # the state was single-use, even so
    await other_browser.aclose()
    await browser.aclose()


async def test_forged_consent_and_denial(setup: tuple[RemoteServer, RecordingState, ManualClient]) -> None:
    _, state, client = setup
    browser = Browser("alice")
    _, challenge = pkce()
    to_consent = await browser.get(client.authorize_url(challenge))
    consent_url = to_consent.headers["location"]
    request_id = _query(consent_url)["request"]
    mark = len(state.writes)
    forged = await Browser("mallory").http.post(
        consent_url.split("?")[0], data={"request": request_id, "decision": "approve", "csrf": "guess"}
    )
    assert forged.status_code == 400 and state.written_since(mark) == []
    denied = await browser.consent(consent_url, decision="deny")
    assert _query(denied.headers["location"]) == {
        "error": "access_denied",
        "error_description": "The user denied access",
        "state": "client-state",
        "iss": client.server.origin,
    }
    with pytest.raises(SignInRefused):
        await Browser("alice", decision="deny").sign_in(client.authorize_url(challenge))
    await browser.aclose()


def _document(url: str, **changes: Any) -> dict[str, Any]:
    return {"client_id": url, "client_name": "Doc", "redirect_uris": [REDIRECT], **changes}


async def test_client_metadata_documents_that_do_not_hold(sandbox: SandboxServer) -> None:
    documents = {
        "/good.json": _document,
        "/elsewhere.json": lambda url: _document("https://example.com/client.json"),
        "/secret.json": lambda url: _document(url, token_endpoint_auth_method="client_secret_basic"),
        "/no-redirects.json": lambda url: _document(url, redirect_uris=[]),
    }
    state = RecordingState()
    async with document_server(documents) as origin, remote_server(sandbox, state=state) as server:
        client = ManualClient(server)
        _, challenge = pkce()
        for path in ("/elsewhere.json", "/secret.json", "/no-redirects.json", "/missing.json"):
            mark = len(state.writes)
            answer = await client.http.get(client.authorize_url(challenge, client_id=f"{origin}{path}"))
            assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", path
            assert state.written_since(mark) == [], path
        good = await client.http.get(client.authorize_url(challenge, client_id=f"{origin}/good.json"))
        assert good.status_code == 302 and "/consent?request=" in good.headers["location"]
        assert "client-doc" in state.written_since(0)  # the good document is cached
        await client.aclose()


async def test_http_client_documents_only_on_a_loopback_server(sandbox: SandboxServer) -> None:
    async with (
        document_server({"/good.json": _document}) as origin,
        remote_server(sandbox, public_url="https://mcp.example.org", state=MemoryState()) as server,
    ):
        assert await server.runtime.provider.get_client(f"{origin}/good.json") is None
