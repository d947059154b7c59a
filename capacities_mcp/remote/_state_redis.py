"""The State on Redis (6.2 or later), for replicas: every operation is one atomic command.

`put_new` is `SET NX`, `take` is `GETDEL`, `put_if` a compare-and-set script, `hit` a short Lua
script (INCR, and the window's expiry with its first hit), a lock `SET NX PX` with a random owner
token, released by a script that deletes it only while the token is still ours (an expired
holder cannot free a lock that someone else now holds). Keys: `<prefix>:v:<namespace>:<key>` for
values, `:n:` for counters, `:l:<name>` for locks, so several deployments can share one Redis
under different prefixes.

Every Redis failure surfaces as `StateUnavailableError`; callers never import redis.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import redis.asyncio
from redis.exceptions import RedisError

from ._state import (
    StateUnavailableError,
    check_key,
    check_namespace,
    check_seconds,
    check_ttl,
    check_value,
)

__all__ = ["RedisState"]

_SCHEMES = ("redis://", "rediss://", "unix://")
# The window starts with its first hit; a counter without expiry (never expected) gets one too.
_HIT = (
    "local n = redis.call('INCR', KEYS[1]) "
    "if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n"
)
# Compare-and-set: ARGV = expected present ("1"/"0"), expected, new value, TTL in ms ("0": none).
_PUT_IF = (
    "local cur = redis.call('GET', KEYS[1]) "
    "if ARGV[1] == '1' then if cur ~= ARGV[2] then return 0 end elseif cur then return 0 end "
    "if ARGV[4] == '0' then redis.call('SET', KEYS[1], ARGV[3]) "
    "else redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4]) end return 1"
)
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
_POLL_FIRST, _POLL_MAX = 0.002, 0.05  # seconds between attempts to take a held lock


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisState:
    """State shared through one Redis; give each replica its own instance (its own connections)."""

    def __init__(self, client: redis.asyncio.Redis, prefix: str = "capacities-mcp") -> None:
        self._redis = client
        self._prefix = check_namespace(prefix)

    @classmethod
    def from_url(cls, url: str, prefix: str = "capacities-mcp") -> RedisState:
        """Connects lazily (on the first command); the URL is never echoed (it may hold a password)."""
        if not url.startswith(_SCHEMES):
            raise ValueError(f"a Redis URL starts with {', '.join(_SCHEMES)}")
        return cls(redis.asyncio.Redis.from_url(url), prefix)

    async def _command(self, *args: Any) -> Any:
        try:
            return await self._redis.execute_command(*args)  # type: ignore[no-untyped-call]
        except (RedisError, OSError) as exc:
            raise StateUnavailableError(f"Redis failed: {type(exc).__name__}: {exc}") from exc

    def _value_key(self, namespace: str, key: str) -> str:
        return f"{self._prefix}:v:{check_namespace(namespace)}:{check_key(key)}"

    async def ping(self) -> None:
        """Fail fast at start-up when Redis is unreachable."""
        await self._command("PING")

    async def put(self, namespace: str, key: str, value: bytes, ttl: float | None = None) -> None:
        name, ttl = self._value_key(namespace, key), check_ttl(ttl)
        expiry = () if ttl is None else ("PX", _ms(ttl))
        await self._command("SET", name, check_value(value), *expiry)

    async def put_new(self, namespace: str, key: str, value: bytes, ttl: float | None = None) -> bool:
        name, ttl = self._value_key(namespace, key), check_ttl(ttl)
        expiry = () if ttl is None else ("PX", _ms(ttl))
        return bool(await self._command("SET", name, check_value(value), "NX", *expiry))

    async def put_if(
        self, namespace: str, key: str, value: bytes, *, expected: bytes | None, ttl: float | None = None
    ) -> bool:
        name, ttl = self._value_key(namespace, key), check_ttl(ttl)
        check_value(value)
        present = b"0" if expected is None else b"1"
        old = b"" if expected is None else check_value(expected)
        expiry = 0 if ttl is None else _ms(ttl)
        return bool(await self._command("EVAL", _PUT_IF, 1, name, present, old, value, expiry))

    async def get(self, namespace: str, key: str) -> bytes | None:
        value = await self._command("GET", self._value_key(namespace, key))
        return bytes(value) if value is not None else None

    async def take(self, namespace: str, key: str) -> bytes | None:
        value = await self._command("GETDEL", self._value_key(namespace, key))
        return bytes(value) if value is not None else None

    async def delete(self, namespace: str, key: str) -> None:
        await self._command("DEL", self._value_key(namespace, key))

    async def hit(self, namespace: str, key: str, window: float) -> int:
        name = f"{self._prefix}:n:{check_namespace(namespace)}:{check_key(key)}"
        return int(await self._command("EVAL", _HIT, 1, name, _ms(check_seconds(window, "window"))))

    def lock(self, name: str, timeout: float) -> AbstractAsyncContextManager[None]:
        lock_key = f"{self._prefix}:l:{check_key(name, 'lock name')}"
        return self._locked(lock_key, _ms(check_seconds(timeout, "timeout")))

    @asynccontextmanager
    async def _locked(self, lock_key: str, timeout_ms: int) -> AsyncIterator[None]:
        token = secrets.token_hex(16)
        pause = _POLL_FIRST
        while not await self._command("SET", lock_key, token, "NX", "PX", timeout_ms):
            await anyio.sleep(random.uniform(pause / 2, pause))  # jitter: waiters do not march in step
            pause = min(_POLL_MAX, pause * 2)
        try:
            yield
        finally:
            with anyio.CancelScope(shield=True):  # a cancelled holder still frees its lock
                await self._command("EVAL", _RELEASE, 1, lock_key, token)

    async def aclose(self) -> None:
        try:
            await self._redis.aclose()
        except (RedisError, OSError) as exc:
            raise StateUnavailableError(f"Redis failed on close: {type(exc).__name__}") from exc
