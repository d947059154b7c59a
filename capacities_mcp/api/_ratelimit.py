"""Rate limits: read what the API says, and wait instead of sending a request that must fail.

The API counts per token and per route in fixed windows (10 or 30 requests a minute) and reports
the state on every response as `RateLimit: limit=30, remaining=12, reset=41` (older forms:
`RateLimit-Remaining` / `RateLimit-Reset`, and `Retry-After` on a 429).
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import anyio

from ._priority import background_reserve, in_background
from ._waits import REPORT_EVERY, report_wait

__all__ = ["RateLimitState", "RateLimiter", "parse_rate_limit", "parse_retry_after"]

_FIELD = re.compile(r"(limit|remaining|reset)\s*=\s*([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE)


@dataclass(frozen=True)
class RateLimitState:
    limit: int | None
    remaining: int | None
    reset: float | None  # seconds until the window resets


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimitState | None:
    """Read `RateLimit` (IETF draft 08), falling back to `RateLimit-Limit/-Remaining/-Reset`."""
    fields: dict[str, float] = {}
    combined = headers.get("ratelimit")
    if combined:
        for name, value in _FIELD.findall(combined):
            fields[name.lower()] = float(value)
    for name in ("limit", "remaining", "reset"):
        if name not in fields:
            value = _number(headers.get(f"ratelimit-{name}"))
            if value is not None:
                fields[name] = value
    if not fields:
        return None
    limit, remaining = fields.get("limit"), fields.get("remaining")
    return RateLimitState(
        limit=int(limit) if limit is not None else None,
        remaining=int(remaining) if remaining is not None else None,
        reset=fields.get("reset"),
    )


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """`Retry-After` as seconds (delta or HTTP date)."""
    raw = headers.get("retry-after")
    if not raw:
        return None
    seconds = _number(raw)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    wall = time.time() if now is None else now
    return max(0.0, when.timestamp() - wall)


@dataclass
class _Quota:
    remaining: int | None = None
    limit: int | None = None
    reset_at: float = 0.0  # monotonic time
    # False after `_roll_over` guessed `reset_at`, until an answer (or a 429) says when the window ends.
    settled: bool = True
    # Background priority (see `_priority`): the remaining count the API last reported, the longest
    # window seen, foreground requests waiting now, and until when one background probe is out.
    reported: int | None = None
    window: float = 0.0
    waiting: int = 0
    probe_until: float = 0.0
    # Requests sent (numbered in order) and the latest of them whose answer has been heard: an
    # answer overtaken by a later request's answer is older news (see `update`).
    sent: int = 0
    heard: int = 0


def _roll_over(quota: _Quota, now: float) -> None:
    """Once `reset_at` has passed, start the next window: a full quota until an answer says otherwise.

    The one place a quota is refilled, whichever priority asks first. `reset_at` moves on one
    window, so the refill happens once per window: requests already taken from the new window
    stay counted (a refill that left `reset_at` behind refilled again on the next look).
    """
    if quota.remaining is None or now < quota.reset_at:
        return
    quota.remaining = quota.limit  # None: unknown again until the next answer
    quota.reset_at = now + quota.window
    quota.settled = False


class RateLimiter:
    """Per-route quotas for one token, shared by every request of one client."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._quotas: dict[str, _Quota] = {}
        self._lock = anyio.Lock()

    def wait_needed(self, key: str) -> float:
        """Seconds to wait before `key` may be called again (0 when it may go now)."""
        quota = self._quotas.get(key)
        if quota is None or quota.remaining is None or quota.remaining > 0:
            return 0.0
        return max(0.0, quota.reset_at - self._clock())

    async def acquire(self, key: str, deadline: float) -> float | None:
        """Take one request from `key`'s quota, waiting for a reset if needed.

        Returns None when the request may go; otherwise the seconds the caller would have to
        wait past `deadline` (a monotonic time), and nothing was waited.
        """
        while True:
            background = in_background()
            async with self._lock:
                quota = self._quotas.setdefault(key, _Quota())
                now = self._clock()
                _roll_over(quota, now)
                wait = self._background_wait(quota, now) if background else self._foreground_wait(quota, now)
                if wait <= 0:
                    return None
                if now + wait > deadline:
                    return wait
                if not background:
                    quota.waiting += 1
            try:
                if not background:  # the caller may show it (see `_waits`); the mirror's are silent
                    await report_wait(key, wait)
                await anyio.sleep(min(wait, REPORT_EVERY))  # then look again, and report again
            finally:
                if not background:
                    quota.waiting -= 1

    @staticmethod
    def _foreground_wait(quota: _Quota, now: float) -> float:
        """0 when a request may take one from `quota` (taken), else seconds until the reset."""
        if quota.remaining is not None and quota.remaining <= 0:
            return quota.reset_at - now
        if quota.remaining is not None:
            quota.remaining -= 1
        return 0.0

    def _background_wait(self, quota: _Quota, now: float) -> float:
        """0 when a background request may take one from `quota` (taken), else seconds to wait.

        It goes only while more than the reserve is left and no foreground request waits; with
        the quota still unknown, one request at a time goes to learn it.
        """
        if quota.waiting:
            return max(0.05, quota.reset_at - now)
        if quota.remaining is None:
            if now < quota.probe_until:
                return 0.05
            quota.probe_until = now + 5.0
            return 0.0
        if quota.remaining > background_reserve(quota.limit or quota.remaining):
            quota.remaining -= 1
            return 0.0
        return max(0.05, quota.reset_at - now)

    def ticket(self, key: str) -> int:
        """Number a request of `key` about to be sent (after `acquire`), for its `update`."""
        quota = self._quotas.setdefault(key, _Quota())
        quota.sent += 1
        return quota.sent

    def update(self, key: str, state: RateLimitState | None, ticket: int | None = None) -> None:
        """Record what the API said about `key` in the answer to request `ticket`.

        With requests in flight together, answers can arrive out of order. One overtaken by the
        answer to a later request is older news: taking its count (the API counted it before
        that one, most likely) would give back quota already spent, and the next request would
        meet a 429. It may lower the count (the two may have crossed on the way), never raise it.
        """
        if state is None:
            return
        quota = self._quotas.setdefault(key, _Quota())
        if ticket is not None and ticket < quota.heard:
            if state.remaining is not None and quota.remaining is not None:
                quota.remaining = min(quota.remaining, state.remaining)
            return
        if ticket is not None:
            quota.heard = ticket
        if state.limit is not None:
            quota.limit = state.limit
        if state.reset is not None:
            now = self._clock()
            # Each answer's reset is an upper bound (whole seconds, rounded up); within one window
            # (the count still falling) keep the tightest, so nobody waits longer than needed.
            same_window = (
                quota.settled
                and state.remaining is not None
                and quota.reported is not None
                and state.remaining < quota.reported
                and now < quota.reset_at
            )
            candidate = now + state.reset
            quota.reset_at = min(quota.reset_at, candidate) if same_window else candidate
            quota.window = max(quota.window, state.reset)
            quota.settled = True
        if state.remaining is not None:
            quota.remaining = quota.reported = state.remaining

    def exhaust(self, key: str, retry_after: float) -> None:
        """A 429 arrived: nothing more for `key` until `retry_after` seconds have passed."""
        quota = self._quotas.setdefault(key, _Quota())
        quota.remaining = 0
        until = self._clock() + retry_after
        # A reset the API gave may be later than `retry_after`; a guessed one does not count.
        quota.reset_at = max(quota.reset_at, until) if quota.settled else until
        quota.settled = True
