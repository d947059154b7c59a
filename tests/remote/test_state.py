"""One contract for the State, run against both backends: in memory and a real redis-server.

"Two replicas" are two handles on one store: the same `MemoryState` twice (one process), or two
`RedisState` instances with their own connections to one Redis, as two server processes have.
TTLs are short and only their direction is asserted (gone after the TTL, there before it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from capacities_mcp.remote import MemoryState, State, StateUnavailableError, open_state
from capacities_mcp.remote._state_redis import RedisState

from .helpers_redis import RedisServer, running_redis

RACERS = 50


@pytest.fixture
def state(replicas: tuple[State, State]) -> State:
    return replicas[0]


async def test_values_round_trip_and_namespaces_keep_apart(state: State) -> None:
    await state.put("codes", "k", b"one")
    await state.put("clients", "k", b"two")
    assert await state.get("codes", "k") == b"one" and await state.get("clients", "k") == b"two"
    await state.put("codes", "k", b"")  # replaced; empty is a value, not absence
    assert await state.get("codes", "k") == b""
    await state.delete("codes", "k")
    await state.delete("codes", "never-there")
    assert await state.get("codes", "k") is None and await state.get("clients", "k") == b"two"
    # Keys may hold any characters, the namespace separator included.
    await state.put("codes", "a:b c/\u00e9", bytes(range(256)))
    assert await state.get("codes", "a:b c/\u00e9") == bytes(range(256))
    assert await state.get("codes", "a") is None


async def test_values_expire_after_their_ttl_and_a_put_without_ttl_keeps(state: State) -> None:
    await state.put("t", "short", b"x", ttl=0.2)
    await state.put("t", "long", b"y", ttl=60)
    await state.put("t", "forever", b"z", ttl=0.2)
    await state.put("t", "forever", b"z")  # a plain put replaces the value and its TTL
    assert await state.put_new("t", "new", b"n", ttl=0.2)
    await anyio.sleep(0.4)
    assert await state.get("t", "short") is None and await state.take("t", "new") is None
    assert await state.get("t", "long") == b"y" and await state.get("t", "forever") == b"z"
    assert await state.put_new("t", "new", b"again")  # an expired key is free again


async def _race(replicas: tuple[State, State], action: Callable[[State, int], Awaitable[None]]) -> None:
    """`RACERS` calls of `action`, spread over both replicas and let go together.

    Each racer first makes a call of its own, so every Redis connection is open before the
    start: the racers then meet at the server instead of trickling in as connections open.
    """
    ready, go = 0, anyio.Event()

    async def racer(i: int) -> None:
        nonlocal ready
        await replicas[i % 2].get("warm", "up")
        ready += 1
        if ready == RACERS:
            go.set()
        await go.wait()
        await action(replicas[i % 2], i)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for i in range(RACERS):
                group.start_soon(racer, i)


async def test_put_new_has_exactly_one_winner_among_racing_replicas(replicas: tuple[State, State]) -> None:
    wins: list[int] = []

    async def put_new(state: State, i: int) -> None:
        if await state.put_new("codes", "race", str(i).encode(), ttl=30):
            wins.append(i)

    await _race(replicas, put_new)
    assert len(wins) == 1
    assert await replicas[1].get("codes", "race") == str(wins[0]).encode()


async def test_take_gives_a_code_to_exactly_one_of_racing_replicas(replicas: tuple[State, State]) -> None:
    await replicas[0].put("codes", "once", b"secret", ttl=30)
    got: list[bytes] = []

    async def take(state: State, i: int) -> None:
        value = await state.take("codes", "once")
        if value is not None:
            got.append(value)

    await _race(replicas, take)
    assert got == [b"secret"]
    assert await replicas[0].get("codes", "once") is None


async def test_put_if_sets_only_over_the_expected_value(state: State) -> None:
    assert not await state.put_if("n", "k", b"v1", expected=b"v0")  # nothing there, not v0
    assert await state.put_if("n", "k", b"v1", expected=None)
    assert not await state.put_if("n", "k", b"v2", expected=None)  # something there now
    assert not await state.put_if("n", "k", b"v2", expected=b"other")
    assert await state.put_if("n", "k", b"", expected=b"v1", ttl=60)
    assert await state.put_if("n", "k", b"v3", expected=b"")  # empty is a value, not absence
    assert await state.get("n", "k") == b"v3"
    assert await state.put_if("n", "short", b"x", expected=None, ttl=0.2)
    await anyio.sleep(0.4)
    assert await state.get("n", "short") is None and await state.get("n", "k") == b"v3"


async def test_put_if_loses_no_update_among_racing_replicas(replicas: tuple[State, State]) -> None:
    """Read-modify-write with `put_if`: every racer's increment lands exactly once."""

    async def increment(state: State, _i: int) -> None:
        while True:
            raw = await state.get("n", "counter")
            new = str(int(raw or b"0") + 1).encode()
            if await state.put_if("n", "counter", new, expected=raw):
                return

    await _race(replicas, increment)
    assert await replicas[0].get("n", "counter") == str(RACERS).encode()


async def test_hit_counts_in_fixed_windows_across_replicas(replicas: tuple[State, State]) -> None:
    counts: list[int] = []

    async def hit(state: State, i: int) -> None:
        counts.append(await state.hit("rate", "user", window=30))

    await _race(replicas, hit)
    assert sorted(counts) == list(range(1, RACERS + 1))
    # Counters are not values, and each key counts on its own.
    assert await replicas[0].get("rate", "user") is None
    assert await replicas[0].hit("rate", "other", window=30) == 1
    # A window starts with its first hit and ends `window` seconds later.
    assert await replicas[0].hit("rate", "short", window=0.2) == 1
    await anyio.sleep(0.4)
    assert await replicas[1].hit("rate", "short", window=0.2) == 1


async def test_lock_admits_one_holder_at_a_time_across_replicas(replicas: tuple[State, State]) -> None:
    inside, most_inside, done = 0, 0, 0

    async def worker(i: int) -> None:
        nonlocal inside, most_inside, done
        async with replicas[i % 2].lock("refresh:user", timeout=10):
            inside += 1
            most_inside = max(most_inside, inside)
            await anyio.sleep(0.005)
            inside -= 1
            done += 1

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for i in range(20):
                group.start_soon(worker, i)
    assert (most_inside, done) == (1, 20)


async def _held_elsewhere(state: State, name: str) -> bool:
    """True when the lock cannot be taken right now (the attempt is given up at once).

    On a stalled machine a free lock may look held, never the other way: assert True with
    this, and that a lock is free with `_take_and_free` (which waits long enough).
    """
    with anyio.move_on_after(0.05) as attempt:
        async with state.lock(name, timeout=5):
            pass
    return attempt.cancelled_caught


async def _take_and_free(state: State, name: str) -> None:
    """Take the lock and free it again; fails if that is not possible within 10 s."""
    with anyio.fail_after(10):
        async with state.lock(name, timeout=5):
            pass


async def test_a_dead_holders_lock_expires(replicas: tuple[State, State]) -> None:
    dead_holder = replicas[0].lock("refresh:user", timeout=1.5)
    taken = time.monotonic()
    await dead_holder.__aenter__()  # taken and never released, as by a replica that crashed
    held = await _held_elsewhere(replicas[1], "refresh:user")
    # Held until it expires; a machine stalled past the 1.5 s cannot tell (and may not fail).
    assert held or time.monotonic() - taken >= 1.5
    await _take_and_free(replicas[1], "refresh:user")


async def test_an_expired_holder_cannot_release_the_next_holders_lock(replicas: tuple[State, State]) -> None:
    first, second = replicas
    async with first.lock("job", timeout=0.2):
        await anyio.sleep(0.4)  # outlives its lock
        second_holds = second.lock("job", timeout=5)
        await second_holds.__aenter__()
    # The first holder's exit did not free what the second now holds.
    assert await _held_elsewhere(first, "job")
    await second_holds.__aexit__(None, None, None)
    await _take_and_free(first, "job")


async def test_a_cancelled_holder_frees_its_lock(replicas: tuple[State, State]) -> None:
    with anyio.move_on_after(0.1):
        async with replicas[0].lock("job", timeout=30):
            await anyio.sleep(30)
    await _take_and_free(replicas[1], "job")  # at once, not after the holder's 30 s


BAD_CALLS: list[tuple[str, dict[str, Any], type[Exception]]] = [
    ("put", {"namespace": "", "key": "k", "value": b"v"}, ValueError),
    ("put", {"namespace": "a:b", "key": "k", "value": b"v"}, ValueError),
    ("put", {"namespace": "a b", "key": "k", "value": b"v"}, ValueError),
    ("put", {"namespace": "n" * 65, "key": "k", "value": b"v"}, ValueError),
    ("put", {"namespace": 7, "key": "k", "value": b"v"}, ValueError),
    ("put", {"namespace": "n", "key": "", "value": b"v"}, ValueError),
    ("put", {"namespace": "n", "key": "k" * 4097, "value": b"v"}, ValueError),
    ("put", {"namespace": "n", "key": b"k", "value": b"v"}, ValueError),
    ("put", {"namespace": "n", "key": "k", "value": "text"}, TypeError),
    ("put", {"namespace": "n", "key": "k", "value": bytearray(b"v")}, TypeError),
    ("put", {"namespace": "n", "key": "k", "value": b"v", "ttl": 0}, ValueError),
    ("put", {"namespace": "n", "key": "k", "value": b"v", "ttl": -1}, ValueError),
    ("put", {"namespace": "n", "key": "k", "value": b"v", "ttl": math.nan}, ValueError),
    ("put", {"namespace": "n", "key": "k", "value": b"v", "ttl": math.inf}, ValueError),
    ("put", {"namespace": "n", "key": "k", "value": b"v", "ttl": 1e12}, ValueError),
    ("put", {"namespace": "n", "key": "k", "value": b"v", "ttl": True}, TypeError),
    ("put", {"namespace": "n", "key": "k", "value": b"v", "ttl": "5"}, TypeError),
    ("put_new", {"namespace": "n", "key": "k", "value": b"v", "ttl": -5}, ValueError),
    ("put_new", {"namespace": "n", "key": "k", "value": "v"}, TypeError),
    ("put_if", {"namespace": "n", "key": "k", "value": b"v", "expected": "v"}, TypeError),
    ("put_if", {"namespace": "n", "key": "k", "value": "v", "expected": None}, TypeError),
    ("put_if", {"namespace": "n", "key": "k", "value": b"v", "expected": None, "ttl": 0}, ValueError),
    ("put_if", {"namespace": "a:b", "key": "k", "value": b"v", "expected": None}, ValueError),
    ("get", {"namespace": "n:", "key": "k"}, ValueError),
    ("take", {"namespace": "n", "key": ""}, ValueError),
    ("delete", {"namespace": "", "key": "k"}, ValueError),
    ("hit", {"namespace": "n", "key": "k", "window": 0}, ValueError),
    ("hit", {"namespace": "n", "key": "k", "window": math.inf}, ValueError),
]


@pytest.mark.parametrize(("method", "arguments", "error"), BAD_CALLS)
async def test_bad_inputs_are_refused_and_store_nothing(
    state: State, method: str, arguments: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await getattr(state, method)(**arguments)
    assert await state.get("n", "k") is None
    assert await state.hit("n", "k", window=30) == 1


BAD_LOCKS = [("", 5.0), ("l" * 4097, 5.0), ("ok", 0.0), ("ok", -1.0), ("ok", math.nan)]


@pytest.mark.parametrize(("name", "timeout"), BAD_LOCKS)
async def test_bad_lock_arguments_are_refused_before_waiting(state: State, name: str, timeout: float) -> None:
    with pytest.raises(ValueError):
        async with state.lock(name, timeout):
            pass


def test_open_state_picks_the_backend_by_url(redis_server: RedisServer) -> None:
    assert isinstance(open_state(None), MemoryState)
    assert isinstance(open_state(redis_server.url), RedisState)


def test_a_url_that_is_not_redis_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError) as refused:
        open_state("https://user:hunter2-secret@example.org:6379/0")
    assert "hunter2" not in str(refused.value) and "redis://" in str(refused.value)


async def test_an_unreachable_redis_raises_state_unavailable() -> None:
    with anyio.fail_after(30):
        with running_redis() as server:
            state = RedisState.from_url(server.url)
            await state.ping()
            await state.put("n", "k", b"v")
            server.kill()
            with pytest.raises(StateUnavailableError):
                await state.get("n", "k")
            await state.aclose()
