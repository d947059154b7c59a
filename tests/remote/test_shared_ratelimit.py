"""Replicas of one token respect its quotas together: rate-limit state shared through the State.

End to end: two `CapacitiesClient`s of one token (two replicas) against the sandbox over HTTP,
with a short window, their quotas kept in one store (one `MemoryState`, or two `RedisState`s on
a real redis-server). Every answer is counted at the HTTP transport, so a 429 the client sat
out and retried still counts. The merge rules themselves run under a fake clock.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import anyio
import httpx2
import pytest

from capacities_mcp.api import CapacitiesApiError, CapacitiesClient, RateLimitState, SharedRateLimiter
from capacities_mcp.remote import MemoryState, State, StateQuotaStore, owner_hash
from capacities_mcp.remote._state_redis import RedisState
from capacities_mcp.sandbox import SandboxServer

from ..server.helpers import running_sandbox
from .helpers_redis import RedisServer

WINDOW = 2.0  # seconds; above the headers' 1 s resolution, so a new window is told apart
SPACE_GET = "GET /space"  # 10 requests a window: the tightest quota of the route table


class CountingTransport(httpx2.AsyncHTTPTransport):
    """Counts the API's answers by status, at the wire (retries included)."""

    def __init__(self, counts: dict[int, int]) -> None:
        super().__init__()
        self.counts = counts

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await super().handle_async_request(request)
        self.counts[response.status_code] = self.counts.get(response.status_code, 0) + 1
        return response


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with running_sandbox(rate_limit_window=WINDOW) as server:
        yield server


async def _hammer(clients: list[CapacitiesClient], tasks_each: int, calls_each: int) -> list[str]:
    """Every client runs `tasks_each` concurrent loops of `space.get`; the outcome of each call."""
    outcomes: list[str] = []

    async def loop(client: CapacitiesClient) -> None:
        for _ in range(calls_each):
            try:
                await client.space.get()
                outcomes.append("ok")
            except CapacitiesApiError as exc:
                outcomes.append(str(exc.status))

    async with anyio.create_task_group() as group:
        for client in clients:
            for _ in range(tasks_each):
                group.start_soon(loop, client)
    return outcomes


async def test_two_replicas_sharing_one_store_never_meet_a_429(
    sandbox: SandboxServer, replicas: tuple[State, State]
) -> None:
    token = sandbox.mint_token(("api:read",))
    counts: dict[int, int] = {}
    clients = [
        CapacitiesClient(
            api_token=token,
            base_url=sandbox.base_url,
            transport=CountingTransport(counts),
            shared_quotas=StateQuotaStore(state, token),
        )
        for state in replicas
    ]
    # 16 calls against 10 a window: the replicas must wait for a reset between them.
    with anyio.fail_after(60):
        outcomes = await _hammer(clients, tasks_each=2, calls_each=4)
    for client in clients:
        await client.aclose()
    assert outcomes == ["ok"] * 16
    assert counts == {200: 16}


async def test_without_a_shared_store_the_same_replicas_do_meet_429s() -> None:
    """The control: each replica alone believes it has the whole quota. On a window no run
    outlasts: on the 2 s one, calls slower than 0.4 s (a loaded machine) spread over two
    windows and met no 429 at all."""
    counts: dict[int, int] = {}
    with running_sandbox(rate_limit_window=60.0) as sandbox:
        token = sandbox.mint_token(("api:read",))
        clients = [
            CapacitiesClient(
                api_token=token,
                base_url=sandbox.base_url,
                transport=CountingTransport(counts),
                max_rate_limit_wait=0.0,  # a 429 is reported at once, not sat out
            )
            for _ in range(2)
        ]
        outcomes = await _hammer(clients, tasks_each=1, calls_each=10)
    for client in clients:
        await client.aclose()
    # After its first 429 a client refuses further calls itself, so errors >= 429s on the wire.
    assert counts.get(429, 0) > 0 and outcomes.count("429") >= counts[429]


async def test_the_token_is_stored_only_as_its_hash(
    redis_server: RedisServer, sandbox: SandboxServer
) -> None:
    token = sandbox.mint_token(("api:read",))
    prefix = f"t{secrets.token_hex(4)}"
    state = RedisState.from_url(redis_server.url, prefix)
    async with CapacitiesClient(
        api_token=token, base_url=sandbox.base_url, shared_quotas=StateQuotaStore(state, token)
    ) as client:
        await client.space.get()
    keys = [key async for key in state._redis.scan_iter(f"{prefix}:*")]
    values = [await state._redis.get(key) for key in keys]
    await state.aclose()
    assert keys and all(token.encode() not in blob for blob in keys + values)
    assert any(owner_hash(token).encode() in key for key in keys)


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _limiter(clock: _Clock) -> SharedRateLimiter:
    return SharedRateLimiter(StateQuotaStore(MemoryState(), "token"), wall_clock=clock)


FAR = float("inf")  # a deadline nobody reaches


async def test_takes_count_down_and_wait_for_the_reset() -> None:
    clock = _Clock()
    limiter = _limiter(clock)
    assert await limiter.acquire(SPACE_GET, FAR) is None  # the route table's 10 until an answer
    await limiter.update(SPACE_GET, RateLimitState(limit=3, remaining=2, reset=10))
    assert await limiter.acquire(SPACE_GET, FAR) is None
    assert await limiter.acquire(SPACE_GET, FAR) is None
    assert await limiter.acquire(SPACE_GET, deadline=0) == 10  # used up: 10 s to wait, not waited
    clock.now += 10
    assert await limiter.acquire(SPACE_GET, FAR) is None  # refilled when the window is over


async def test_before_any_answer_the_route_tables_quota_holds() -> None:
    limiter = _limiter(_Clock())
    for _ in range(10):  # GET /space: 10 a window
        assert await limiter.acquire(SPACE_GET, FAR) is None
    # Used up before any answer said when the window ends: look again shortly.
    assert 0 < (await limiter.acquire(SPACE_GET, deadline=0) or 0) < 1
    for _ in range(50):  # a route the table does not know: nothing to go by until an answer
        assert await limiter.acquire("GET /unknown", deadline=0) is None


async def test_an_answer_of_the_same_window_only_lowers_the_count() -> None:
    clock = _Clock()
    limiter = _limiter(clock)
    await limiter.update(SPACE_GET, RateLimitState(limit=10, remaining=5, reset=30))
    for _ in range(3):  # three requests in flight: 2 left
        assert await limiter.acquire(SPACE_GET, FAR) is None
    # An answer sent before the others reached the API still says 4: the count stays at 2.
    await limiter.update(SPACE_GET, RateLimitState(limit=10, remaining=4, reset=30))
    assert await limiter.acquire(SPACE_GET, FAR) is None
    assert await limiter.acquire(SPACE_GET, FAR) is None
    assert await limiter.acquire(SPACE_GET, deadline=0) == 30


async def test_the_first_answer_of_a_new_window_replaces_the_count() -> None:
    clock = _Clock()
    limiter = _limiter(clock)
    await limiter.update(SPACE_GET, RateLimitState(limit=10, remaining=1, reset=5))
    clock.now += 4.5  # the API's window ended before our rounded-up reset
    await limiter.update(SPACE_GET, RateLimitState(limit=10, remaining=9, reset=60))
    for _ in range(9):
        assert await limiter.acquire(SPACE_GET, FAR) is None
    assert await limiter.acquire(SPACE_GET, deadline=0) == 60


async def test_a_refilled_window_waits_for_its_first_answer_when_used_up() -> None:
    clock = _Clock()
    limiter = _limiter(clock)
    await limiter.update(SPACE_GET, RateLimitState(limit=2, remaining=0, reset=1))
    clock.now += 1
    assert await limiter.acquire(SPACE_GET, FAR) is None  # refilled: 2
    assert await limiter.acquire(SPACE_GET, FAR) is None
    # Used up before any answer told when this window ends: look again shortly.
    assert 0 < (await limiter.acquire(SPACE_GET, deadline=0) or 0) < 1
    await limiter.update(SPACE_GET, RateLimitState(limit=2, remaining=1, reset=60))  # min(0, 1)
    assert await limiter.acquire(SPACE_GET, deadline=0) == 60


async def test_a_429_stops_every_sharer_until_retry_after() -> None:
    clock = _Clock()
    store = StateQuotaStore(MemoryState(), "token")
    first, second = (SharedRateLimiter(store, wall_clock=clock) for _ in range(2))
    await first.update(SPACE_GET, RateLimitState(limit=10, remaining=8, reset=5))
    await first.exhaust(SPACE_GET, 20)
    assert await second.acquire(SPACE_GET, deadline=0) == 20
    clock.now += 20
    assert await second.acquire(SPACE_GET, FAR) is None


async def test_accounts_and_routes_count_apart() -> None:
    clock = _Clock()
    state = MemoryState()
    alice = SharedRateLimiter(StateQuotaStore(state, "alice-token"), wall_clock=clock)
    bob = SharedRateLimiter(StateQuotaStore(state, "bob-token"), wall_clock=clock)
    await alice.update(SPACE_GET, RateLimitState(limit=1, remaining=0, reset=30))
    assert await alice.acquire(SPACE_GET, deadline=0) == 30
    assert await alice.acquire("GET /object", deadline=0) is None
    assert await bob.acquire(SPACE_GET, deadline=0) is None
