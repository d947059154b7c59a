"""`Mirror`: keeps the local copy in step with the space, within the API's quotas.

* Crawl: list every structure (all pages; the cursor is saved, so a restart resumes), then fetch
  each object not yet mirrored, then the least recently fetched ones again. Every request runs at
  background priority (`api.background_priority`): it only uses the part of a route's quota the
  agent does not need, so the agent never waits behind the mirror and the mirror never meets a 429.
* Write-through: the mirror observes every call of the shared client. What the server writes (a
  create, an append, an update, a delete) is in the mirror the moment the call returns. What it
  reads (an object, a listing, a title search) goes to a short queue the mirror's background task
  works off, so the tool answers first (storing a 25,000-block object takes about a second); a
  read that finds the queue full is dropped, the crawl brings it back. A queued read never undoes
  a later write or delete (`MirrorStore.put` keeps the newer state). A daily-note append is
  answered with nothing (the API applies it later): that day's note is fetched again shortly after.
* Deletes and renames: a 404 marks an object gone; a complete listing pass marks gone whatever it
  did not show; a changed title in a listing is indexed at once.
* Several processes on one file: one crawls (a lease row), all read and write through.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import math
import os
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from pydantic import BaseModel

from capacities_mcp.api import (
    DEFAULT_BASE_URL,
    DEFAULT_KEEP_FREE,
    CapacitiesApiError,
    CapacitiesClient,
    CapacitiesError,
    Route,
    background_priority,
    in_background,
)
from capacities_mcp.api.models import ApiObject, ObjectListPage, SearchResponse, Space, daily_note_title

from ._extract import record_of
from ._query import Condition, QueryRow, SearchHit, Sort, query, rows_by_id, search
from ._store import MEMORY, MirrorStats, MirrorStore

__all__ = ["Mirror", "MirrorOptions", "default_mirror_dir", "describe", "mirror_file_name"]

_log = logging.getLogger("capacities_mcp.mirror")
T = TypeVar("T")

# Structures the space may not list but the listing route serves (built-in types).
_BUILTIN_LISTINGS = ("RootPage", "RootTask", "RootTag", "RootDailyNote", "MediaWebResource")
_NOT_LISTED = frozenset({"RootDatabase", "RootStructure", "RootQuery", "RootSpace", "User", "UserPersonal"})
_LISTING_ROUTES = frozenset({"objects.structure", "objects.tag", "objects.collection"})

# Reads waiting to be stored; more are dropped (each may hold a large object; the crawl brings
# a dropped one back).
_READS_WAITING = 16

# Seconds an agent's search or query waits for the store to open (one space read at most).
AGENT_OPEN_WAIT = 5.0

# What one observed call changes in the store (run in a worker thread).
_Work = Callable[[MirrorStore], object]


def default_mirror_dir() -> Path:
    """Where mirrors live unless told otherwise: the user's cache directory."""
    import platformdirs  # only when a mirror file is opened: off the start-up path

    return Path(platformdirs.user_cache_dir("capacities-mcp", appauthor=False)) / "mirror"


def mirror_file_name(space_id: str, base_url: str) -> str:
    """One file per space (and per API, so a sandbox never mixes with the real space)."""
    if base_url.rstrip("/") == DEFAULT_BASE_URL:
        return f"{space_id}.sqlite3"
    return f"{space_id}-{hashlib.sha256(base_url.encode()).hexdigest()[:10]}.sqlite3"


def describe(stats: MirrorStats, now: float | None = None) -> str:
    """How complete and fresh the mirror is, in one line for the model."""
    if stats.objects == 0:
        return "content index: empty so far, first crawl running"
    line = f"content index: {stats.fetched} of {stats.objects} objects"
    if stats.oldest_fetch is not None:
        age = max(0.0, (time.time() if now is None else now) - stats.oldest_fetch)
        line += f", refreshed within {_duration(age)}"
    return line


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, math.ceil(seconds / 60))} min"
    if seconds < 90 * 60:
        return f"{math.ceil(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{math.ceil(seconds / 3600)} h"
    return f"{math.ceil(seconds / 86400)} days"


@dataclass(frozen=True)
class MirrorOptions:
    """The mirror's knobs. `location`: a directory (one file per space inside), a file path ending
    in .sqlite3, or ":memory:". `keep_free`: the share of each quota the mirror never uses.
    `start_delay`: seconds after start-up before the first crawl (the first API call by the agent
    starts it sooner). `relist_every`: seconds between listing passes (new objects, renames,
    deletes). `refetch_after`: seconds after which an object's content is fetched again.
    `daily_note_rechecks`: seconds after a daily-note append at which that day's note is fetched
    again (the API applies such appends later, and answers them with nothing to store)."""

    location: str | Path | None = None
    keep_free: float = DEFAULT_KEEP_FREE
    start_delay: float = 5.0
    relist_every: float = 600.0
    refetch_after: float = 6 * 3600.0
    lease_ttl: float = 30.0
    page_size: int = 100
    error_backoff_max: float = 60.0
    daily_note_rechecks: tuple[float, ...] = (20.0, 120.0)


class Mirror:
    """The local copy of one space, its crawl and its write-through."""

    def __init__(self, client: CapacitiesClient, options: MirrorOptions | None = None) -> None:
        self.client = client
        self.options = options or MirrorOptions()
        self.store: MirrorStore | None = None
        self.holder = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._lease_renewed = -math.inf  # monotonic time of the last renewal
        self._kicked: anyio.Event | None = None
        self._woken: anyio.Event | None = None  # ends the crawl's rest early (a recheck came)
        self._rechecks: list[tuple[float, tuple[str, ...]]] = []  # (monotonic due time, titles)
        self._kick_asked = False  # a kick before the crawl started waiting: it starts at once
        self._space_id: str | None = None  # seen in a space read: names the file without a request
        self._open_lock: anyio.Lock | None = None
        self._pending: list[_Work] = []  # observed before the store was open
        self._reads: MemoryObjectSendStream[_Work] | None = None  # while the background task runs
        self._reads_waiting = 0
        self.last_error: str | None = None
        client.add_observer(self.observe)

    # --- opening --------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self.store is not None

    def kick(self) -> None:
        """Start the crawl now instead of after the start delay (the agent is at work)."""
        self._kick_asked = True
        if self._kicked is not None:
            self._kicked.set()

    async def open(self) -> MirrorStore:
        """The store, opened on first use (its file name needs the space id: one request)."""
        if self.store is not None:
            return self.store
        if self._open_lock is None:
            self._open_lock = anyio.Lock()
        async with self._open_lock:
            if self.store is None:
                location = await self._location()
                self.store = await anyio.to_thread.run_sync(MirrorStore, location)
                pending, self._pending = self._pending, []
                for work in pending:
                    await self._with_store(work)
        return self.store

    async def _location(self) -> str | Path:
        given = self.options.location
        if given is not None and (str(given) == MEMORY or str(given).endswith(".sqlite3")):
            return given
        if self._space_id is None:
            with background_priority(self.options.keep_free):
                self._space_id = (await self._patiently(self.client.space.get)).id
        directory = Path(given) if given is not None else default_mirror_dir()
        return directory / mirror_file_name(self._space_id, self.client.base_url)

    async def _opened_for_agent(self) -> MirrorStore | None:
        """The store for an agent's search or query, opened now if the crawl has not yet: a file
        other processes filled answers from the first call. None if it cannot open in a few
        seconds (the caller says the index is starting)."""
        if self.store is None:
            self.kick()
            with anyio.move_on_after(AGENT_OPEN_WAIT):
                try:
                    await self.open()
                except (CapacitiesError, sqlite3.Error, OSError) as exc:
                    _log.info("mirror not open yet: %s", exc)
        return self.store

    async def close(self) -> None:
        store, self.store = self.store, None
        if store is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(store.release_lease, self.holder)
                await anyio.to_thread.run_sync(store.close)

    # --- write-through --------------------------------------------------------------------------

    async def observe(
        self, route: Route, model: BaseModel | None, result: Any, error: CapacitiesError | None
    ) -> None:
        """Called by the client after every call (the crawl's own calls included): writes are
        stored before the call returns, the agent's reads in the background (see the module)."""
        self.kick()
        if isinstance(result, Space):
            self._space_id = result.id
        if route.name == "blocks.daily_note.append" and _may_have_changed(error):
            self._recheck_daily_note(getattr(model, "date", None))
        work = _work_for(route, model, result, error, time.time())
        if work is None:
            return
        if self.store is None:
            self._pending = [*self._pending[-199:], work]
        elif route.is_read and not in_background() and self._reads is not None:
            self._queue(work)
        else:  # writes, and the crawl's own (background) reads: its listing pass is stored before
            # the sweep, a fetched object before `due` is asked again
            await self._with_store(work)

    def _queue(self, work: _Work) -> None:
        assert self._reads is not None
        try:
            self._reads.send_nowait(work)
        except anyio.WouldBlock:
            _log.debug("mirror: %d reads waiting, one more dropped", self._reads_waiting)
            return
        self._reads_waiting += 1

    async def _store_reads(self) -> None:
        """The background task's half that stores the reads the agent made, one after another."""
        send, receive = anyio.create_memory_object_stream[_Work](_READS_WAITING)
        self._reads = send
        try:
            await self._work_off(receive)
        finally:
            self._reads, self._reads_waiting = None, 0
            send.close()
            receive.close()

    async def _work_off(self, receive: MemoryObjectReceiveStream[_Work]) -> None:
        async for work in receive:
            try:
                await self._with_store(work)
            except Exception:  # one object that cannot be stored must not stop the others
                _log.warning("the mirror could not store a read", exc_info=True)
            finally:
                self._reads_waiting -= 1

    async def settled(self) -> None:
        """Until every read waiting to be stored is (for tests and benchmarks)."""
        while self._reads_waiting > 0:
            await anyio.sleep(0.01)

    async def _for_agent(self, work: Callable[[MirrorStore], T]) -> T | None:
        """An agent's read of the store, which opens it first if need be."""
        await self._opened_for_agent()
        return await self._with_store(work)

    async def _with_store(self, work: Callable[[MirrorStore], T]) -> T | None:
        store = self.store
        if store is None:
            return None
        try:
            return await anyio.to_thread.run_sync(work, store)
        except sqlite3.DatabaseError as exc:
            if self.store is not store or isinstance(exc, sqlite3.ProgrammingError):
                return None  # closed meanwhile (the server is stopping): nothing is wrong with it
            _log.warning("mirror database error (%s): rebuilding it", exc)
            await anyio.to_thread.run_sync(store.rebuild)
            return None

    # --- reading (for the tools) -----------------------------------------------------------------

    async def search(
        self, text: str, *, titles_only: bool = False, structure_ids: list[str] | None = None, limit: int = 10
    ) -> list[SearchHit] | None:
        """Ranked hits, or None while the mirror is not open yet."""

        def work(store: MirrorStore) -> list[SearchHit]:
            return search(store, text, titles_only=titles_only, structure_ids=structure_ids, limit=limit)

        return await self._for_agent(work)

    async def query(
        self, structure_id: str, conditions: list[Condition], sort: Sort | None, limit: int
    ) -> tuple[list[QueryRow], int] | None:
        return await self._for_agent(lambda s: query(s, structure_id, conditions, sort, limit))

    async def rows(self, ids: list[str]) -> dict[str, QueryRow]:
        return await self._for_agent(lambda s: rows_by_id(s, ids)) or {}

    async def stats(self) -> MirrorStats | None:
        return await self._for_agent(lambda s: s.stats())

    # --- the crawl ------------------------------------------------------------------------------

    async def run(self) -> None:
        """The background task: store the agent's reads as they come; wait for the start, then
        crawl and refresh until cancelled."""
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._store_reads)
            try:
                await self._crawl()
            finally:
                tasks.cancel_scope.cancel()

    async def _crawl(self) -> None:
        self._kicked = anyio.Event()
        if self._kick_asked:
            self._kicked.set()
        with anyio.move_on_after(self.options.start_delay):
            await self._kicked.wait()
        backoff = 1.0
        try:
            while True:
                try:
                    store = await self.open()
                    await self._mark_rechecks_due(store)
                    if await anyio.to_thread.run_sync(store.take_lease, self.holder, self.options.lease_ttl):
                        self._lease_renewed = time.monotonic()
                        await self.sync_once()
                        wait = await self._until_next_pass(store)
                    else:
                        wait = self.options.lease_ttl / 2
                    backoff = 1.0
                    self.last_error = None
                except (CapacitiesError, sqlite3.Error, OSError) as exc:
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    _log.info("mirror crawl paused: %s", self.last_error)
                    if isinstance(exc, sqlite3.DatabaseError) and self.store is not None:
                        await anyio.to_thread.run_sync(self.store.rebuild)
                    wait, backoff = backoff, min(self.options.error_backoff_max, backoff * 2)
                await self._rest(wait)
        finally:
            if self.store is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self.store.release_lease, self.holder)

    async def _rest(self, wait: float) -> None:
        """Until the next round, or sooner when a daily-note recheck falls due."""
        if self._rechecks:
            wait = min(wait, max(0.0, self._rechecks[0][0] - time.monotonic()))
        self._woken = anyio.Event()
        with anyio.move_on_after(wait):
            await self._woken.wait()

    def _recheck_daily_note(self, date: str | None) -> None:
        titles, now = _daily_note_titles(date), time.monotonic()
        for delay in self.options.daily_note_rechecks:
            bisect.insort(self._rechecks, (now + delay, titles))
        if self._woken is not None:
            self._woken.set()

    async def _mark_rechecks_due(self, store: MirrorStore) -> None:
        """Daily notes whose recheck is due become due for a fetch, by whichever process crawls
        (the mark is in the shared file)."""
        now = time.monotonic()
        due = {title for at, titles in self._rechecks if at <= now for title in titles}
        if due:
            self._rechecks = [r for r in self._rechecks if r[0] > now]
            long_ago = time.time() - self.options.refetch_after - 1.0
            await anyio.to_thread.run_sync(store.stale, "RootDailyNote", sorted(due), long_ago)

    async def _until_next_pass(self, store: MirrorStore) -> float:
        last = await anyio.to_thread.run_sync(store.meta, "last_pass")
        due = (float(last) if last else 0.0) + self.options.relist_every
        return max(1.0, min(due - time.time(), self.options.lease_ttl / 2))

    async def sync_once(self, *, force_listing: bool = False) -> MirrorStats:
        """One step of the crawl: a listing pass when due, then every object due for a fetch."""
        return await self._sync_step(await self.open(), force_listing)

    async def _sync_step(self, store: MirrorStore, force_listing: bool) -> MirrorStats:
        with background_priority(self.options.keep_free):
            last = await anyio.to_thread.run_sync(store.meta, "last_pass")
            pass_due = force_listing or not last or time.time() - float(last) >= self.options.relist_every
            unfinished = await anyio.to_thread.run_sync(store.meta, "pass_started")
            if pass_due or unfinished:
                await self._listing_pass(store)
            await self._fetch_due(store)
        return await anyio.to_thread.run_sync(store.stats)

    async def _listing_pass(self, store: MirrorStore) -> None:
        started = await anyio.to_thread.run_sync(store.meta, "pass_started")
        if started is None:
            started = repr(time.time())
            await anyio.to_thread.run_sync(store.reset_listings)
            await anyio.to_thread.run_sync(store.set_meta, "pass_started", started)
        complete = []
        for structure_id in await self._structure_ids():
            if await self._list_structure(store, structure_id):
                complete.append(structure_id)
            await self._renew_lease(store)
        if complete:
            await anyio.to_thread.run_sync(store.sweep, complete, float(started))
        await anyio.to_thread.run_sync(store.set_meta, "last_pass", repr(time.time()))
        await anyio.to_thread.run_sync(store.set_meta, "pass_started", None)

    async def _structure_ids(self) -> list[str]:
        listed = await self._patiently(self.client.space.structures)
        ids = [s.id for s in listed.structures if s.id not in _NOT_LISTED]
        return ids + [b for b in _BUILTIN_LISTINGS if b not in ids]

    async def _list_structure(self, store: MirrorStore, structure_id: str) -> bool:
        """Every page of one structure (from the saved cursor); False when it cannot be listed."""
        cursor, done = await anyio.to_thread.run_sync(store.listing_state, structure_id)
        while not done:
            try:
                page = await self._patiently(
                    self.client.objects.structure, structure_id, self.options.page_size, cursor
                )
            except CapacitiesApiError as exc:
                if exc.status == 400 and cursor is not None:  # an expired cursor: start that one over
                    cursor = None
                    continue
                if exc.status in (400, 404):
                    await anyio.to_thread.run_sync(store.set_listing_state, structure_id, None, True)
                    return False
                raise
            cursor = page.next_cursor if page.has_more and page.next_cursor else None
            done = cursor is None
            await anyio.to_thread.run_sync(store.set_listing_state, structure_id, cursor, done)
        return True

    async def _fetch_due(self, store: MirrorStore) -> None:
        while True:
            stale_before = time.time() - self.options.refetch_after
            due = await anyio.to_thread.run_sync(store.due, 25, stale_before)
            if not due:
                return
            for object_id in due:
                try:
                    await self._patiently(self.client.object.get, object_id)
                except CapacitiesApiError as exc:
                    if exc.status not in (400, 404):  # 404: marked gone by `observe`
                        raise
                    if exc.status == 400:
                        await anyio.to_thread.run_sync(store.gone, object_id)
                await self._renew_lease(store)

    async def _renew_lease(self, store: MirrorStore) -> None:
        """Keep the crawl lease: a write transaction, so off the event loop, and only once a sixth
        of its time has gone (not after every object; the rest covers a slow call after it)."""
        if time.monotonic() - self._lease_renewed < self.options.lease_ttl / 6:
            return
        await anyio.to_thread.run_sync(store.take_lease, self.holder, self.options.lease_ttl)
        self._lease_renewed = time.monotonic()

    async def _patiently(self, call: Callable[..., Awaitable[T]], *args: Any) -> T:
        """A background call, waiting out our own limiter's "not now" (nothing was sent then)."""
        while True:
            try:
                return await call(*args)
            except CapacitiesApiError as exc:
                if exc.status != 429:
                    raise
                await anyio.sleep(max(0.05, exc.retry_after or 1.0))


def _may_have_changed(error: CapacitiesError | None) -> bool:
    """A write answered, or one whose failure does not prove it changed nothing."""
    return not (isinstance(error, CapacitiesApiError) and 400 <= error.status < 500)


def _daily_note_titles(date: str | None) -> tuple[str, ...]:
    """The titles of the daily note an append went to (the day at midnight, ISO): its day's, or
    without a date (today in the account's time zone, unknown here) yesterday's, today's and
    tomorrow's in UTC."""
    if date:
        days = [date[:10]]
    else:
        today = datetime.now(UTC).date()
        days = [(today + timedelta(days=shift)).isoformat() for shift in (-1, 0, 1)]
    return tuple(daily_note_title(day) for day in days)


def _work_for(
    route: Route, model: BaseModel | None, result: Any, error: CapacitiesError | None, seen: float
) -> _Work | None:
    """What a finished call (answered at wall time `seen`) changes in the mirror, if anything."""
    name = route.name
    if error is not None:
        if name == "object.get" and isinstance(error, CapacitiesApiError) and error.status == 404:
            return _gone(str(getattr(model, "id", "")))
        return None
    if isinstance(result, ApiObject):
        if name == "object.update" and getattr(model, "delete_requested", None):
            return _gone(result.id)
        return _put(result, seen)
    if name == "object.delete":
        return _gone(str(getattr(model, "id", "")))
    if isinstance(result, ObjectListPage) and name in _LISTING_ROUTES:
        listed = [(r.id, r.structure_id, r.title) for r in result.results]
        return lambda store: store.listed(listed, seen, seen_at=seen)
    if isinstance(result, SearchResponse):
        found = [(r.id, r.structure_id, r.title) for r in result.results]
        return lambda store: store.listed(found, None, seen_at=seen)
    return None


def _put(obj: ApiObject, seen: float) -> _Work:
    return lambda store: store.put(record_of(obj), seen)


def _gone(object_id: str) -> _Work:
    return lambda store: store.gone(object_id)
