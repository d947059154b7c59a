"""Progress notifications of one tool call: parts of an upload, waits for the rate limit.

The MCP spec wants a request's progress values to increase with every notification, while two
sources report into one call: a tool's own steps (an upload's parts) and the API client's
rate-limit waits (`capacities_mcp.api.reporting_waits`). `CallProgress` keeps them increasing:
a step reports its own count; a wait adds a hundredth to the last value and says in its message
how long. Without a progress token from the client, nothing is sent (the SDK drops it); each
wait is logged once per call either way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from mcp.server.mcpserver import Context

from capacities_mcp.api import reporting_waits

__all__ = ["CallProgress", "call_progress", "current_progress"]

_log = logging.getLogger("capacities_mcp.server")
_CURRENT: ContextVar[CallProgress | None] = ContextVar("capacities_call_progress", default=None)


class CallProgress:
    """The progress notifications of one tool call, always increasing."""

    def __init__(self, ctx: Context[Any, Any], tool: str) -> None:
        self._ctx = ctx
        self._tool = tool
        self._sent = 0.0
        self._waits_logged: set[str] = set()

    async def step(self, done: float, total: float | None, message: str) -> None:
        await self._send(max(done, self._sent + 0.01), total, message)

    async def waiting(self, route_key: str, seconds: float) -> None:
        """The API client holds a request back for the rate limit (called again while it lasts)."""
        if route_key not in self._waits_logged:
            self._waits_logged.add(route_key)
            _log.info("%s: waiting %.1f s for the rate limit of %s", self._tool, seconds, route_key)
        message = f"Waiting {seconds:.0f} s for the Capacities rate limit ({route_key})"
        await self._send(self._sent + 0.01, None, message)

    async def _send(self, value: float, total: float | None, message: str) -> None:
        self._sent = round(value, 2)
        try:
            await self._ctx.report_progress(self._sent, total, message)
        except Exception:  # a client gone away must not fail the call
            _log.debug("progress notification not sent", exc_info=True)


@contextmanager
def call_progress(ctx: Context[Any, Any], tool: str) -> Iterator[CallProgress]:
    """For the duration of one tool call: its `CallProgress`, and the client's waits reported to it."""
    progress = CallProgress(ctx, tool)
    token = _CURRENT.set(progress)
    try:
        with reporting_waits(progress.waiting):
            yield progress
    finally:
        _CURRENT.reset(token)


def current_progress() -> CallProgress | None:
    """The running tool call's progress (None outside a tool call)."""
    return _CURRENT.get()
