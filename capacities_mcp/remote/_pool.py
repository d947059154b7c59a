"""Each signed-in user's own `ServerState` (Capacities client and caches), in a bounded pool.

A grant's client is built on its first call in this replica from the tokens in the shared
State, and kept for the next calls (its connections and caches with it); its rate-limit quotas
are counted in the shared State, so the replicas together keep within them. At most
`max_users` are kept: past that, the least recently used idle ones are closed. A client is never
shared between grants, so one user's token can never serve another user's call.

Building a client (its own HTTP transport, its tokens read from the State) happens outside any
lock, so one user's slow State read or build holds up no one else; two calls of one user that
find no client share one build. No lock is needed for the dict itself: it is read and changed
only between awaits, so each step is atomic on the event loop.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

from capacities_mcp.api import CapacitiesClient
from capacities_mcp.server import ServerState, SpaceCache

from ._quotas import StateQuotaStore
from ._settings import RemoteSettings
from ._state import State
from ._upstream import Upstream

__all__ = ["SignInEnded", "UserPool"]

_log = logging.getLogger("capacities_mcp.remote")


class SignInEnded(LookupError):
    """The grant's Capacities tokens are gone (revoked meanwhile): the user signs in again."""


@dataclass
class _Entry:
    """A grant's slot; `state` is None while it is built, `ready` is set when the build ends."""

    ready: anyio.Event = field(default_factory=anyio.Event)
    state: ServerState | None = None
    busy: int = 0
    dropped: bool = False  # closed by the last call still using it


class UserPool:
    """grant id -> that user's `ServerState`, least recently used first."""

    def __init__(self, settings: RemoteSettings, upstream: Upstream, state: State, api_version: str) -> None:
        self._settings = settings
        self._upstream = upstream
        self._state = state
        self._api_version = api_version
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.created = 0  # clients built so far (diagnostics, tests)

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def state_for(self, grant_id: str) -> AsyncIterator[ServerState]:
        """The grant's state, held for the duration of one call."""
        entry, state = await self._checkout(grant_id)
        try:
            yield state
        finally:
            entry.busy -= 1
            if entry.dropped and entry.busy == 0:
                await state.client.aclose()

    async def _checkout(self, grant_id: str) -> tuple[_Entry, ServerState]:
        while True:
            entry = self._entries.get(grant_id)
            if entry is None:
                entry = self._entries[grant_id] = _Entry(busy=1)
                state = await self._build(grant_id, entry)
                break
            self._entries.move_to_end(grant_id)
            entry.busy += 1
            try:
                await entry.ready.wait()  # another call of this user is building its state
            except BaseException:
                entry.busy -= 1
                raise
            if entry.state is not None:
                state = entry.state
                break
            entry.busy -= 1  # that build failed: build again (a revoked grant fails again)
        for old in self._over_limit():
            if old.state is not None:
                await old.state.client.aclose()
        return entry, state

    async def _build(self, grant_id: str, entry: _Entry) -> ServerState:
        """The grant's state, put in `entry`; on failure the slot is freed for the next call."""
        try:
            state = entry.state = await self._open(grant_id)
            self.created += 1
            return state
        finally:
            if entry.state is None and self._entries.get(grant_id) is entry:
                del self._entries[grant_id]
            entry.ready.set()

    async def _open(self, grant_id: str) -> ServerState:
        tokens = await self._upstream.load(grant_id)
        if tokens is None:
            raise SignInEnded("the Capacities sign-in of this authorization has ended")
        client = CapacitiesClient(
            oauth=self._upstream.credential(grant_id, tokens),
            base_url=self._settings.api_url,
            api_version=self._api_version,
            # The grant's quotas, counted together by every replica (its tokens rotate; it stays).
            shared_quotas=StateQuotaStore(self._state, f"grant:{grant_id}"),
        )
        return ServerState(client=client, space=SpaceCache(client))

    def _over_limit(self) -> list[_Entry]:
        """Idle entries beyond the bound, oldest first (busy ones wait for their turn)."""
        excess = len(self._entries) - self._settings.max_users
        if excess <= 0:  # the common case: no scan on every call
            return []
        idle = [key for key, entry in self._entries.items() if entry.busy == 0][:excess]
        return [self._entries.pop(key) for key in idle]

    async def drop(self, grant_id: str) -> None:
        """Forget a revoked grant's client here (other replicas stop at their token check)."""
        entry = self._entries.pop(grant_id, None)
        if entry is None:
            return
        entry.dropped = True
        if entry.busy == 0 and entry.state is not None:
            await entry.state.client.aclose()

    async def aclose(self) -> None:
        entries, self._entries = list(self._entries.values()), OrderedDict()
        for entry in entries:
            if entry.state is None:
                entry.dropped = True  # still being built: its call closes it when done
            else:
                await entry.state.client.aclose()
        _log.debug("closed %d user clients", len(entries))
