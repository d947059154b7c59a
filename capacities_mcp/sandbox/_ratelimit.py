"""Fixed-window rate limits per token and route, as the official API counts them."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FixedWindowLimiter", "RateDecision"]


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one request against its quota, ready for the `RateLimit` header."""

    allowed: bool
    limit: int
    remaining: int
    reset: float

    @property
    def reset_seconds(self) -> int:
        """Whole seconds until the window resets (never 0 while a window is open)."""
        return max(1, math.ceil(self.reset - 1e-9))

    @property
    def header(self) -> str:
        return f"limit={self.limit}, remaining={self.remaining}, reset={self.reset_seconds}"


class FixedWindowLimiter:
    """Counts hits per (caller, route) in windows of `window` seconds starting at the first hit."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, caller: str, route_key: str, limit: int) -> RateDecision:
        """Count one request; `allowed` is False (and nothing is counted) once the quota is used."""
        now = self._clock()
        key = (caller, route_key)
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            reset = start + self.window - now
            if count >= limit:
                return RateDecision(False, limit, 0, reset)
            count += 1
            self._windows[key] = (start, count)
            return RateDecision(True, limit, limit - count, reset)
