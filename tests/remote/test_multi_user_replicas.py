"""Three `serve --multi-user` processes sharing one real redis-server, behind a round-robin
proxy, with a sandbox of two accounts: sign-in, calls spread over every replica, MCP token
refresh through one replica used on the others, Capacities token refresh once across
replicas, and a replica killed mid-run with no write lost or doubled.

Started once for the module (three processes cost a few seconds); each test signs in anew."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.types import ElicitResult

from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from .helpers_oauth import ACCOUNTS, Browser, serving, signed_in, text_of
from .helpers_redis import running_redis
from .helpers_replicas import RoundRobinProxy, free_socket, kill, replica_processes

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(accounts=ACCOUNTS, rate_limit_window=0.05)) as server:
        yield server


@pytest.fixture(scope="module")
def cluster(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with free_socket() as probe:
        port = probe.getsockname()[1]  # the proxy's port: the replicas' public URL
    public = f"http://127.0.0.1:{port}"
    tmp = Path(tmp_path_factory.mktemp("replicas"))
    with running_redis() as redis, replica_processes(sandbox, redis.url, public, tmp) as replicas:
        yield {"port": port, "public": public, "replicas": replicas}


@pytest.fixture
async def proxy(cluster: dict[str, Any]) -> AsyncIterator[tuple[str, RoundRobinProxy]]:
    balancer = RoundRobinProxy([r.origin for r in cluster["replicas"] if r.process.poll() is None])
    async with serving(balancer, free_socket(cluster["port"])) as origin:
        assert origin == cluster["public"]
        yield f"{origin}/mcp", balancer


def _rotations(sandbox: SandboxServer) -> int:
    return sum(1 for record in sandbox.state.oauth["refresh"].values() if record["rotated"])


async def test_calls_spread_over_replicas_and_refresh_happens_once(
    sandbox: SandboxServer, proxy: tuple[str, RoundRobinProxy]
) -> None:
    url, balancer = proxy
    browser = Browser("alice")
    async with signed_in(url, browser) as (client, store, provider):
        for _ in range(3):
            result = await client.call_tool("get_space", {})
            assert not result.is_error and "Demo space" in text_of(result)
        assert len(balancer.served) == 3  # sign-in and calls reached every replica
        # This server's own tokens: refreshed through one replica, used on all three.
        first = store.tokens
        provider.context.token_expiry_time = time.time() - 1
        for _ in range(3):
            assert not (await client.call_tool("get_space", {})).is_error
        assert store.tokens is not None and first is not None
        assert store.tokens.refresh_token != first.refresh_token
        before = _rotations(sandbox)
        sandbox.expire_access_tokens()  # every replica's cached Capacities token now gets 401
        async with anyio.create_task_group() as tg:  # three calls at once, one per replica
            for _ in range(3):
                tg.start_soon(client.call_tool, "search_objects", {"query": "project"})
        for _ in range(3):
            result = await client.call_tool("search_objects", {"query": "project"})
            assert not result.is_error, text_of(result)
        # One refresh for all: a second use of the rotated refresh token would have revoked the
        # grant at the sandbox (reuse detection), and these calls would fail.
        assert _rotations(sandbox) == before + 1
    await browser.aclose()


async def _write_pages(client: Any, prefix: str, count: int, done: list[str], failed: Counter[str]) -> None:
    """Create pages one by one; a call that fails (its replica died) is sent again, and counted
    in `failed`: the replica may have created the page before it died."""
    for index in range(count):
        title = f"{prefix} note {index}"
        for _attempt in range(3):
            try:
                result = await client.call_tool("create_object", {"structure": "Page", "title": title})
            except Exception:
                failed[title] += 1
                continue
            if not result.is_error:
                break
            failed[title] += 1
        done.append(title)


async def test_a_replica_killed_mid_run_loses_and_doubles_nothing(
    sandbox: SandboxServer, cluster: dict[str, Any], proxy: tuple[str, RoundRobinProxy]
) -> None:
    url, balancer = proxy
    browsers = [Browser(account) for account in ACCOUNTS]
    async with signed_in(url, browsers[0]) as (alice, _, _), signed_in(url, browsers[1]) as (bob, _, _):
        done: list[str] = []
        failed: Counter[str] = Counter()
        async with anyio.create_task_group() as tg:
            tg.start_soon(_write_pages, alice, "Alice", 12, done, failed)
            tg.start_soon(_write_pages, bob, "Bob", 12, done, failed)
            with anyio.fail_after(120):
                while len(done) < 8:
                    await anyio.sleep(0.01)
            victim = cluster["replicas"][1]
            await anyio.to_thread.run_sync(kill, victim)
        assert victim.origin in balancer.down or balancer.served[victim.origin] > 0
    for account, prefix in (("alice", "Alice"), ("bob", "Bob")):
        space = sandbox.space_of(account)
        titles = [space.title_of(obj) for obj in space.live_objects()]
        for index in range(12):
            title = f"{prefix} note {index}"
            # Nothing lost, nothing doubled by the servers. A call whose replica was killed under
            # it (most runs have one) may have created its page before the answer was lost; the
            # writer cannot know and sends it again, so that page may exist once more per failure.
            assert 1 <= titles.count(title) <= 1 + failed[title], (account, index, failed)
        other = "Bob" if prefix == "Alice" else "Alice"
        assert not any(title.startswith(f"{other} note") for title in titles)
    for browser in browsers:
        await browser.aclose()


async def test_a_confirmation_asked_by_one_replica_is_answered_to_another(
    sandbox: SandboxServer, proxy: tuple[str, RoundRobinProxy]
) -> None:
    """A permanent delete asks the user first; in the 2026-07-28 era the question and its answer
    are two requests, with the sealed request state between them: any replica must unseal it."""
    url, balancer = proxy
    asked: list[str] = []

    async def accept(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    browser = Browser("bob")
    async with signed_in(url, browser, elicitation_callback=accept) as (client, _, _):
        assert not (
            await client.call_tool("create_object", {"structure": "Page", "title": "Doomed"})
        ).is_error
        page = sandbox.space_of("bob").find_by_title("Doomed")
        assert page is not None
        before = dict(balancer.served)
        result = await client.call_tool("delete_object", {"id": page["id"], "permanent": True})
        assert not result.is_error, text_of(result)
        assert len(asked) == 1
        assert sum(1 for r in balancer.served if balancer.served[r] > before.get(r, 0)) >= 2
        assert sandbox.space_of("bob").get_object(page["id"], include_trashed=True) is None
    await browser.aclose()
