"""Two people on one multi-user server, each with their own Capacities account: every call runs
in the caller's own space, revocation ends one user's access only, and both kinds of tokens
(this server's and Capacities') refresh without a new sign-in; one user's slow start holds up no
one else."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import anyio
import pytest

from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from .helpers_oauth import ACCOUNTS, Browser, HeldState, ManualClient, remote_server, signed_in, text_of


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(accounts=ACCOUNTS, rate_limit_window=0.05)) as server:
        yield server


async def test_each_user_works_in_their_own_space_only(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    alice_browser, bob_browser = Browser("alice"), Browser("bob")
    caplog.set_level(logging.INFO, logger="capacities_mcp.remote")
    async with (
        remote_server(sandbox) as server,
        signed_in(server.url, alice_browser) as (alice, alice_store, _),
        signed_in(server.url, bob_browser) as (bob, bob_store, _),
    ):
        created = await alice.call_tool("create_object", {"structure": "Page", "title": "Alice's tulip plan"})
        assert not created.is_error, text_of(created)
        secret = sandbox.space_of("alice").find_by_title("Alice's tulip plan")
        assert secret is not None and sandbox.space_of("bob").find_by_title("Alice's tulip plan") is None

        found_by_bob = await bob.call_tool("search_objects", {"query": "tulip"})
        assert "Alice's tulip plan" not in text_of(found_by_bob)
        read_by_bob = await bob.call_tool("get_object", {"id": secret["id"]})
        assert read_by_bob.is_error and "tulip" not in text_of(read_by_bob)
        read_by_alice = await alice.call_tool("get_object", {"id": secret["id"]})
        assert "Alice's tulip plan" in text_of(read_by_alice)
        space = await bob.read_resource("capacities://space")
        assert "bob's space" in str(space)
        assert len(server.runtime.pool) == 2

        tokens = [alice_store.tokens, bob_store.tokens]
    # Logs name users by a hash: never a token, never a space id.
    logged = caplog.text
    assert logged.count("signed in through client") == 2
    for token in tokens:
        assert token is not None
        assert token.access_token not in logged and str(token.refresh_token) not in logged
    for account in ACCOUNTS:
        assert sandbox.space_of(account).space["id"] not in logged
    await alice_browser.aclose()
    await bob_browser.aclose()


async def test_revocation_ends_one_grant_and_its_capacities_tokens(sandbox: SandboxServer) -> None:
    async with remote_server(sandbox) as server:
        client = ManualClient(server)
        await client.register()
        browser = Browser("bob")
        bob, alice = await client.login(browser), await client.login(Browser("alice"))
        grants_before = sum(not g["revoked"] for g in sandbox.state.oauth["grants"].values())
        revoke = await client.http.post(
            f"{server.origin}/revoke",
            data={
                "token": bob["refresh_token"],
                "client_id": client.client_id,
                "client_secret": client.client_secret,
            },
        )
        assert revoke.status_code == 200
        assert await client.mcp_status(bob["access_token"]) == 401
        refresh = await client.token(grant_type="refresh_token", refresh_token=bob["refresh_token"])
        assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
        assert await client.mcp_status(alice["access_token"]) == 200  # the other user is untouched
        # The Capacities grant behind it was revoked too.
        assert sum(not g["revoked"] for g in sandbox.state.oauth["grants"].values()) == grants_before - 1
        await client.aclose()
        await browser.aclose()


async def test_mcp_tokens_rotate_and_a_reused_refresh_token_ends_the_grant(sandbox: SandboxServer) -> None:
    browser = Browser("alice")
    async with remote_server(sandbox) as server, signed_in(server.url, browser) as (client, store, provider):
        assert not (await client.call_tool("get_space", {})).is_error
        first = store.tokens
        assert first is not None
        provider.context.token_expiry_time = time.time() - 1  # the client refreshes before its next call
        assert not (await client.call_tool("get_space", {})).is_error
        second = store.tokens
        assert second is not None and second.access_token != first.access_token
        assert second.refresh_token != first.refresh_token
        # The old refresh token again: treated as stolen, the whole grant ends.
        manual = ManualClient(server)
        assert store.client_info is not None
        manual.client_id, manual.client_secret = (
            store.client_info.client_id,
            store.client_info.client_secret or "",
        )
        reuse = await manual.token(grant_type="refresh_token", refresh_token=str(first.refresh_token))
        assert reuse.status_code == 400
        assert await manual.mcp_status(second.access_token) == 401
        await manual.aclose()
    await browser.aclose()


async def test_capacities_tokens_refresh_once_and_are_shared(sandbox: SandboxServer) -> None:
    browser = Browser("bob")
    async with remote_server(sandbox) as server, signed_in(server.url, browser) as (client, _, _):
        assert not (await client.call_tool("get_space", {})).is_error
        refreshes = sum(1 for g in sandbox.state.oauth["refresh"].values() if g["rotated"])
        sandbox.expire_access_tokens()  # Capacities now answers 401 to the token the server holds
        result = await client.call_tool("search_objects", {"query": "project"})
        assert not result.is_error, text_of(result)
        assert sum(1 for g in sandbox.state.oauth["refresh"].values() if g["rotated"]) == refreshes + 1
    await browser.aclose()


async def test_a_connection_removed_in_capacities_ends_the_grant_and_the_client_signs_in_again(
    sandbox: SandboxServer,
) -> None:
    browser = Browser("bob")
    async with remote_server(sandbox) as server, signed_in(server.url, browser) as (client, store, _):
        assert not (await client.call_tool("get_space", {})).is_error
        assert store.tokens is not None
        grant = await server.runtime.provider.load_access_token(store.tokens.access_token)
        assert grant is not None
        upstream = await server.runtime.provider.upstream.load(grant.grant_id)
        assert upstream is not None
        sandbox.revoke_token(upstream.refresh_token)  # the user removed the connection at Capacities
        ended = await client.call_tool("search_objects", {"query": "project"})  # not cached: asks Capacities
        assert ended.is_error and "sign in again" in text_of(ended), text_of(ended)
        consents = sum("/consent?" in url for url in browser.visited)
        again = await client.call_tool("search_objects", {"query": "project"})  # 401, a new sign-in
        assert not again.is_error, text_of(again)
        assert sum("/consent?" in url for url in browser.visited) == consents + 1
        assert await server.runtime.provider.load_access_token(store.tokens.access_token) is not None
    await browser.aclose()


async def test_the_pool_keeps_at_most_max_users_clients(sandbox: SandboxServer) -> None:
    browsers = [Browser(account) for account in ACCOUNTS]
    async with (
        remote_server(sandbox, max_users=1) as server,
        signed_in(server.url, browsers[0]) as (alice, _, _),
        signed_in(server.url, browsers[1]) as (bob, _, _),
    ):
        for _ in range(2):
            assert "Demo space" in text_of(await alice.call_tool("get_space", {}))
            assert "bob's space" in text_of(await bob.call_tool("get_space", {}))
            assert len(server.runtime.pool) == 1
        assert server.runtime.pool.created == 4  # each call rebuilt its user's client from the State
    for browser in browsers:
        await browser.aclose()


async def test_while_one_users_client_is_slow_to_start_another_users_call_completes(
    sandbox: SandboxServer,
) -> None:
    browsers = [Browser(account) for account in ACCOUNTS]
    state = HeldState()
    async with (
        remote_server(sandbox, state=state) as server,
        signed_in(server.url, browsers[0]) as (alice, alice_store, _),
        signed_in(server.url, browsers[1]) as (bob, bob_store, _),
    ):
        grants = []
        for store in (alice_store, bob_store):
            assert store.tokens is not None
            token = await server.runtime.provider.load_access_token(store.tokens.access_token)
            assert token is not None
            grants.append(token.grant_id)
            await server.runtime.pool.drop(token.grant_id)  # both clients are built anew below
        state.held.add(grants[0])  # reading alice's Capacities tokens now waits
        answers: list[str] = []

        async def alice_call() -> None:
            answers.append(text_of(await alice.call_tool("get_space", {})))

        async with anyio.create_task_group() as tg:
            tg.start_soon(alice_call)
            await state.reached.wait()
            with anyio.fail_after(30):  # waiting for alice's client would wait forever
                answers.append(text_of(await bob.call_tool("get_space", {})))
            assert len(answers) == 1 and "bob's space" in answers[0]
            state.release.set()
        assert "Demo space" in answers[1]
    for browser in browsers:
        await browser.aclose()
