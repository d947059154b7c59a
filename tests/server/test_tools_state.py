"""The space cache (TTL, refresh, single fetch, lookups by name) and friendly property conversion."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from capacities_mcp.api import CapacitiesClient
from capacities_mcp.api.models import TextBlock
from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server._errors import ToolInputError
from capacities_mcp.server._state import (
    ContentCache,
    LookupFailed,
    ServerState,
    SpaceCache,
    TitleCache,
    find_label_option,
    find_property,
)
from capacities_mcp.server.tools._properties import parse_date, to_wire_properties


@pytest.fixture
async def state(sandbox: SandboxServer) -> AsyncIterator[ServerState]:
    async with CapacitiesClient(api_token=sandbox.api_token, base_url=sandbox.base_url) as client:
        yield ServerState(client=client, space=SpaceCache(client, ttl=300))


def _count_fetches(state: ServerState, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = state.client.space.structures

    async def counting() -> Any:
        calls.append(1)
        await anyio.sleep(0.01)
        return await original()

    monkeypatch.setattr(state.client.space, "structures", counting)
    return calls


async def test_space_cache_ttl_refresh_and_single_flight(
    state: ServerState, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_fetches(state, monkeypatch)
    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(state.space.get)
    assert len(calls) == 1
    first = await state.space.get()
    assert len(calls) == 1 and state.space.cached is first
    refreshed = await state.space.get(refresh=True)
    assert len(calls) == 2 and refreshed is not first
    state.space.ttl = 0.0
    await state.space.get()
    assert len(calls) == 3


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("Task", "RootTask"),
        ("tasks", "RootTask"),
        ("  TASK ", "RootTask"),
        ("RootTask", "RootTask"),
        ("books", "Book"),
        ("Daily Notes", "Daily note"),
        ("people", "Person"),
    ],
)
async def test_structures_by_id_name_or_plural(state: ServerState, ref: str, expected: str) -> None:
    structure = await state.space.structure(ref)
    assert expected in (structure.id, structure.title)


async def test_unknown_structure_lists_the_known_ones(state: ServerState) -> None:
    with pytest.raises(LookupFailed, match=r'Did you mean "Project"\?.*Known structures: Page, Task'):
        await state.space.structure("Projekt")


async def test_property_and_option_lookup(state: ServerState) -> None:
    task = await state.space.structure("Task")
    status = find_property(task, "status")
    assert status is not None and status.id == "status"
    assert find_property(task, "Title") is not None and find_property(task, "Nope") is None
    option = find_label_option(status, "IN PROGRESS")
    assert option is not None and option.id == "in-progress"
    assert find_label_option(status, "in-progress") is not None
    assert state.space.get_property(task, "PRIORITY").id == "priority"
    assert state.space.get_label_option(status, "done").name == "Done"
    with pytest.raises(LookupFailed, match="Writable properties"):
        state.space.get_property(task, "Estimate")
    with pytest.raises(LookupFailed, match=r'Did you mean "Done"\?'):
        state.space.get_label_option(status, "Don")
    assert (await state.space.collection("reading list")).title == "Reading list"
    with pytest.raises(LookupFailed, match="Known collections"):
        await state.space.collection("Nope")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", ("2026-12-01T00:00:00.000Z", "day")),
        ("2026-12-01T14:30", ("2026-12-01T14:30:00.000Z", "time")),
        ("2026-12-01T14:30:00+02:00", ("2026-12-01T12:30:00.000Z", "time")),
        ("2026-12-01T00:00:00.000Z", ("2026-12-01T00:00:00.000Z", "day")),
    ],
)
def test_parse_date(text: str, expected: tuple[str, str]) -> None:
    assert parse_date(text) == expected


def test_parse_date_rejects_non_iso() -> None:
    for bad in ("2026-13-01", "tomorrow", "01/12/2026"):
        with pytest.raises(ValueError):
            parse_date(bad)


async def test_friendly_properties_become_wire_values(state: ServerState) -> None:
    book = await state.space.structure("Book")
    wire = await to_wire_properties(
        state,
        book,
        {
            "Rating": "4",
            "Genre": ["software", "Non-fiction", "Software"],
            "status": "Reading",
            "Published": "1999-10-20/1999-10-21",
            "Summary": "Short",
            "Author": ["Andrew Hunt"],
            "Tags": [],
            "Created": "2026-01-01",
        },
    )
    by_name = {p.name: p.id for p in book.property_definitions}
    assert wire[by_name["Rating"]] == {"type": "number", "number": {"value": 4}}
    assert [o["name"] for o in wire[by_name["Genre"]]["label"]] == ["Software", "Non-fiction"]
    assert wire[by_name["Status"]]["label"][0]["name"] == "Reading"
    assert wire[by_name["Published"]]["date"] == {
        "dateResolution": "day",
        "start": "1999-10-20T00:00:00.000Z",
        "end": "1999-10-21T00:00:00.000Z",
    }
    assert wire[by_name["Summary"]]["richText"]["value"][0]["text"] == "Short"
    assert wire[by_name["Author"]]["entity"] == [{"id": "0c639542-c452-59e9-a641-8416f3d70af9"}]
    assert wire["tags"] == {"type": "entity", "entity": []}
    assert wire["createdAt"] == {"type": "createdAt", "createdAt": {"value": "2026-01-01T00:00:00.000Z"}}


async def test_wire_values_pass_through_and_clearing(state: ServerState) -> None:
    task = await state.space.structure("Task")
    raw = {"type": "label", "label": [{"id": "done", "name": "Done"}]}
    wire = await to_wire_properties(state, task, {"Status": raw, "Deadline": None, "Priority": []})
    assert wire["status"] == raw
    assert wire["deadline"] == {"type": "date", "date": {"start": None}}
    assert wire["priority"] == {"type": "label", "label": []}


async def test_all_problems_are_reported_at_once(state: ServerState) -> None:
    weblink = await state.space.structure("Weblink")
    with pytest.raises(ToolInputError) as caught:
        await to_wire_properties(state, weblink, {"URL": "https://x.io", "Nope": 1, "Description": ["a"]})
    fields = {issue.field: issue.message for issue in caught.value.issues}
    assert "read-only" in fields["properties.URL"]
    assert "no property" in fields["properties.Nope"]
    assert "expected text" in fields["properties.Description"]


def test_title_and_content_caches() -> None:
    titles = TitleCache(max_entries=2)
    titles.remember("a", "A", "RootPage")
    titles.remember("b", "B")
    titles.remember("a", "A2")  # keeps the known structure
    titles.remember("c", "C")
    assert titles.get("a") is not None and titles.get("a").structure_id == "RootPage"  # type: ignore[union-attr]
    assert titles.title("b") is None  # evicted (least recently used)
    titles.forget("a")
    assert titles.title("a") is None

    content = ContentCache(ttl=60)
    content.put("o", "markdown", "T", "text")
    assert content.get("o", "markdown") == ("T", "text") and content.get("o", "blocks") is None
    content.invalidate("o")
    assert content.get("o", "markdown") is None


def _blocks(*ids: str, children: dict[str, list[str]] | None = None) -> list[TextBlock]:
    children = children or {}
    return [
        TextBlock.model_validate(
            {
                "id": i,
                "type": "TextBlock",
                "tokens": [],
                "hierarchy": {"key": "Base", "val": 0},
                "blocks": [b.model_dump(by_alias=True) for b in _blocks(*children.get(i, []))],
            }
        )
        for i in ids
    ]


def test_appended_run_is_found_by_position_or_not_at_all() -> None:
    """append_blocks reads a structured append's ids off the response by position; when the
    response cannot say where they went, it reports none rather than wrong ones."""
    from capacities_mcp.server.tools.blocks import AppendBlocksInput, _appended_run

    obj = "739718bc-3246-56f6-a8f0-477e031ad7ad"

    def run(blocks: dict[str, list[TextBlock]], count: int, **args: Any) -> list[str] | None:
        found = _appended_run(
            blocks, AppendBlocksInput(id=obj, blocks=[{"kind": "divider"}] * count, **args), count
        )
        return None if found is None else [block_id for _, block_id, _ in found]

    one = {"content": _blocks("a", "b", "n1", "n2", children={"b": ["b1"], "n1": ["n1x"]})}
    assert run(one, 2) == ["n1", "n1x", "n2"]
    assert run(one, 1, position="start") == ["a"]
    assert run(one, 1, after_block_id="b") == ["n1", "n1x"]
    assert run(one, 1, parent_block_id="b", position="end") == ["b1"]
    assert run(one, 1, after_block_id="n1x") is None  # nothing after it: the block went elsewhere
    two = {"content": _blocks("a", "n"), "notes": _blocks("x")}
    assert run(two, 1) is None  # which property got them is not known
    assert run(two, 1, property_id="notes") == ["x"]
    assert run(one, 9) is None  # fewer blocks than appended: the response is not the whole object
    assert run(one, 1, parent_block_id="missing") is None
