"""Rate limits: parsing, waiting for resets, bounded waits, 429 retries, per-route quotas."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import anyio
import httpx2
import pytest

from capacities_mcp.api import (
    CapacitiesApiError,
    RateLimiter,
    RateLimitState,
    background_priority,
    parse_rate_limit,
    parse_retry_after,
)

from .helpers import OBJECT_ID, FakeApi, make_client, ok

SPACE = {"id": "ac7abb59-b1fd-4102-b549-78e5443610ac", "title": "Notes"}
OBJ = {"id": OBJECT_ID, "structureId": "RootPage", "collections": [], "properties": {}}
EPS = 0.02  # timer slack


def limited(
    payload: Any, *, limit: int = 2, remaining: int = 0, reset: float = 0.3, status: int = 200
) -> httpx2.Response:
    headers = {"RateLimit": f"limit={limit}, remaining={remaining}, reset={reset}"}
    if status == 429:
        return httpx2.Response(
            429, json={"code": "cap_rate_limit_exceeded", "message": "Rate limit exceeded"}, headers=headers
        )
    return httpx2.Response(status, json=payload, headers=headers)


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"RateLimit": "limit=5, remaining=4, reset=58"}, RateLimitState(5, 4, 58.0)),
        ({"ratelimit": "limit=30,remaining=0,reset=2.1"}, RateLimitState(30, 0, 2.1)),
        ({"RateLimit": "limit=10, remaining=3, reset=0.25"}, RateLimitState(10, 3, 0.25)),
        (
            {"RateLimit-Limit": "120", "RateLimit-Remaining": "7", "RateLimit-Reset": "12"},
            RateLimitState(120, 7, 12.0),
        ),
        ({"RateLimit-Remaining": "0", "RateLimit-Reset": "1.5"}, RateLimitState(None, 0, 1.5)),
        ({"RateLimit": "remaining=1"}, RateLimitState(None, 1, None)),
        ({"Content-Type": "application/json"}, None),
        ({"RateLimit-Remaining": "lots"}, None),
    ],
)
def test_parse_rate_limit(headers: dict[str, str], expected: RateLimitState | None) -> None:
    assert parse_rate_limit(httpx2.Headers(headers)) == expected


def test_parse_retry_after_seconds_and_http_date() -> None:
    now = time.time()
    assert parse_retry_after(httpx2.Headers({"Retry-After": "5"})) == 5.0
    assert parse_retry_after(httpx2.Headers({"Retry-After": "0.5"})) == 0.5
    future = email.utils.formatdate(now + 30, usegmt=True)
    parsed = parse_retry_after(httpx2.Headers({"Retry-After": future}), now=now)
    assert parsed is not None and 28 <= parsed <= 30
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after(httpx2.Headers({"Retry-After": past}), now=now) == 0.0
    assert parse_retry_after(httpx2.Headers({"Retry-After": "soon"})) is None
    assert parse_retry_after(httpx2.Headers({})) is None


async def test_limiter_unit_wait_and_refill() -> None:
    clock = [100.0]
    limiter = RateLimiter(clock=lambda: clock[0])
    limiter.update("GET /space", RateLimitState(limit=2, remaining=0, reset=10))
    assert limiter.wait_needed("GET /space") == 10
    assert limiter.wait_needed("GET /space/structures") == 0
    assert await limiter.acquire("GET /space", deadline=105) == 10  # too long: not waited
    clock[0] = 110.5
    assert await limiter.acquire("GET /space", deadline=111) is None  # window reset
    limiter.exhaust("GET /space", 3)
    assert limiter.wait_needed("GET /space") == pytest.approx(3)


# --- one window roll-over for both priorities --------------------------------------------------

KEY, LIMIT, WINDOW = "GET /object", 6, 10.0  # a background request leaves ceil(6 / 3) = 2


def past_a_window_boundary() -> tuple[RateLimiter, float]:
    """A limiter whose used-up window of `LIMIT` ended half a second ago, and the time now."""
    clock = [100.0]
    limiter = RateLimiter(clock=lambda: clock[0])
    limiter.update(KEY, RateLimitState(limit=LIMIT, remaining=0, reset=WINDOW))
    clock[0] = 100.0 + WINDOW + 0.5
    return limiter, clock[0]


async def take(limiter: RateLimiter, now: float, *, background: bool = False) -> float | None:
    """One acquire that never waits: None when taken, else the seconds it would have to wait."""
    if background:
        with background_priority(1 / 3):
            return await limiter.acquire(KEY, deadline=now)
    return await limiter.acquire(KEY, deadline=now)


@pytest.mark.parametrize("first", ["foreground", "background"])
async def test_a_window_rolls_over_alike_whoever_asks_first(first: str) -> None:
    limiter, now = past_a_window_boundary()
    assert await take(limiter, now, background=first == "background") is None
    # Either way the new window has LIMIT - 1 left and ends one window on (a foreground refill
    # used to leave the reset behind, and so refilled again when the new quota ran out).
    went = [await take(limiter, now) for _ in range(LIMIT)]
    assert went[:-1] == [None] * (LIMIT - 1)
    assert went[-1] == pytest.approx(WINDOW)


async def test_background_after_the_boundary_leaves_the_reserve_free() -> None:
    limiter, now = past_a_window_boundary()
    assert await take(limiter, now) is None  # an agent's call opens the new window
    background = 0
    while await take(limiter, now, background=True) is None:
        background += 1
    # It used to refill the quota again (forgetting the agent's call) and take one too many.
    assert background == LIMIT - 1 - 2
    assert [await take(limiter, now) for _ in range(3)][:2] == [None, None]


async def test_the_first_answer_after_a_roll_over_says_when_the_new_window_ends() -> None:
    clock = [100.0]
    limiter = RateLimiter(clock=lambda: clock[0])
    limiter.update(KEY, RateLimitState(limit=LIMIT, remaining=3, reset=WINDOW))
    clock[0] = 110.5
    assert await take(limiter, clock[0]) is None  # refilled locally: a guessed reset at 120.5
    clock[0] = 110.7  # another process of the token spent three more: its count is below 3
    limiter.update(KEY, RateLimitState(limit=LIMIT, remaining=2, reset=WINDOW))
    went = [await take(limiter, clock[0]) for _ in range(3)]
    assert went == [None, None, pytest.approx(WINDOW)]  # the answer's reset, not the earlier guess
    limiter.exhaust(KEY, 1.0)  # a 429 now: the API's reset (known) outlasts its Retry-After
    assert limiter.wait_needed(KEY) == pytest.approx(WINDOW)


@pytest.mark.parametrize("a_counted", ["first", "last"])
async def test_an_answer_overtaken_by_a_later_one_gives_no_quota_back(a_counted: str) -> None:
    """Two requests in flight, A sent before B; B's answer (the last of the quota, or not)
    arrives first. A's answer is older news: it never gives back quota, but when the API counted
    A last (the two crossed on the way) its lower count stands. Either way the next request must
    wait for the reset (here, with no wait allowed, fail at once) instead of meeting a 429."""
    count = 0
    b_counted, b_answered = anyio.Event(), anyio.Event()

    async def handle(request: httpx2.Request) -> httpx2.Response:
        nonlocal count
        arrival = len(api.sent)  # 1: learns the quota, 2: A, 3: B, 4: one too many
        if arrival == 2 and a_counted == "last":
            await b_counted.wait()
        count += 1
        reply = limited(SPACE, limit=3, remaining=max(0, 3 - count), reset=30)
        if count > 3:
            reply = limited(None, limit=3, remaining=0, reset=30, status=429)
        if arrival == 3:
            b_counted.set()
        if arrival == 2:
            await b_answered.wait()
        return reply

    api = FakeApi(handler=handle)
    async with make_client(api, max_rate_limit_wait=0.0) as client:
        await client.space.get()  # 2 left
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.space.get)  # A
            while len(api.sent) < 2:
                await anyio.sleep(0.01)
            await client.space.get()  # B
            b_answered.set()
        with pytest.raises(CapacitiesApiError) as caught:
            await client.space.get()
    assert caught.value.code == "cap_rate_limit_exceeded"
    assert count == 3  # the fourth request was never sent


# --- waiting instead of sending ----------------------------------------------------------------


async def test_exhausted_route_waits_for_reset_before_sending() -> None:
    api = FakeApi([limited(SPACE, reset=0.3), ok(SPACE)])
    async with make_client(api) as client:
        await client.space.get()
        # The wait it plans is the reset it was told (a wall-clock upper bound would also
        # measure how busy the machine is).
        assert 0 < client._transport.limiter.wait_needed("GET /space") <= 0.3
        started = time.monotonic()
        await client.space.get()
        elapsed = time.monotonic() - started
    assert len(api.sent) == 2
    assert api.sent[1].at - api.sent[0].at >= 0.3 - EPS
    assert elapsed >= 0.3 - EPS


async def test_legacy_ratelimit_headers_also_make_it_wait() -> None:
    api = FakeApi([ok(SPACE, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "0.2"}), ok(SPACE)])
    async with make_client(api) as client:
        await client.space.get()
        await client.space.get()
    assert api.sent[1].at - api.sent[0].at >= 0.2 - EPS


async def test_remaining_quota_does_not_wait() -> None:
    api = FakeApi([limited(SPACE, remaining=1, reset=5), ok(SPACE)])
    async with make_client(api) as client:
        await client.space.get()
        assert client._transport.limiter.wait_needed("GET /space") == 0
        started = time.monotonic()
        await client.space.get()
    assert time.monotonic() - started < 4.0  # no wait for the 5 s reset


async def test_wait_beyond_budget_raises_without_sending() -> None:
    api = FakeApi([limited(SPACE, reset=5.0)])
    async with make_client(api, max_rate_limit_wait=2.0) as client:
        await client.space.get()
        started = time.monotonic()
        with pytest.raises(CapacitiesApiError) as caught:
            await client.space.get()
        assert time.monotonic() - started < 2.0  # did not sit out the budget either
    err = caught.value
    assert err.code == "cap_rate_limit_exceeded" and err.status == 429
    assert err.retry_after is not None and 3.0 < err.retry_after <= 5.0  # what is left of the reset
    assert err.route == "space.get"
    assert len(api.sent) == 1


async def test_quotas_are_per_route() -> None:
    api = FakeApi([limited(SPACE, reset=5), ok({"structures": []}), ok(OBJ)])
    async with make_client(api, max_rate_limit_wait=0.2) as client:
        await client.space.get()  # GET /space is now used up for 5 s
        started = time.monotonic()
        await client.space.structures()
        await client.object.create(structure_id="RootPage")
        assert time.monotonic() - started < 4.0  # not held up by GET /space's 5 s
        with pytest.raises(CapacitiesApiError) as caught:
            await client.space.get()
    assert caught.value.code == "cap_rate_limit_exceeded"
    assert [s.path for s in api.sent] == ["/space", "/space/structures", "/object"]


async def test_same_path_different_method_is_a_different_quota() -> None:
    api = FakeApi([limited(OBJ, reset=5), ok(OBJ)])
    async with make_client(api, max_rate_limit_wait=0.1) as client:
        await client.object.get(OBJECT_ID)  # GET /object used up
        await client.object.update(id=OBJECT_ID, delete_requested=True)  # PATCH /object is not
    assert [s.method for s in api.sent] == ["GET", "PATCH"]


# --- 429 that still arrives --------------------------------------------------------------------


@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
async def test_429_is_retried_after_its_reset(write: bool) -> None:
    api = FakeApi([limited(None, reset=0.2, status=429), ok(OBJ)])
    async with make_client(api, max_rate_limit_wait=1.0) as client:
        if write:
            result = await client.object.create(structure_id="RootPage")
        else:
            result = await client.object.get(OBJECT_ID)
    assert result.id == OBJECT_ID
    assert len(api.sent) == 2
    assert api.sent[1].at - api.sent[0].at >= 0.2 - EPS
    assert api.sent[0].body == api.sent[1].body


async def test_429_with_retry_after_only() -> None:
    api = FakeApi([httpx2.Response(429, text="<html>1015</html>", headers={"Retry-After": "0.2"}), ok(OBJ)])
    async with make_client(api, max_rate_limit_wait=1.0) as client:
        await client.blocks.append(id=OBJECT_ID, markdown="x")
    assert len(api.sent) == 2
    assert api.sent[1].at - api.sent[0].at >= 0.2 - EPS


async def test_429_beyond_budget_raises_after_one_attempt() -> None:
    api = FakeApi([limited(None, reset=5, status=429)])
    async with make_client(api, max_rate_limit_wait=2.0) as client:
        started = time.monotonic()
        with pytest.raises(CapacitiesApiError) as caught:
            await client.object.create(structure_id="RootPage")
        assert time.monotonic() - started < 2.0  # raised at once, without using the budget
    assert caught.value.code == "cap_rate_limit_exceeded"
    assert caught.value.retry_after == 5
    assert len(api.sent) == 1


async def test_429_retries_share_one_budget() -> None:
    api = FakeApi([limited(None, reset=0.2, status=429), limited(None, reset=0.2, status=429), ok(OBJ)])
    async with make_client(api, max_rate_limit_wait=0.3) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await client.object.get(OBJECT_ID)
    assert caught.value.code == "cap_rate_limit_exceeded"
    assert len(api.sent) == 2  # the second wait would have overrun the 0.3 s budget

    api = FakeApi([limited(None, reset=0.15, status=429), limited(None, reset=0.15, status=429), ok(OBJ)])
    async with make_client(api, max_rate_limit_wait=1.0) as client:
        await client.object.get(OBJECT_ID)
    assert len(api.sent) == 3


async def test_blocked_route_raises_at_once_after_a_429_beyond_budget() -> None:
    api = FakeApi([limited(None, reset=10, status=429)])
    async with make_client(api, max_rate_limit_wait=0.2) as client:
        with pytest.raises(CapacitiesApiError):
            await client.space.get()
        with pytest.raises(CapacitiesApiError) as caught:
            await client.space.get()
    assert caught.value.retry_after is not None and caught.value.retry_after > 5  # the 429's reset
    assert len(api.sent) == 1


# --- against a fixed-window server -------------------------------------------------------------


class WindowServer:
    """Counts requests per route in fixed windows and reports them like the real API."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.windows: dict[str, tuple[float, int]] = {}
        self.statuses: list[int] = []
        self.api = FakeApi(handler=self.handle)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        now = time.monotonic()
        key = f"{request.method} {request.url.path}"
        start, count = self.windows.get(key, (now, 0))
        if now >= start + self.window:
            start, count = now, 0
        count += 1
        self.windows[key] = (start, count)
        reset = round(start + self.window - now, 3)
        remaining = max(0, self.limit - count)
        header = {"RateLimit": f"limit={self.limit}, remaining={remaining}, reset={reset}"}
        if count > self.limit:
            self.statuses.append(429)
            return httpx2.Response(
                429, json={"code": "cap_rate_limit_exceeded", "message": "x"}, headers=header
            )
        self.statuses.append(200)
        return ok(SPACE, headers=header)


async def test_sequential_burst_never_gets_a_429() -> None:
    server = WindowServer(limit=3, window=0.25)
    async with make_client(server.api, max_rate_limit_wait=2.0) as client:
        for _ in range(8):
            await client.space.get()
    assert server.statuses == [200] * 8


async def test_concurrent_burst_all_succeed_within_budget() -> None:
    server = WindowServer(limit=3, window=0.25)
    done: list[int] = []
    async with make_client(server.api, max_rate_limit_wait=3.0) as client:
        await client.space.get()  # learn the quota

        async def one() -> None:
            await client.space.get()
            done.append(1)

        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(one)
    assert len(done) == 8
    # The client waits for each reset instead of sending requests that must fail.
    assert server.statuses == [200] * 9
