"""The user pool builds each user's client outside any lock: while one user's token read is held
up, other users' calls go ahead, and the same user's other calls wait for that one build (not a
second one). A failed or cancelled build leaves nothing behind. No requests reach Capacities here:
a user's state is a client built from tokens in the State, never used."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx2
import pytest

from capacities_mcp.api import API_VERSION, OAuthTokens
from capacities_mcp.remote import RemoteSettings, TokenCipher
from capacities_mcp.remote._pool import SignInEnded, UserPool
from capacities_mcp.remote._upstream import Upstream
from capacities_mcp.server import ServerState

from .helpers_oauth import HeldState

HANG_GUARD = 20  # seconds: a call that waits for another user's build would wait forever


@pytest.fixture
async def held() -> HeldState:
    return HeldState()


@pytest.fixture
async def pool(held: HeldState) -> AsyncIterator[UserPool]:
    settings = RemoteSettings(public_url="http://127.0.0.1:8123", api_url="http://127.0.0.1:9")
    async with httpx2.AsyncClient() as http:
        upstream = Upstream(settings, held, TokenCipher.ephemeral(), http)
        for user in ("alice", "bob"):
            await upstream.save(user, OAuthTokens(f"at-{user}", f"rt-{user}", None))
        users = UserPool(settings, upstream, held, API_VERSION)
        yield users
        await users.aclose()


async def use(pool: UserPool, grant: str, got: list[tuple[str, ServerState]]) -> None:
    async with pool.state_for(grant) as state:
        got.append((grant, state))


async def test_one_users_slow_build_holds_up_no_one_else_and_is_shared_by_their_calls(
    pool: UserPool, held: HeldState
) -> None:
    held.held.add("alice")
    got: list[tuple[str, ServerState]] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(use, pool, "alice", got)
        await held.reached.wait()
        tg.start_soon(use, pool, "alice", got)  # the same user again, while the first builds
        await anyio.wait_all_tasks_blocked()
        with anyio.fail_after(HANG_GUARD):
            await use(pool, "bob", got)
        assert [grant for grant, _ in got] == ["bob"]  # alice's calls still wait
        held.release.set()
    alice = [state for grant, state in got if grant == "alice"]
    assert len(alice) == 2 and alice[0] is alice[1]
    assert held.token_reads["alice"] == 1 and pool.created == 2 and len(pool) == 2


async def test_a_failed_build_fails_each_waiting_call_and_leaves_no_slot(
    pool: UserPool, held: HeldState
) -> None:
    held.held.add("carol")  # no tokens: her sign-in has ended
    failures: list[str] = []

    async def call() -> None:
        with pytest.raises(SignInEnded):
            await use(pool, "carol", [])
        failures.append("carol")

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await held.reached.wait()
        tg.start_soon(call)
        await anyio.wait_all_tasks_blocked()
        held.release.set()
    assert failures == ["carol", "carol"] and len(pool) == 0 and pool.created == 0
    got: list[tuple[str, ServerState]] = []
    await use(pool, "alice", got)  # the pool still works
    assert len(got) == 1 and pool.created == 1


async def test_a_cancelled_build_is_taken_over_by_the_waiting_call(pool: UserPool, held: HeldState) -> None:
    held.held.add("alice")
    got: list[tuple[str, ServerState]] = []
    async with anyio.create_task_group() as tg:
        first = anyio.CancelScope()

        async def cancelled_call() -> None:
            with first:
                await use(pool, "alice", got)

        tg.start_soon(cancelled_call)
        await held.reached.wait()
        tg.start_soon(use, pool, "alice", got)
        await anyio.wait_all_tasks_blocked()
        first.cancel()  # the client went away mid-build
        await anyio.wait_all_tasks_blocked()
        assert held.token_reads["alice"] == 2  # the waiting call builds itself
        held.release.set()
    assert len(got) == 1 and pool.created == 1 and len(pool) == 1
