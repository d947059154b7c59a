"""search_objects, query_objects and list_objects on the mirror, through a real MCP client talking
to the real server (build_app) whose client talks HTTP to the sandbox."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from capacities_mcp.mirror import MirrorStore, Record
from capacities_mcp.sandbox import SandboxServer

from ..server.helpers import TASK_ID, running_sandbox, text_of
from .helpers import app_on, client_for

PRODUCTIVITY_TAG = "78aa497b-4292-5532-b859-8106308d3560"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with running_sandbox() as sb:
        yield sb


async def crawled(app: Any) -> None:
    """Until the mirror holds every object's content (the first tool call started the crawl)."""
    with anyio.fail_after(60):
        while True:
            stats = await app.runtime.state.mirror.stats()
            if stats is not None and stats.objects and stats.fetched == stats.objects:
                return
            await anyio.sleep(0.1)


@pytest.fixture(scope="module")
def mirror_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mirror file for the module: the first test crawls, the others start from it."""
    return tmp_path_factory.mktemp("mirror")


@pytest.fixture
async def session(sandbox: SandboxServer, mirror_dir: Path) -> AsyncIterator[tuple[Client, Any]]:
    app = app_on(sandbox, mirror_dir, structured_output=True)
    async with Client(app.server) as client:
        await client.call_tool("get_space", {})
        await crawled(app)
        yield client, app


async def test_search_finds_words_from_the_body_in_any_order(session: tuple[Client, Any]) -> None:
    client, _ = session
    result = await client.call_tool("search_objects", {"query": "slip-box Luhmann"})
    text = text_of(result)
    assert "How to Take Smart Notes" in text and "content index: 52 of 52 objects, refreshed within" in text
    hit = result.structured_content["results"][0]  # type: ignore[index]
    assert hit["title"] == "How to Take Smart Notes" and hit["block_id"] and "Luhmann" in hit["snippet"]
    assert f"block `{hit['block_id']}`" in text
    only_titles = await client.call_tool("search_objects", {"query": "Luhmann", "titles_only": True})
    assert "How to Take Smart Notes" not in text_of(only_titles)


async def test_titles_rank_first_and_structures_narrow(session: tuple[Client, Any]) -> None:
    client, _ = session
    result = await client.call_tool("search_objects", {"query": "planning Q3"})
    titles = [r["title"] for r in result.structured_content["results"]]  # type: ignore[index]
    assert set(titles[:2]) == {"Draft Q3 planning agenda", "Meeting notes: Q3 planning"}
    tasks = await client.call_tool("search_objects", {"query": "planning Q3", "structure": "Task"})
    assert [r["title"] for r in tasks.structured_content["results"]] == ["Draft Q3 planning agenda"]  # type: ignore[index]


async def test_text_appended_through_the_server_is_found_at_once(session: tuple[Client, Any]) -> None:
    client, _ = session
    appended = await client.call_tool(
        "append_blocks", {"id": TASK_ID, "markdown": "Bring the quokka photographs to the offsite."}
    )
    assert not appended.is_error, text_of(appended)
    result = await client.call_tool("search_objects", {"query": "offsite quokka"})
    assert [r["id"] for r in result.structured_content["results"]] == [TASK_ID]  # type: ignore[index]


async def test_a_read_answers_before_the_mirror_has_stored_it(
    session: tuple[Client, Any], sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """get_object answers while the mirror's store of that object is held up; the object is in
    the mirror once it is let go (reads are stored in the background, writes at once)."""
    client, app = session
    mirror = app.runtime.state.mirror
    async with client_for(sandbox) as other:  # made in the app: the server's mirror has not seen it
        created = await other.object.markdown.create(
            structure_id="RootPage", markdown="# Ledger\n\nThe narwhal ledger balances at dawn."
        )
    gate = threading.Event()
    put = MirrorStore.put

    def held_put(store: MirrorStore, record: Record, fetched_at: float | None = None) -> bool:
        if record.id == created.id:
            gate.wait()
        return put(store, record, fetched_at)

    monkeypatch.setattr(MirrorStore, "put", held_put)
    waited = False

    async def let_go_after_a_while() -> None:  # had the answer waited for the store, it would hang
        nonlocal waited
        await anyio.sleep(30)
        waited = True
        gate.set()

    async with anyio.create_task_group() as guard:
        guard.start_soon(let_go_after_a_while)
        result = await client.call_tool("get_object", {"id": created.id})
        before = await mirror.search("narwhal ledger")
        guard.cancel_scope.cancel()
    gate.set()
    assert not waited, "get_object waited for the mirror to store what it read"
    assert "narwhal ledger" in text_of(result) and before == []
    with anyio.fail_after(30):
        await mirror.settled()
    assert [h.id for h in await mirror.search("narwhal ledger")] == [created.id]


async def test_objects_not_mirrored_yet_are_found_by_title(
    session: tuple[Client, Any], sandbox: SandboxServer
) -> None:
    client, _ = session
    async with client_for(sandbox) as other:  # made in the app, so to speak: the server never saw it
        title = {"title": {"type": "title", "title": {"value": "Walrus migration report"}}}
        created = await other.object.create(structure_id="RootPage", properties=title)
    result = await client.call_tool("search_objects", {"query": "walrus migration"})
    assert [r["id"] for r in result.structured_content["results"]] == [created.id]  # type: ignore[index]


async def test_query_open_tasks_by_priority_in_one_call(session: tuple[Client, Any]) -> None:
    client, _ = session
    result = await client.call_tool(
        "query_objects",
        {
            "structure": "Tasks",
            "filters": [{"property": "Status", "op": "not", "value": "Done"}],
            "sort": "-priority",
        },
    )
    data = result.structured_content
    assert data is not None and not result.is_error, text_of(result)
    rows = data["results"]
    assert data["total"] == len(rows) == 7
    assert all("Status: Done" not in r["properties"] for r in rows)
    priorities = [next(p for p in r["properties"] if p.startswith("Priority")) for r in rows]
    assert priorities == sorted(priorities, key=["Priority: High", "Priority: Medium", "Priority: Low"].index)
    assert all(r["tokens"] for r in rows) and "of 7 Tasks match" in text_of(result)


async def test_query_by_tag_date_and_text(session: tuple[Client, Any]) -> None:
    client, _ = session

    async def titles(*filters: dict[str, Any]) -> list[str]:
        result = await client.call_tool("query_objects", {"structure": "Task", "filters": list(filters)})
        assert not result.is_error, text_of(result)
        return sorted(r["title"] for r in result.structured_content["results"])  # type: ignore[index]

    assert await titles({"property": "tags", "op": "has", "value": "Productivity"}) == [
        "Draft Q3 planning agenda",
        "Migrate notes to the new API",
    ]
    assert await titles({"property": "tags", "op": "has", "value": PRODUCTIVITY_TAG}) == await titles(
        {"property": "tags", "op": "has", "value": "productivity"}
    )
    assert await titles({"property": "title", "op": "contains", "value": "passport"}) == ["Renew passport"]
    due = await titles({"property": "deadline", "op": "between", "value": "-3650d..+3650d"})
    assert due and set(due) == set(await titles({"property": "deadline", "op": "set"}))
    assert await titles({"property": "deadline", "op": "<", "value": "1990-01-01"}) == []


async def test_query_says_what_it_does_not_know(session: tuple[Client, Any]) -> None:
    client, _ = session
    result = await client.call_tool(
        "query_objects", {"structure": "Task", "filters": [{"property": "Mood", "op": "is", "value": "x"}]}
    )
    assert result.is_error and "Mood" in text_of(result)
    bad_date = await client.call_tool(
        "query_objects",
        {"structure": "Task", "filters": [{"property": "deadline", "op": "<", "value": "soon"}]},
    )
    assert bad_date.is_error and "YYYY-MM-DD" in text_of(bad_date)


async def test_list_objects_shows_sizes_and_key_values(session: tuple[Client, Any]) -> None:
    client, _ = session
    result = await client.call_tool("list_objects", {"structure": "Tasks", "page_size": 3})
    rows = result.structured_content["results"]  # type: ignore[index]
    assert all(r["tokens"] and r["properties"] for r in rows)
    assert " tokens" in text_of(result) and "Status: " in text_of(result)


async def test_without_the_mirror_search_is_by_title_and_query_explains(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    app = app_on(sandbox, tmp_path, mirror=False)
    async with Client(app.server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        description = tools["search_objects"].description or ""
        assert "title" in description and "content is not searched" in description
        search = await client.call_tool("search_objects", {"query": "Luhmann"})
        assert "in its title" in text_of(search) or "in the title" in text_of(search)
        query = await client.call_tool("query_objects", {"structure": "Task"})
        assert query.is_error and "--no-mirror" in text_of(query)
    assert not list(tmp_path.iterdir())  # nothing written
