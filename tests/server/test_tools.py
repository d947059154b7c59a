"""Every tool's happy path, through a real MCP client (both protocol eras) and the sandbox over HTTP."""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

import httpx2
import pytest
from mcp.types import ElicitResult

from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server._tokens import estimate_tokens
from capacities_mcp.server.tools import ALL_TOOLS, READ_ONLY_TOOLS, TOOLSETS, register_tools

from .helpers import (
    LONG_NOTE_ID,
    MODES,
    TASK_ID,
    WELCOME_ID,
    connect,
    error_of,
    everything,
    text_of,
    tool_server,
)

each_mode = pytest.mark.parametrize("mode", MODES)


# --- registration --------------------------------------------------------------------------------


@each_mode
async def test_tools_are_listed_with_schemas_and_all_four_hints(sandbox: SandboxServer, mode: str) -> None:
    server, names = tool_server(sandbox)
    assert names == list(ALL_TOOLS)
    async with connect(server, mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == set(ALL_TOOLS) == {name for names in TOOLSETS.values() for name in names}
    for tool in tools.values():
        hints = tool.annotations
        assert hints is not None
        for hint in ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"):
            assert isinstance(getattr(hints, hint), bool), (tool.name, hint)
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        assert tool.description and len(tool.description) < 600
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert prop.get("description"), (tool.name, name)
        assert hints.read_only_hint is (tool.name in READ_ONLY_TOOLS)
    assert {"get_space", "get_object", "search_objects", "list_objects", "query_objects"} == READ_ONLY_TOOLS
    assert tools["delete_object"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert tools["create_object"].annotations.idempotent_hint is False  # type: ignore[union-attr]
    # The advertised defaults are the real ones, not the placeholder the SDK would show.
    get_object = tools["get_object"].input_schema["properties"]
    assert get_object["format"]["default"] == "markdown" and get_object["max_tokens"]["default"] == 8_000
    assert "required" not in tools["get_object"].input_schema  # id, or daily_note instead
    # The elicitation answer is not an argument.
    assert set(tools["delete_object"].input_schema["properties"]) == {"id", "permanent"}


async def test_read_only_and_subsets(sandbox: SandboxServer) -> None:
    server, names = tool_server(sandbox, read_only=True)
    assert set(names) == READ_ONLY_TOOLS
    async with connect(server, "legacy") as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        assert listed == READ_ONLY_TOOLS
        result = await client.call_tool("create_object", {"structure": "Page", "title": "x"})
        assert result.is_error and "this server is read-only (started with --read-only)" in text_of(result)
        assert error_of(result)["code"] == "unknown_tool"
        result = await client.call_tool("no_such_tool", {})
        assert result.is_error and "Unknown tool: no_such_tool" in text_of(result)

    _, names = tool_server(sandbox, toolsets=["blocks", "daily_notes"])
    assert names == ["append_blocks", "update_block", "delete_block", "append_to_daily_note"]
    _, names = tool_server(sandbox, tools=["get_object", "delete_object"])
    assert names == ["get_object", "delete_object"]
    _, names = tool_server(sandbox, tools=["get_object", "delete_object"], read_only=True)
    assert names == ["get_object"]
    _, names = tool_server(sandbox, tools=["get_object", "append_blocks"], toolsets=["objects"])
    assert names == ["get_object"]


def test_unknown_names_raise_listing_valid_ones(sandbox: SandboxServer) -> None:
    server, _ = tool_server(sandbox, tools=[])
    with pytest.raises(ValueError, match=r"Unknown tools: nope.*get_space"):
        register_tools(server, tools=["nope"])
    with pytest.raises(ValueError, match=r"Unknown toolsets: tasks.*daily_notes"):
        register_tools(server, toolsets=["tasks"])


# --- reading -------------------------------------------------------------------------------------


@each_mode
async def test_get_space(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        result = await client.call_tool("get_space", {})
        again = await client.call_tool("get_space", {"refresh": True})
    assert not result.is_error and not again.is_error
    text = text_of(result)
    assert "Demo space" in text and "**Task**" in text and "In progress" in text
    data = result.structured_content
    assert data is not None and data["space_title"] == "Demo space"
    task = next(s for s in data["structures"] if s["id"] == "RootTask")
    status = next(p for p in task["properties"] if p["name"] == "Status")
    assert status["type"] == "label" and status["options"] == ["Not started", "In progress", "Done"]
    book = next(s for s in data["structures"] if s["title"] == "Book")
    assert {c["title"] for c in book["collections"]} == {"Reading list", "Favorite books"}


@each_mode
async def test_get_object_markdown_with_readable_properties(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        result = await client.call_tool("get_object", {"id": TASK_ID})
    assert not result.is_error, text_of(result)
    text = text_of(result)
    assert "# Draft Q3 planning agenda" in text
    assert "- Status: In progress" in text and "- Priority: High" in text
    deadline = (sandbox.config.clock.today() + datetime.timedelta(days=2)).isoformat()  # as seeded
    assert f"- Deadline: {deadline}" in text
    assert "Productivity (78aa497b-4292-5532-b859-8106308d3560)" in text  # linked tag by title
    assert "- [x] Collect topics" in text
    data = result.structured_content
    assert data is not None and data["structure"] == "Task" and data["next_offset"] is None
    props = {p["name"]: p["value"] for p in data["properties"]}
    assert props["Status"] == ["In progress"]
    assert props["Deadline"] == {"start": deadline, "end": None}
    assert props["Tags"] == [{"id": "78aa497b-4292-5532-b859-8106308d3560", "title": "Productivity"}]


@each_mode
async def test_get_object_blocks_outline(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        result = await client.call_tool("get_object", {"id": TASK_ID, "format": "blocks"})
    assert not result.is_error, text_of(result)
    content = result.structured_content["content"]
    assert "[property notes]" in content
    assert "todo[x]: Collect topics" in content and "todo[ ]: Time boxes" in content
    assert content.count("\n- ") >= 4


@each_mode
@pytest.mark.parametrize("max_tokens", [500, 3000])
async def test_long_note_pages_reassemble_exactly(sandbox: SandboxServer, mode: str, max_tokens: int) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        full = (await client.call_tool("get_object", {"id": LONG_NOTE_ID})).structured_content
        assert full is not None and full["next_offset"] is None  # about 6,600 tokens: one default page
        assert full["total_chars"] > 20_000  # a note of several thousand words
        pieces: list[str] = []
        offset: int | None = 0
        calls = 0
        while offset is not None:
            result = await client.call_tool(
                "get_object", {"id": LONG_NOTE_ID, "offset": offset, "max_tokens": max_tokens}
            )
            assert not result.is_error, text_of(result)
            data = result.structured_content
            assert data is not None and data["offset"] == offset
            assert estimate_tokens(text_of(result)) <= max_tokens + 200  # the header, at least 500 of content
            pieces.append(data["content"])
            if data["next_offset"] is not None:
                assert f"offset={data['next_offset']})" in text_of(result)
                assert "more tokens: call get_object(" in text_of(result)
            offset = data["next_offset"]
            calls += 1
            assert calls < 200
    assert "".join(pieces) == full["content"]
    # Cut at paragraph or line ends, not mid-word.
    assert all(p.endswith("\n") for p in pieces[:-1])


@each_mode
async def test_search_and_list(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        found = await client.call_tool("search_objects", {"query": "plan", "structure": "tasks"})
        everywhere = await client.call_tool("search_objects", {"query": "plan", "limit": 50})
        tasks = await client.call_tool("list_objects", {"structure": "Task", "page_size": 4})
        tagged = await client.call_tool("list_objects", {"tag": "productivity"})
        books = await client.call_tool("list_objects", {"collection": "Favorite books"})
        nothing = await client.call_tool("search_objects", {"query": "zzzz-no-such-title"})
    assert [r["title"] for r in found.structured_content["results"]] == ["Draft Q3 planning agenda"]
    assert len(everywhere.structured_content["results"]) >= 3
    page = tasks.structured_content
    assert page is not None and len(page["results"]) == 4 and page["has_more"] and page["next_cursor"]
    assert f'cursor="{page["next_cursor"]}"' in text_of(tasks)
    assert any(r["id"] == TASK_ID for r in tagged.structured_content["results"])
    assert books.structured_content["results"] and not books.is_error
    assert not nothing.is_error and "titles only" in text_of(nothing)


async def test_list_objects_follows_cursor(sandbox: SandboxServer) -> None:
    server, _ = tool_server(sandbox)
    seen: list[str] = []
    async with connect(server, "legacy") as client:
        cursor = None
        while True:
            args: dict[str, Any] = {"structure": "RootTask", "page_size": 3}
            if cursor:
                args["cursor"] = cursor
            data = (await client.call_tool("list_objects", args)).structured_content
            assert data is not None
            seen += [r["id"] for r in data["results"]]
            cursor = data["next_cursor"]
            if not cursor:
                break
    assert TASK_ID in seen and len(seen) == len(set(seen)) >= 10


# --- writing -------------------------------------------------------------------------------------


@each_mode
async def test_create_task_with_friendly_properties(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        created = await client.call_tool(
            "create_object",
            {
                "structure": "tasks",
                "title": f"Write report ({mode})",
                "properties": {
                    "Status": "in progress",
                    "priority": "High",
                    "Deadline": "2026-12-01",
                    "Tags": ["Research", "78aa497b-4292-5532-b859-8106308d3560"],
                },
                "markdown": "- [ ] outline\n- [ ] draft",
            },
        )
        assert not created.is_error, text_of(created)
        new_id = created.structured_content["id"]
        read = await client.call_tool("get_object", {"id": new_id})
    text = text_of(read)
    assert f"# Write report ({mode})" in text
    assert "- Status: In progress" in text and "- Priority: High" in text and "- Deadline: 2026-12-01" in text
    assert "Research (537d207e" in text and "Productivity (78aa497b" in text
    assert "- [ ] outline" in text and "- [ ] draft" in text


@each_mode
async def test_create_custom_type_with_collection_number_and_rich_text(
    sandbox: SandboxServer, mode: str
) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        created = await client.call_tool(
            "create_object",
            {
                "structure": "Books",
                "title": f"The Pragmatic Programmer, 2nd edition ({mode})",
                "properties": [
                    {"property": "Rating", "value": 4},
                    {"property": "Genre", "value": ["Software", "Non-fiction"]},
                    {"property": "Status", "value": "Reading"},
                    {"property": "Published", "value": "1999-10-20"},
                    {"property": "Summary", "value": "Tips for craft"},
                    {"property": "Author", "value": "Andrew Hunt"},
                ],
                "collections": ["Reading list"],
                "markdown": "## Chapter notes",
            },
        )
        assert not created.is_error, text_of(created)
        read = await client.call_tool("get_object", {"id": created.structured_content["id"]})
    text = text_of(read)
    assert (
        "- Rating: 4" in text
        and "- Genre: Software, Non-fiction" in text
        and "- Published: 1999-10-20" in text
    )
    assert "- Summary: Tips for craft" in text and "Andrew Hunt (" in text
    assert "## Chapter notes" in text
    assert read.structured_content["collections"] == ["246f8d2a-122d-5579-b750-05767ef774fc"]


@each_mode
async def test_create_simple_page_uses_markdown_create(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        created = await client.call_tool(
            "create_object", {"structure": "Page", "title": "Ideas", "markdown": "# Big idea\n\nSome *text*."}
        )
        assert not created.is_error, text_of(created)
        data = created.structured_content
        assert data is not None and data["title"] == "Ideas" and data["structure"] == "Page"
        read = await client.call_tool("get_object", {"id": data["id"]})
    assert "# Ideas" in text_of(read) and "Big idea" in text_of(read) and "Some *text*." in text_of(read)


@each_mode
async def test_append_blocks_returns_new_ids_at_positions(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        page = (
            await client.call_tool("create_object", {"structure": "Page", "title": f"Log {mode}"})
        ).structured_content
        assert page is not None
        first = await client.call_tool(
            "append_blocks", {"id": page["id"], "markdown": "## Day 1\n\n- one\n- two"}
        )
        assert not first.is_error, text_of(first)
        new = first.structured_content["new_block_ids"]
        assert len(new) >= 3 and "text h2: Day 1" in text_of(first)
        start = await client.call_tool(
            "append_blocks", {"id": page["id"], "markdown": "Intro", "position": "start"}
        )
        after = await client.call_tool(
            "append_blocks",
            {"id": page["id"], "after_block_id": new[0], "blocks": [{"kind": "divider"}]},
        )
        assert not start.is_error and not after.is_error, text_of(after)
        assert len(after.structured_content["new_block_ids"]) == 1
        outline = (
            await client.call_tool("get_object", {"id": page["id"], "format": "blocks"})
        ).structured_content
    lines = [line for line in outline["content"].splitlines() if line.startswith("- ")]
    assert lines[0].endswith("Intro")
    assert new[0] in lines[-4] or any(new[0] in line for line in lines[:3])
    assert "divider" in outline["content"]


def _text_block(text: str, depth: int = 0) -> dict[str, Any]:
    return {"kind": "text", "text": text, "depth": depth}


async def test_append_structured_blocks_spends_one_request_and_names_exactly_the_new_ones(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Structured blocks land as one run at the position: their ids come from the append's own
    response, with no GET /object before it (the quota is 30 a minute per route)."""
    server, _ = tool_server(sandbox)
    async with connect(server, "legacy") as client:
        page = (
            await client.call_tool(
                "create_object", {"structure": "Page", "title": "Run ids", "markdown": "first\n\nsecond"}
            )
        ).structured_content
        assert page is not None
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="httpx2"):
            end = await client.call_tool(
                "append_blocks",
                {
                    "id": page["id"],
                    "blocks": [_text_block("end-a"), _text_block("end-a-child", 1), _text_block("end-b")],
                },
            )
        requests = [r.getMessage() for r in caplog.records if r.name == "httpx2"]
        assert len(requests) == 1 and "POST" in requests[0] and "/blocks/append" in requests[0], requests
        end_ids = end.structured_content["new_block_ids"]
        assert [b["summary"] for b in end.structured_content["new_blocks"]] == [
            "text: end-a",
            "text: end-a-child",
            "text: end-b",
        ]
        start = await client.call_tool(
            "append_blocks", {"id": page["id"], "position": "start", "blocks": [_text_block("start-a")]}
        )
        after = await client.call_tool(
            "append_blocks",
            {
                "id": page["id"],
                "after_block_id": end_ids[0],
                "blocks": [_text_block("after-a"), _text_block("after-b")],
            },
        )
        nested = await client.call_tool(
            "append_blocks",
            {
                "id": page["id"],
                "parent_block_id": end_ids[0],
                "position": "start",
                "blocks": [_text_block("child-0")],
            },
        )
        outline = (
            await client.call_tool("get_object", {"id": page["id"], "format": "blocks"})
        ).structured_content
    by_text = {
        line.rsplit(": ", 1)[-1]: line.split()[1]
        for line in outline["content"].splitlines()
        if line.lstrip().startswith("- ")
    }
    for result, texts in (
        (end, ["end-a", "end-a-child", "end-b"]),
        (start, ["start-a"]),
        (after, ["after-a", "after-b"]),
        (nested, ["child-0"]),
    ):
        assert not result.is_error, text_of(result)
        assert result.structured_content["new_block_ids"] == [by_text[t] for t in texts], (
            texts,
            text_of(result),
        )
    order = [
        line.rsplit(": ", 1)[-1] for line in outline["content"].splitlines() if line.lstrip().startswith("- ")
    ]
    assert order == [
        "start-a",
        "first",
        "second",
        "end-a",
        "child-0",
        "end-a-child",
        "after-a",
        "after-b",
        "end-b",
    ]


@each_mode
async def test_update_object_properties_trash_and_restore(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        task = (
            await client.call_tool("create_object", {"structure": "Task", "title": "Tidy desk"})
        ).structured_content
        assert task is not None
        updated = await client.call_tool(
            "update_object",
            {
                "id": task["id"],
                "title": "Tidy the desk",
                "properties": {"Status": "Done", "Deadline": None, "Priority": []},
            },
        )
        assert not updated.is_error, text_of(updated)
        assert updated.structured_content["title"] == "Tidy the desk"
        trashed = await client.call_tool("update_object", {"id": task["id"], "trash": True})
        assert not trashed.is_error and "trash" in text_of(trashed)
        gone = await client.call_tool("get_object", {"id": task["id"]})
        assert error_of(gone)["code"] == "cap_not_found"
        restored = await client.call_tool("update_object", {"id": task["id"], "restore": True})
        assert not restored.is_error, text_of(restored)
        back = await client.call_tool("get_object", {"id": task["id"]})
    assert "- Status: Done" in text_of(back) and "# Tidy the desk" in text_of(back)


@each_mode
async def test_update_and_delete_block(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        page = (
            await client.call_tool("create_object", {"structure": "Page", "title": "Checklist"})
        ).structured_content
        assert page is not None
        appended = await client.call_tool(
            "append_blocks", {"id": page["id"], "markdown": "- [ ] buy milk\n- [ ] call mum"}
        )
        first, second = appended.structured_content["new_block_ids"][:2]
        renamed = await client.call_tool(
            "update_block", {"id": page["id"], "block_id": first, "text": "buy oat milk"}
        )
        assert not renamed.is_error, text_of(renamed)
        assert "todo[ ]: buy oat milk" in text_of(renamed)
        ticked = await client.call_tool(
            "update_block",
            {
                "id": page["id"],
                "block_id": second,
                "done": True,
            },
        )
        assert not ticked.is_error, text_of(ticked)
        deleted = await client.call_tool("delete_block", {"id": page["id"], "block_id": first})
        assert not deleted.is_error, text_of(deleted)
        read = await client.call_tool("get_object", {"id": page["id"]})
    assert "buy oat milk" not in text_of(read) and "- [x] call mum" in text_of(read)


@each_mode
async def test_save_weblink(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        saved = await client.call_tool(
            "save_weblink",
            {
                "url": "https://example.com/article",
                "title": "An article",
                "description": "Worth reading",
                "notes": "- key point",
            },
        )
        assert not saved.is_error, text_of(saved)
        data = saved.structured_content
        assert data is not None and data["structure"] == "Weblink" and data["title"] == "An article"
        read = await client.call_tool("get_object", {"id": data["id"]})
    assert "Worth reading" in text_of(read) and "https://example.com/article" in text_of(read)


@each_mode
async def test_append_to_daily_note(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        result = await client.call_tool(
            "append_to_daily_note",
            {"markdown": f"Met Maya ({mode})", "date": "2026-11-28", "no_timestamp": True},
        )
        assert not result.is_error, text_of(result)
        assert "asynchronously" in text_of(result)
        assert result.structured_content == {"date": "2026-11-28", "accepted": True}
        listing = await client.call_tool("search_objects", {"query": "2026-11-28", "structure": "Daily note"})
        notes = listing.structured_content["results"]
        assert notes, text_of(listing)
        read = await client.call_tool("get_object", {"id": notes[0]["id"]})
    assert f"Met Maya ({mode})" in text_of(read)


class _RecordingTransport(httpx2.AsyncHTTPTransport):
    """Real HTTP to the sandbox, keeping each request's method, path and JSON body."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, Any]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content) if request.content else None
        self.seen.append((request.method, request.url.path, body))
        return await super().handle_async_request(request)


async def test_daily_note_today_is_left_to_capacities(sandbox: SandboxServer) -> None:
    """No date given: no date sent, so Capacities picks today in the account's time zone (a UTC
    date computed by the server names the wrong day near midnight)."""
    recorder = _RecordingTransport()
    server, _ = tool_server(sandbox, client_options={"transport": recorder})
    async with connect(server, "legacy") as client:
        today = await client.call_tool("append_to_daily_note", {"markdown": "no date given"})
        dated = await client.call_tool(
            "append_to_daily_note", {"markdown": "dated", "date": "2026-11-27T23:30:00+01:00"}
        )
    assert not today.is_error and not dated.is_error, text_of(today) + text_of(dated)
    bodies = [body for method, path, body in recorder.seen if path.endswith("/blocks/daily-note/append")]
    assert len(bodies) == 2 and "date" not in bodies[0] and bodies[1]["date"] == "2026-11-27T00:00:00.000Z"
    assert today.structured_content == {"date": "today", "accepted": True}
    assert "today's daily note" in text_of(today)


async def test_structure_names_in_results_never_refetch_the_space(sandbox: SandboxServer) -> None:
    """Display names may come from an expired snapshot: a search spends one request, not three
    (GET /space and /space/structures allow ten a minute)."""
    recorder = _RecordingTransport()
    server, _ = tool_server(sandbox, client_options={"transport": recorder}, space_ttl=0.0)
    async with connect(server, "legacy") as client:
        assert not (await client.call_tool("get_space", {})).is_error
        recorder.seen.clear()
        found = await client.call_tool("search_objects", {"query": "Q3 planning"})
    assert not found.is_error, text_of(found)
    assert found.structured_content["results"][0]["structure"] == "Task"
    assert [(method, path) for method, path, _ in recorder.seen] == [("POST", "/objects/search")]


async def test_markdown_append_after_a_fresh_read_spends_one_request(sandbox: SandboxServer) -> None:
    """Markdown becomes an unknown number of blocks, so new ids are told from the ids seen
    before: a fresh read (get_object, or the previous append's answer) saves the GET /object;
    after a write the server cannot see through, it reads first again."""
    recorder = _RecordingTransport()
    server, _ = tool_server(sandbox, client_options={"transport": recorder})

    def requests() -> list[tuple[str, str]]:
        seen = [
            (method, path)
            for method, path, _ in recorder.seen
            if path.startswith(("/object", "/blocks", "/block"))
        ]
        recorder.seen.clear()
        return seen

    async with connect(server, "legacy") as client:
        page = (
            await client.call_tool(
                "create_object", {"structure": "Page", "title": "Fresh ids", "markdown": "old text"}
            )
        ).structured_content
        assert page is not None
        await client.call_tool("get_object", {"id": page["id"]})
        requests()
        first = await client.call_tool("append_blocks", {"id": page["id"], "markdown": "- one\n- two"})
        assert requests() == [("POST", "/blocks/append")]
        second = await client.call_tool("append_blocks", {"id": page["id"], "markdown": "three"})
        assert requests() == [("POST", "/blocks/append")]
        await client.call_tool(
            "update_block",
            {"id": page["id"], "block_id": first.structured_content["new_block_ids"][0], "text": "uno"},
        )
        requests()
        third = await client.call_tool("append_blocks", {"id": page["id"], "markdown": "four"})
        assert requests() == [("GET", "/object"), ("POST", "/blocks/append")]
        await client.call_tool("append_to_daily_note", {"markdown": "elsewhere"})
        requests()
        fourth = await client.call_tool("append_blocks", {"id": page["id"], "markdown": "five"})
        assert requests() == [("GET", "/object"), ("POST", "/blocks/append")]
    summaries = [
        [b["summary"] for b in r.structured_content["new_blocks"]] for r in (first, second, third, fourth)
    ]
    assert summaries == [
        ["text bullet: one", "text bullet: two"],
        ["text: three"],
        ["text: four"],
        ["text: five"],
    ]


# --- delete with confirmation --------------------------------------------------------------------


def _answer(action: str, confirm: bool = True) -> Any:
    async def callback(context: Any, params: Any) -> ElicitResult:
        callback.asked.append(params.message)  # type: ignore[attr-defined]
        return ElicitResult(action=action, content={"confirm": confirm} if action == "accept" else None)  # type: ignore[arg-type]

    callback.asked = []  # type: ignore[attr-defined]
    return callback


@each_mode
async def test_delete_moves_to_trash_without_asking(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    ask = _answer("decline")
    async with connect(server, mode, elicitation_callback=ask) as client:
        page = (
            await client.call_tool("create_object", {"structure": "Page", "title": "Scratch"})
        ).structured_content
        deleted = await client.call_tool("delete_object", {"id": page["id"]})
        assert not deleted.is_error and deleted.structured_content["deleted"] is True
        assert "trash" in text_of(deleted)
        restored = await client.call_tool("update_object", {"id": page["id"], "restore": True})
    assert not restored.is_error
    assert ask.asked == []


@pytest.mark.parametrize(
    ("action", "confirm", "deleted"),
    [
        ("accept", True, True),
        ("accept", False, False),
        ("decline", True, False),
        ("cancel", True, False),
    ],
)
@each_mode
async def test_permanent_delete_asks_the_user(
    sandbox: SandboxServer, mode: str, action: str, confirm: bool, deleted: bool
) -> None:
    server, _ = tool_server(sandbox)
    ask = _answer(action, confirm)
    async with connect(server, mode, elicitation_callback=ask) as client:
        page = (
            await client.call_tool("create_object", {"structure": "Page", "title": "Secret plan"})
        ).structured_content
        assert page is not None
        result = await client.call_tool("delete_object", {"id": page["id"], "permanent": True})
        assert not result.is_error, text_of(result)
        assert result.structured_content["deleted"] is deleted
        after = await client.call_tool("get_object", {"id": page["id"]})
        restore = await client.call_tool("update_object", {"id": page["id"], "restore": True})
    assert len(ask.asked) == 1 and "Secret plan" in ask.asked[0] and "cannot be undone" in ask.asked[0]
    if deleted:
        assert "permanently" in text_of(result)
        assert after.is_error and restore.is_error  # gone for good: not even in the trash
    else:
        assert "Not deleted" in text_of(result) and not after.is_error


@each_mode
async def test_permanent_delete_without_elicitation_support(sandbox: SandboxServer, mode: str) -> None:
    """A client that cannot show forms approves destructive calls itself; the delete proceeds."""
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        page = (
            await client.call_tool("create_object", {"structure": "Page", "title": "Old"})
        ).structured_content
        result = await client.call_tool("delete_object", {"id": page["id"], "permanent": True})
    assert not result.is_error, text_of(result)
    assert result.structured_content["confirmation"] == "unsupported"
    assert result.structured_content["deleted"] is True


# --- robustness ------------------------------------------------------------------------------------


@each_mode
async def test_json_string_nested_arguments_are_accepted(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        created = await client.call_tool(
            "create_object",
            {
                "structure": "Task",
                "title": f"From a JSON-happy client {mode}",
                "properties": json.dumps([{"property": "Status", "value": "Done"}]),
                "collections": "[]",
            },
        )
        assert not created.is_error, text_of(created)
        page_id = created.structured_content["id"]
        appended = await client.call_tool("append_blocks", {"id": page_id, "blocks": '[{"kind": "divider"}]'})
        limited = await client.call_tool(
            "search_objects", {"query": f"JSON-happy client {mode}", "limit": "5", "structure": '["Task"]'}
        )
        # Free text that merely looks like JSON stays text.
        odd = await client.call_tool(
            "create_object", {"structure": "Page", "title": "[1, 2]", "markdown": '{"a": 1}'}
        )
        assert not odd.is_error, text_of(odd)
        odd_read = await client.call_tool("get_object", {"id": odd.structured_content["id"]})
    assert not appended.is_error and not limited.is_error
    assert limited.structured_content["results"][0]["id"] == page_id
    assert odd.structured_content["title"] == "[1, 2]"
    assert '{"a": 1}' in text_of(odd_read)


async def test_token_never_appears_in_any_result(sandbox: SandboxServer) -> None:
    read_only = sandbox.mint_token(("api:read",))
    server, _ = tool_server(sandbox, token=read_only)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("get_space", {}),
        ("get_object", {"id": TASK_ID}),
        ("get_object", {"id": "bad"}),
        ("create_object", {"structure": "Page", "title": "x"}),
        ("append_blocks", {"id": WELCOME_ID, "markdown": "x"}),
        ("delete_object", {"id": WELCOME_ID}),
        ("append_to_daily_note", {"markdown": "x"}),
    ]
    async with connect(server, "legacy") as client:
        for name, args in calls:
            result = await client.call_tool(name, args)
            seen = everything(result)
            assert read_only not in seen and sandbox.api_token not in seen
            assert "cap-api-" not in seen
