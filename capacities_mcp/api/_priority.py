"""Background priority: requests that may only use the part of a route's quota nobody needs.

A local mirror crawls the space through the same client (and so the same rate limiter) as the
agent. Its requests run inside `background_priority(keep_free=1/3)`: the limiter then lets them
through only while more than a third of the route's quota is left in the current window, and never
while an agent's request waits for that route. The agent keeps the rest; the mirror can never be
the reason an agent's call waits or meets a 429.

A context variable, so it follows the mirror's task (and only it) through every `await`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["DEFAULT_KEEP_FREE", "background_priority", "background_reserve", "in_background"]

DEFAULT_KEEP_FREE = 1 / 3

_KEEP_FREE: ContextVar[float | None] = ContextVar("capacities_background_keep_free", default=None)


@contextmanager
def background_priority(keep_free: float = DEFAULT_KEEP_FREE) -> Iterator[None]:
    """Requests made inside run at background priority, leaving `keep_free` of each quota alone."""
    if not 0.0 <= keep_free < 1.0:
        raise ValueError("keep_free is a share of the quota: at least 0, below 1")
    token = _KEEP_FREE.set(keep_free)
    try:
        yield
    finally:
        _KEEP_FREE.reset(token)


def in_background() -> bool:
    return _KEEP_FREE.get() is not None


def background_reserve(limit: int) -> int:
    """How many requests of a window of `limit` a background request must leave (at least one)."""
    share = _KEEP_FREE.get() or 0.0
    return max(1, math.ceil(limit * share))
