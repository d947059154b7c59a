"""The State every replica of a remote server shares, behind one interface with two backends.

Remote mode keeps nothing a request needs in one process: registered clients, authorization
codes, MCP tokens (hashed), Capacities tokens (encrypted), rate-limit state. `MemoryState` holds
them in this process (the embedded default: one machine, nothing else running); `RedisState`
(in `_state_redis`, imported only when a Redis URL is given) lets any number of replicas share
them. Values are bytes: callers serialise (JSON) and encrypt themselves, so a backend never
sees a structure it could get wrong.

Both backends take the same inputs and give the same answers; `tests/remote/test_state.py` runs
one contract against both.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

import anyio

__all__ = ["MemoryState", "State", "StateUnavailableError", "open_state"]

# Namespaces become part of Redis keys (`prefix:v:namespace:key`): no separator, no spaces.
_NAMESPACE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_MAX_KEY_CHARS = 4096  # room for a client-id URL; anything longer is a caller's bug
_MAX_SECONDS = 10 * 365 * 24 * 3600.0  # TTLs, windows and lock timeouts beyond this are mistakes


class StateUnavailableError(RuntimeError):
    """The shared store could not be reached or failed; callers need not know which backend."""


class State(Protocol):
    """Everything replicas share. Values are bytes; callers serialise (JSON) themselves.

    `namespace` is a short name (letters, digits, `_.-`); `key` any non-empty string. TTLs,
    windows and lock timeouts are seconds (> 0). Counters (`hit`) live apart from values: a
    counter and a value may have the same namespace and key.
    """

    async def put(self, namespace: str, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store `value`, replacing any; with `ttl` it disappears after that many seconds."""
        ...

    async def put_new(self, namespace: str, key: str, value: bytes, ttl: float | None = None) -> bool:
        """Store `value` only if the key holds nothing; True for exactly one of racing callers."""
        ...

    async def put_if(
        self, namespace: str, key: str, value: bytes, *, expected: bytes | None, ttl: float | None = None
    ) -> bool:
        """Compare-and-set: store `value` only while the key holds `expected` (None: nothing).

        For lock-free read-modify-write: read, compute, `put_if(expected=what was read)`, and
        read again when it returns False because another replica changed the value meanwhile.
        """
        ...

    async def get(self, namespace: str, key: str) -> bytes | None: ...

    async def take(self, namespace: str, key: str) -> bytes | None:
        """Get and delete atomically: of racing callers one gets the value (single-use codes)."""
        ...

    async def delete(self, namespace: str, key: str) -> None: ...

    def lock(self, name: str, timeout: float) -> AbstractAsyncContextManager[None]:
        """A mutex across replicas; a holder that dies or outlives `timeout` loses it then.

        Waits as long as it takes (a dead holder's lock expires); wrap in `anyio.fail_after`
        to bound the wait. `timeout` must exceed the longest time the lock is held.
        """
        ...

    async def hit(self, namespace: str, key: str, window: float) -> int:
        """Count one event in a fixed window that starts with its first event; the count so far."""
        ...

    async def aclose(self) -> None: ...


def open_state(redis_url: str | None) -> State:
    """The in-memory State without a URL, else Redis (the redis package loads only then)."""
    if redis_url is None:
        return MemoryState()
    from ._state_redis import RedisState

    return RedisState.from_url(redis_url)


# Input checks, shared by both backends so that they refuse exactly the same things.


def check_namespace(namespace: str) -> str:
    if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace):
        raise ValueError(f"namespace must be 1-64 of A-Z a-z 0-9 _ . - (got {namespace!r:.80})")
    return namespace


def check_key(key: str, what: str = "key") -> str:
    if not isinstance(key, str) or not key or len(key) > _MAX_KEY_CHARS:
        raise ValueError(f"{what} must be a non-empty string of at most {_MAX_KEY_CHARS} characters")
    return key


def check_value(value: bytes) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError(f"values are bytes (serialise first), not {type(value).__name__}")
    return value


def check_seconds(seconds: float, what: str) -> float:
    """A positive, finite number of seconds (bools are not numbers here)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, not {type(seconds).__name__}")
    if not (math.isfinite(seconds) and 0 < seconds <= _MAX_SECONDS):
        raise ValueError(f"{what} must be a finite number of seconds > 0, at most {_MAX_SECONDS:.0f}")
    return float(seconds)


def check_ttl(ttl: float | None) -> float | None:
    return None if ttl is None else check_seconds(ttl, "ttl")


@dataclass
class _Held:
    """A lock's holder: who, until when, and the event its waiters wait on."""

    owner: object
    expires_at: float
    released: anyio.Event = field(default_factory=anyio.Event)


class MemoryState:
    """State in this process: every operation runs without an await inside, so it is atomic.

    Expired entries go on access, and in a sweep whenever the store has doubled since the last
    one, so codes nobody redeems cannot grow it without bound.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[tuple[str, str], tuple[bytes, float]] = {}  # value, expires_at (inf)
        self._counters: dict[tuple[str, str], tuple[int, float]] = {}  # count, window end
        self._locks: dict[str, _Held] = {}
        self._sweep_at = 1024

    def _live(self, slot: tuple[str, str]) -> bytes | None:
        entry = self._values.get(slot)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._values[slot]
            return None
        return entry[0]

    def _store(self, slot: tuple[str, str], value: bytes, ttl: float | None) -> None:
        self._values[slot] = (value, math.inf if ttl is None else self._clock() + ttl)
        if len(self._values) + len(self._counters) >= self._sweep_at:
            self._sweep()

    def _sweep(self) -> None:
        now = self._clock()
        self._values = {slot: entry for slot, entry in self._values.items() if entry[1] > now}
        self._counters = {slot: entry for slot, entry in self._counters.items() if entry[1] > now}
        self._sweep_at = max(1024, 2 * (len(self._values) + len(self._counters)))

    async def put(self, namespace: str, key: str, value: bytes, ttl: float | None = None) -> None:
        slot = (check_namespace(namespace), check_key(key))
        self._store(slot, check_value(value), check_ttl(ttl))

    async def put_new(self, namespace: str, key: str, value: bytes, ttl: float | None = None) -> bool:
        slot = (check_namespace(namespace), check_key(key))
        check_value(value)
        ttl = check_ttl(ttl)
        if self._live(slot) is not None:
            return False
        self._store(slot, value, ttl)
        return True

    async def put_if(
        self, namespace: str, key: str, value: bytes, *, expected: bytes | None, ttl: float | None = None
    ) -> bool:
        slot = (check_namespace(namespace), check_key(key))
        check_value(value)
        ttl = check_ttl(ttl)
        if expected is not None:
            check_value(expected)
        if self._live(slot) != expected:
            return False
        self._store(slot, value, ttl)
        return True

    async def get(self, namespace: str, key: str) -> bytes | None:
        return self._live((check_namespace(namespace), check_key(key)))

    async def take(self, namespace: str, key: str) -> bytes | None:
        slot = (check_namespace(namespace), check_key(key))
        value = self._live(slot)
        if value is not None:
            del self._values[slot]
        return value

    async def delete(self, namespace: str, key: str) -> None:
        self._values.pop((check_namespace(namespace), check_key(key)), None)

    async def hit(self, namespace: str, key: str, window: float) -> int:
        slot = (check_namespace(namespace), check_key(key))
        window = check_seconds(window, "window")
        now = self._clock()
        count, ends = self._counters.get(slot, (0, now + window))
        if ends <= now:
            count, ends = 0, now + window
        self._counters[slot] = (count + 1, ends)
        return count + 1

    def lock(self, name: str, timeout: float) -> AbstractAsyncContextManager[None]:
        return self._locked(check_key(name, "lock name"), check_seconds(timeout, "timeout"))

    @asynccontextmanager
    async def _locked(self, name: str, timeout: float) -> AsyncIterator[None]:
        me = object()
        while True:
            held = self._locks.get(name)
            now = self._clock()
            if held is None or held.expires_at <= now:
                self._locks[name] = _Held(me, now + timeout)
                break
            with anyio.move_on_after(held.expires_at - now):
                await held.released.wait()
        try:
            yield
        finally:
            held = self._locks.get(name)
            if held is not None and held.owner is me:  # not if it expired and someone else holds it
                del self._locks[name]
                held.released.set()

    async def aclose(self) -> None:
        """Nothing to release; the data goes with the object."""
