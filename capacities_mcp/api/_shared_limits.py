"""Rate limits shared by several clients of one token: the replicas of a remote server.

The API counts per token and route, whichever process sends. Each replica's own `RateLimiter`
would spend the whole quota by itself, so together they would meet 429s. A `SharedRateLimiter`
keeps each route's quota in a `QuotaStore` every replica reaches (remote mode implements it on
its shared State); each change is one atomic read-modify-write there.

Times are Unix times: replicas share no monotonic clock (their wall clocks must agree, as NTP
keeps them). Two rules keep the replicas together under the quota: a request takes one from the
shared count before it is sent; and an answer of the same window can only lower the count (the
API's number may not yet include requests other replicas have in flight), while the first
answer of a new window replaces it. Before any answer, the route table's quota stands in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import anyio

from ._priority import in_background
from ._ratelimit import RateLimitState
from ._routes import ROUTES
from ._waits import REPORT_EVERY, report_wait

__all__ = ["QuotaStore", "SharedQuota", "SharedRateLimiter"]

# `reset` comes in whole seconds: answers of one window may differ by up to this much, while a
# new window ends about a window later.
_RESOLUTION = 1.0
# After a window's quota was refilled locally, until an answer says when the new window ends:
# how often to look again when it is used up, and when to give up waiting for that answer.
_UNSETTLED_PAUSE = 0.05
_SETTLE_GRACE = 30.0
_UNKNOWN_RESET = 1.0  # an answer without `reset` (older header forms): look again this soon


@dataclass(frozen=True)
class SharedQuota:
    """One route's quota as the sharers store it.

    `reset_at` is the Unix time the API's window ends (an upper bound). `settled` is False after
    a sharer refilled an expired window itself, until an answer of the new window arrives; then
    `reset_at` is only the time to stop waiting for that answer.
    """

    limit: int | None
    remaining: int | None
    reset_at: float
    settled: bool = True


class QuotaStore(Protocol):
    """Where sharers keep their quotas, one record per route key."""

    async def modify(self, key: str, change: Callable[[SharedQuota | None], SharedQuota | None]) -> None:
        """Run `change` on `key`'s record atomically for all sharers; store what it returns.

        `change` is pure and may run more than once; None means "leave the record as it is".
        """
        ...


def _take(quota: SharedQuota | None, now: float, prior: int | None) -> tuple[SharedQuota | None, float]:
    """(record to store, seconds to wait): 0 means one request was taken from the quota.

    With no record yet, the route table's quota (`prior`) stands in until the first answer, so
    replicas starting together cannot overshoot the first window.
    """
    if quota is None and prior is not None:
        quota = SharedQuota(prior, prior, now + _SETTLE_GRACE, settled=False)
    if quota is None or quota.remaining is None:
        return None, 0.0  # nothing known: the answer will tell
    remaining = quota.remaining
    if remaining <= 0 and now >= quota.reset_at:
        if quota.limit is None:
            return None, 0.0
        remaining = quota.limit  # the window is over; a full quota until an answer says otherwise
        quota = SharedQuota(quota.limit, remaining, now + _SETTLE_GRACE, settled=False)
    if remaining <= 0:
        return quota, (quota.reset_at - now if quota.settled else _UNSETTLED_PAUSE)
    return replace(quota, remaining=remaining - 1), 0.0


def _record(quota: SharedQuota | None, state: RateLimitState, now: float) -> SharedQuota:
    """Merge one answer's `RateLimit` into the record."""
    reset_at = now + (_UNKNOWN_RESET if state.reset is None else state.reset)
    limit = state.limit if state.limit is not None else quota.limit if quota is not None else None
    heard = SharedQuota(limit, state.remaining, reset_at)
    if quota is None or quota.remaining is None or heard.remaining is None:
        return heard
    if quota.settled and (now >= quota.reset_at or reset_at > quota.reset_at + _RESOLUTION):
        return heard  # the first answer of a new window
    remaining = min(quota.remaining, heard.remaining)
    if not quota.settled:  # the first answer after a local refill says when this window ends
        return SharedQuota(limit, remaining, reset_at)
    return SharedQuota(limit, remaining, min(quota.reset_at, reset_at))


def _exhaust(quota: SharedQuota | None, retry_after: float, now: float) -> SharedQuota:
    """A 429: nothing more until `retry_after` has passed (or the known reset, if later)."""
    until = now + retry_after
    if quota is not None and quota.settled:
        until = max(until, quota.reset_at)
    return SharedQuota(quota.limit if quota else None, 0, until)


class SharedRateLimiter:
    """The quotas of one token, kept in a store that every client of that token shares."""

    def __init__(self, store: QuotaStore, wall_clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._now = wall_clock
        self._quotas: dict[str, int] = {}
        for route in ROUTES:
            self._quotas[route.key] = min(route.rate_limit, self._quotas.get(route.key, route.rate_limit))

    async def acquire(self, key: str, deadline: float) -> float | None:
        """As `RateLimiter.acquire`: None when the request may go (`deadline` is monotonic)."""
        while True:
            wait = 0.0

            def take(quota: SharedQuota | None) -> SharedQuota | None:
                nonlocal wait
                stored, wait = _take(quota, self._now(), self._quotas.get(key))
                return stored

            await self._store.modify(key, take)
            if wait <= 0:
                return None
            if time.monotonic() + wait > deadline:
                return wait
            if not in_background():
                await report_wait(key, wait)
            await anyio.sleep(min(wait, REPORT_EVERY))  # then look again, and report again

    async def update(self, key: str, state: RateLimitState | None) -> None:
        if state is not None:
            await self._store.modify(key, lambda quota: _record(quota, state, self._now()))

    async def exhaust(self, key: str, retry_after: float) -> None:
        await self._store.modify(key, lambda quota: _exhaust(quota, retry_after, self._now()))
