"""Several accounts in one sandbox: each its own space, chosen on the OAuth consent page, and a
token of one never opens another's space (what multi-user servers are tested against)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from capacities_mcp.api import CapacitiesClient
from capacities_mcp.sandbox import SandboxConfig, SandboxServer
from capacities_mcp.sandbox._seed import TODAYS_DAILY_NOTE_ID

from .helpers import Api
from .helpers_oauth import REDIRECT, Flow, pkce


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(accounts=("alice", "bob"))) as server:
        yield server


def _sign_in(flow: Flow, account: str | None) -> tuple[httpx2.Response, dict[str, str]]:
    verifier, challenge = pkce()
    page = flow.http.get("/oauth/authorize", params=flow.authorize_params(challenge))
    assert 'name="account"' in page.text and ">alice<" in page.text and ">bob<" in page.text
    found = re.search(r'name="request_id" value="([^"]+)"', page.text)
    assert found is not None
    form = {"request_id": found.group(1), "decision": "approve"}
    if account is not None:
        form["account"] = account
    answer = flow.http.post("/oauth/authorize", data=form)
    if answer.status_code != 302:
        return answer, {}
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    return answer, flow.exchange(code, verifier).json()


def _space(flow: Flow, token: str) -> dict[str, str]:
    response = flow.http.get("/space", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_each_account_signs_in_to_its_own_space(sandbox: SandboxServer) -> None:
    flow = Flow(sandbox)
    try:
        _, alice = _sign_in(flow, "alice")
        _, bob = _sign_in(flow, "bob")
        alice_space, bob_space = _space(flow, alice["access_token"]), _space(flow, bob["access_token"])
        assert alice_space["id"] == sandbox.state.space["id"]  # the first account is the main space
        assert bob_space == {**bob_space, "title": "bob's space"}
        assert bob_space["id"] != alice_space["id"]
        # A write with bob's token lands in bob's space only.
        created = flow.http.post(
            "/object/markdown",
            json={"structureId": "RootPage", "markdown": "# Bob's secret plan"},
            headers={"Authorization": f"Bearer {bob['access_token']}"},
        )
        assert created.status_code == 200, created.text
        object_id = created.json()["id"]
        assert sandbox.space_of("bob").get_object(object_id) is not None
        assert sandbox.state.get_object(object_id) is None
        as_alice = flow.http.get(
            "/object", params={"id": object_id}, headers={"Authorization": f"Bearer {alice['access_token']}"}
        )
        assert as_alice.status_code == 404
        # Refresh keeps the account.
        renewed = flow.refresh(bob["refresh_token"]).json()
        assert _space(flow, renewed["access_token"])["id"] == bob_space["id"]
    finally:
        flow.close()


def test_unknown_account_is_refused_and_personal_tokens_are_per_account(sandbox: SandboxServer) -> None:
    flow = Flow(sandbox)
    try:
        answer, tokens = _sign_in(flow, "mallory")
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request" and not tokens
        bob_token = sandbox.mint_token(("api:read",), account="bob")
        assert _space(flow, bob_token)["title"] == "bob's space"
        assert _space(flow, sandbox.api_token)["id"] == sandbox.state.space["id"]
        assert REDIRECT.startswith("http://127.0.0.1")
    finally:
        flow.close()


def test_expire_access_tokens_forces_one_refresh(sandbox: SandboxServer) -> None:
    flow = Flow(sandbox)
    try:
        _, alice = _sign_in(flow, "alice")
        assert sandbox.expire_access_tokens() >= 1
        assert flow.api_status(alice["access_token"]) == 401
        renewed = flow.refresh(alice["refresh_token"]).json()
        assert flow.api_status(renewed["access_token"]) == 200
    finally:
        flow.close()


async def test_a_file_uploaded_to_another_account_gets_a_full_url(sandbox: SandboxServer) -> None:
    flow = Flow(sandbox)
    try:
        _, bob = _sign_in(flow, "bob")
    finally:
        flow.close()
    async with CapacitiesClient(api_token=bob["access_token"], base_url=sandbox.base_url) as client:
        obj = await client.media.upload("note.txt", b"bob's file")
    assert obj.files is not None and obj.files[0].url.startswith(sandbox.base_url), obj.files
    assert httpx2.get(obj.files[0].url).content == b"bob's file"


def test_uploads_and_queued_daily_notes_are_each_accounts_own() -> None:
    """An account holds its space, uploads and daily-note queue; fault switches are shared."""
    config = SandboxConfig(accounts=("alice", "bob"), daily_note_delay=600)
    with SandboxServer(config) as sandbox:
        alice = Api(sandbox.base_url, sandbox.mint_token(("api:read", "api:write")))
        bob = Api(sandbox.base_url, sandbox.mint_token(("api:read", "api:write"), account="bob"))
        try:
            session = alice.post("/object/media/upload", {"fileName": "a.txt", "fileSize": 3}).json()
            assert bob.post("/object/media/upload/abort", {"id": session["id"]}).status_code == 404
            assert alice.post("/object/media/upload/abort", {"id": session["id"]}).status_code == 200
            appended = bob.post("/blocks/daily-note/append", {"noTimeStamp": True, "markdown": "bob's day"})
            assert appended.status_code == 200, appended.text
            bob_space = sandbox.runtime.account("bob")
            assert bob_space.pending_daily_notes == 1 and sandbox.runtime.pending_daily_notes == 0
            sandbox.flush_daily_notes()  # every account's queue
            assert bob_space.pending_daily_notes == 0
            today = {"id": TODAYS_DAILY_NOTE_ID}
            assert "bob's day" in bob.get("/object/markdown", **today).json()["markdown"]
            assert "bob's day" not in alice.get("/object/markdown", **today).json()["markdown"]
            sandbox.faults.status = 503  # one set of fault switches for every account
            assert bob.get("/space").status_code == 503
            sandbox.faults.status = None
        finally:
            alice.close()
            bob.close()
