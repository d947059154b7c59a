"""Who hears about rate-limit waits: a caller (the MCP server) can show that a call is held back.

A request that must wait for its route's quota waits up to `max_rate_limit_wait` seconds (30 by
default) in silence. Inside `reporting_waits(report)`, the limiter calls `report(route_key,
seconds_left)` when such a wait (of `REPORT_AFTER` seconds or more) starts, and again every
`REPORT_EVERY` seconds while it lasts. A context variable, like background priority: it follows
one caller's task through every `await`, so each tool call hears only about its own requests.
The API layer knows nothing of MCP.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["REPORT_AFTER", "REPORT_EVERY", "WaitReport", "report_wait", "reporting_waits"]

REPORT_EVERY = 5.0
"""Seconds between two reports of one wait (a wait shorter than this is reported once)."""
REPORT_AFTER = 0.5
"""Shorter waits are not worth a word (a window that resets a moment later)."""

WaitReport = Callable[[str, float], Awaitable[None]]

_REPORT: ContextVar[WaitReport | None] = ContextVar("capacities_wait_report", default=None)
_log = logging.getLogger("capacities_mcp.api")


@contextmanager
def reporting_waits(report: WaitReport) -> Iterator[None]:
    """Rate-limit waits of requests made inside are told to `report(route_key, seconds_left)`."""
    token = _REPORT.set(report)
    try:
        yield
    finally:
        _REPORT.reset(token)


async def report_wait(key: str, seconds: float) -> None:
    """Tell the current listener, if any; its failure never fails the request."""
    report = _REPORT.get()
    if report is None or seconds < REPORT_AFTER:
        return
    try:
        await report(key, seconds)
    except Exception:
        _log.warning("reporting a rate-limit wait failed", exc_info=True)
