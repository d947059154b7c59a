"""The crawl over real HTTP against the sandbox: completeness, deletes and renames, resume after a
restart, write-through, and the quota: the mirror never causes a 429 nor makes the agent wait."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from capacities_mcp.api import CapacitiesApiError
from capacities_mcp.mirror import Mirror, MirrorOptions, MirrorStore
from capacities_mcp.sandbox import SandboxServer

from ..server.helpers import WELCOME_ID, running_sandbox
from .helpers import CountingProxy, client_for, mirrored, sync_until


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """Quotas effectively off: for what does not depend on them."""
    with running_sandbox() as sb:
        yield sb


@pytest.fixture
def quota_sandbox() -> Iterator[SandboxServer]:
    """Real quotas (30 object reads per window) in a one-second window."""
    with running_sandbox(rate_limit_window=1.0) as sb:
        yield sb


def live_objects(sandbox: SandboxServer) -> dict[str, str]:
    return {o["id"]: sandbox.state.title_of(o) for o in sandbox.state.live_objects()}


async def test_a_crawl_mirrors_every_object_without_one_429(quota_sandbox: SandboxServer) -> None:
    sandbox = quota_sandbox
    with CountingProxy(sandbox.base_url) as proxy:
        async with mirrored(sandbox, base_url=proxy.base_url) as mirror:
            stats = await mirror.sync_once()
            rows = await mirror.rows(list(live_objects(sandbox)))
    expected = live_objects(sandbox)
    assert stats.objects == stats.fetched == len(expected) == len(rows)
    assert {object_id: row.title for object_id, row in rows.items()} == expected
    assert proxy.count("GET", "/object") == len(expected)  # each object fetched once
    assert proxy.too_many == 0


async def test_trashed_deleted_and_renamed_objects_are_noticed(sandbox: SandboxServer) -> None:
    async with mirrored(sandbox) as mirror, client_for(sandbox) as other:
        await mirror.sync_once()
        pages = [o["id"] for o in sandbox.state.live_objects() if o["structureId"] == "RootPage"]
        trashed, deleted, renamed = pages[:3]
        await other.object.delete(trashed)
        await other.object.delete(deleted, hard_delete=True)
        title = {"title": {"type": "title", "title": {"value": "Zanzibar expedition plans"}}}
        await other.object.update(id=renamed, properties=title)
        await mirror.sync_once(force_listing=True)
        assert await mirror.rows([trashed, deleted]) == {}
        hits = await mirror.search("expedition zanzibar")
        assert hits is not None and [h.id for h in hits] == [renamed]
        stats = await mirror.stats()
        assert stats is not None and stats.trashed == 2


async def test_a_404_on_read_marks_an_object_gone(sandbox: SandboxServer) -> None:
    async with mirrored(sandbox) as mirror, client_for(sandbox) as other:
        await mirror.client.object.get(WELCOME_ID)
        assert WELCOME_ID in await mirror.rows([WELCOME_ID])
        await other.object.delete(WELCOME_ID)
        with pytest.raises(CapacitiesApiError):
            await mirror.client.object.get(WELCOME_ID)
        assert await mirror.rows([WELCOME_ID]) == {}


async def test_a_restarted_crawl_resumes_where_it_stopped(sandbox: SandboxServer, tmp_path: Path) -> None:
    location = tmp_path / "space.sqlite3"
    async with mirrored(sandbox, location) as first:
        await sync_until(first, "object.get", 15)
        before = await first.stats()
    assert before is not None and 15 <= before.fetched < before.objects
    with CountingProxy(sandbox.base_url) as proxy:
        async with mirrored(sandbox, location, base_url=proxy.base_url) as second:
            after = await second.sync_once()
    assert after.fetched == after.objects == len(live_objects(sandbox))
    assert proxy.count("GET", "/object") == before.objects - before.fetched


async def test_a_restarted_listing_pass_goes_on_from_its_saved_cursor(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """Listing pages are fetched once across a restart: the cursor of each page is saved."""
    with CountingProxy(sandbox.base_url) as fresh:  # how many pages a whole pass takes
        async with mirrored(sandbox, base_url=fresh.base_url, page_size=2) as whole:
            await whole.sync_once()
    pages = fresh.count("GET", "/objects/structure")
    location = tmp_path / "space.sqlite3"
    async with mirrored(sandbox, location, page_size=2) as first:
        await sync_until(first, "objects.structure", 3)
    with CountingProxy(sandbox.base_url) as proxy:
        async with mirrored(sandbox, location, base_url=proxy.base_url, page_size=2) as second:
            after = await second.sync_once()
    assert after.fetched == after.objects == len(live_objects(sandbox))
    # The pages whose cursor was saved (two, or three if the cancel came after the save) are not
    # listed again.
    assert pages - 3 <= proxy.count("GET", "/objects/structure") <= pages - 2, pages


async def test_what_the_server_reads_and_writes_is_mirrored_at_once(sandbox: SandboxServer) -> None:
    async with mirrored(sandbox) as mirror:  # no crawl at all: write-through only
        client = mirror.client
        title = {"title": {"type": "title", "title": {"value": "Field notes"}}}
        created = await client.object.create(structure_id="RootPage", properties=title)
        appended = await client.blocks.append(id=created.id, markdown="The xylophone met a zebra crossing.")
        hits = await mirror.search("zebra xylophone")
        assert hits is not None and [h.id for h in hits] == [created.id]
        block_ids = {b.id for blocks in (appended.blocks or {}).values() for b in blocks}  # type: ignore[union-attr]
        assert hits[0].block_id in block_ids
        await client.object.delete(created.id)
        assert await mirror.search("zebra xylophone") == []


async def test_the_agent_never_waits_behind_the_crawl(quota_sandbox: SandboxServer) -> None:
    """The agent reads 8 objects a second (within the third kept free of 30 a second) on the client
    the mirror crawls with; a call that had to wait for the quota would fail at once
    (max_rate_limit_wait=0). Neither the agent nor the mirror meets a 429."""
    sandbox = quota_sandbox
    ids = list(live_objects(sandbox))
    with CountingProxy(sandbox.base_url) as proxy:
        async with mirrored(sandbox, base_url=proxy.base_url, keep_free=1 / 3) as mirror:
            mirror.client._transport.max_rate_limit_wait = 0.0
            agent_calls = 0

            async def agent() -> None:
                nonlocal agent_calls
                while True:
                    await mirror.client.object.get(ids[agent_calls % len(ids)])
                    agent_calls += 1
                    await anyio.sleep(1 / 8)

            async with anyio.create_task_group() as tg:
                tg.start_soon(agent)
                stats = await mirror.sync_once()
                tg.cancel_scope.cancel()
    assert stats.fetched == stats.objects == len(ids)
    assert agent_calls > 8
    assert proxy.too_many == 0


async def test_the_crawl_never_calls_the_store_on_the_event_loop(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every store call waits on SQLite's lock (another process may hold it): none may block the
    loop the agent's calls are served on. One whole round: a pass, then the wait for the next."""
    loop_thread = threading.get_ident()
    calls: list[tuple[str, bool]] = []
    for name in ("meta", "set_meta", "take_lease", "put", "listed", "sweep", "due", "stats", "read"):
        real = getattr(MirrorStore, name)

        def watched(store: MirrorStore, *args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            calls.append((_name, threading.get_ident() == loop_thread))
            return _real(store, *args, **kw)

        monkeypatch.setattr(MirrorStore, name, watched)
    async with client_for(sandbox) as client:
        mirror = Mirror(client, MirrorOptions(location=":memory:", start_delay=0.0))
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(mirror.run)
                while not _planned_next_pass([name for name, _ in calls]):
                    await anyio.sleep(0.05)
                tasks.cancel_scope.cancel()
        await mirror.close()
    assert ("put", False) in calls
    assert [name for name, on_loop in calls if on_loop] == []


def _planned_next_pass(names: list[str]) -> bool:
    """A round ends with `stats` (which reads one meta value itself), then the wait for the next
    round reads the time of the last pass: a second meta read after the last `stats`."""
    if "stats" not in names:
        return False
    last = len(names) - 1 - names[::-1].index("stats")
    return names[last:].count("meta") >= 2


async def test_a_kick_before_the_crawl_waits_starts_it_at_once(sandbox: SandboxServer) -> None:
    """The agent's first call may come before the mirror's task runs (the runtime opens at that
    call): its kick still starts the crawl, not the start delay."""
    async with client_for(sandbox) as client:
        mirror = Mirror(client, MirrorOptions(location=":memory:", start_delay=600.0))
        await client.space.get()  # observed: the kick comes first
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(mirror.run)
                while not mirror.ready:
                    await anyio.sleep(0.02)
                tasks.cancel_scope.cancel()
        await mirror.close()


async def test_a_search_opens_a_file_other_processes_filled_without_waiting_for_the_crawl(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """Another server on a shared file answers its very first search from it (no crawl has
    started); a space read it has seen names the file, so the open then costs no request."""
    with CountingProxy(sandbox.base_url) as proxy:  # one API address for all: one mirror file
        async with mirrored(sandbox, tmp_path, base_url=proxy.base_url) as first:
            await first.sync_once()
        async with client_for(sandbox, proxy.base_url) as client:
            for seen_space in (False, True):
                mirror = Mirror(client, MirrorOptions(location=tmp_path, start_delay=600.0))
                if seen_space:
                    await client.space.get()  # the runtime's credential check, say
                spaces_read = proxy.count("GET", "/space")
                try:
                    hits = await mirror.search("slip-box luhmann")
                finally:
                    await mirror.close()
                assert hits is not None and len(hits) == 1, hits
                assert proxy.count("GET", "/space") == spaces_read + (0 if seen_space else 1)


@pytest.mark.parametrize("dated", [True, False], ids=["a-given-day", "today"])
async def test_a_daily_note_append_is_mirrored_once_the_api_has_applied_it(dated: bool) -> None:
    """The API applies daily-note appends later and answers them with nothing to store: the
    mirror fetches that day's note again a little later (here 1.5 s after the append), not
    hours later with the rest. The sandbox holds the append until the test applies it, right
    after the answer: its own 1 s timer, late on a loaded machine, could miss both rechecks."""
    with running_sandbox(daily_note_delay=600.0) as sandbox:
        notes = sorted(
            (sandbox.state.title_of(o), o["id"])
            for o in sandbox.state.live_objects()
            if o["structureId"] == "RootDailyNote"
        )
        (title, note_id) = notes[0] if dated else notes[-1]  # the oldest, or today's
        async with client_for(sandbox) as client:
            options = MirrorOptions(location=":memory:", start_delay=0.0, daily_note_rechecks=(1.5, 4.0))
            mirror = Mirror(client, options)
            with anyio.fail_after(60):
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(mirror.run)
                    while (stats := await mirror.stats()) is None or stats.fetched < stats.objects:
                        await anyio.sleep(0.05)
                    await client.blocks.daily_note.append(
                        date=title if dated else None, markdown="A narwhal juggled quinces."
                    )
                    assert sandbox.runtime.pending_daily_notes == 1  # answered, not applied
                    sandbox.flush_daily_notes()  # the API applies it (before the first recheck)
                    while [h.id for h in await mirror.search("quinces narwhal") or []] != [note_id]:
                        await anyio.sleep(0.05)
                    tasks.cancel_scope.cancel()
            await mirror.close()
