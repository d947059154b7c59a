"""Which `ServerState` a request works on, without importing the state (or the API client).

Two sources: multi-user mode sets the caller's own state around each request (`serving`); the
single-user server's lifespan hands every request a `StateHolder`, whose state opens on first use
or once the MCP handshake is over (so `initialize` and `tools/list` never wait for the client, the
API models or the embedded sandbox).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._state import ServerState

__all__ = ["ServerUnavailable", "StateHolder", "active_state", "serving"]


class ServerUnavailable(Exception):
    """The state could not be opened (the embedded sandbox could not start, say): every call
    says so, and tries again, instead of the session ending after a successful handshake."""


@runtime_checkable
class StateHolder(Protocol):
    """What the single-user lifespan yields: the process's state, opened on demand."""

    def current_state(self) -> ServerState | None:
        """The state if it is open, else None (nothing is opened)."""
        ...

    async def opened(self) -> ServerState:
        """The state, opened first if need be; raises `ServerUnavailable` when that fails."""
        ...


_ACTIVE: ContextVar[ServerState | None] = ContextVar("capacities_mcp_active_state", default=None)


@contextmanager
def serving(state: ServerState) -> Iterator[None]:
    """Tools and resources called in this context use `state` instead of the lifespan's.

    Multi-user mode has no process-wide client: each request brings its caller's own state.
    """
    token = _ACTIVE.set(state)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active_state() -> ServerState | None:
    """The state `serving` set for this request, if any."""
    return _ACTIVE.get()
