"""Where agents stumbled (issue 11), through a real MCP client against the sandbox."""

from __future__ import annotations

import datetime

from capacities_mcp.sandbox import SandboxServer

from .helpers import TASK_ID, connect, error_of, text_of, tool_server

PRODUCTIVITY = "78aa497b-4292-5532-b859-8106308d3560"


async def test_tags_are_added_and_removed_item_by_item_and_echoed(sandbox: SandboxServer) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, "legacy") as client:
        task = await client.call_tool(
            "create_object",
            {
                "structure": "Task",
                "title": "Tag edits",
                "properties": [{"property": "Tags", "value": ["Productivity", "Reading"]}],
            },
        )
        task_id = task.structured_content["id"]
        added = await client.call_tool(
            "update_object",
            {"id": task_id, "properties": [{"property": "Tags", "value": "Research", "op": "add"}]},
        )
        removed = await client.call_tool(
            "update_object",
            {"id": task_id, "properties": [{"property": "Tags", "value": ["Reading"], "op": "remove"}]},
        )
        read = await client.call_tool("get_object", {"id": task_id})
        wrong = await client.call_tool(
            "update_object",
            {"id": task_id, "properties": [{"property": "Deadline", "value": "x", "op": "add"}]},
        )
    assert not added.is_error, text_of(added)
    # Old -> new, so the agent sees nothing was lost.
    line = next(x for x in text_of(added).splitlines() if x.startswith("- Tags:"))
    before, after = line.removeprefix("- Tags: ").split(" → ")
    assert "Productivity" in before and "Reading" in before and "Research" not in before
    assert all(name in after for name in ("Productivity", "Reading", "Research"))
    tags_now = next(x for x in text_of(read).splitlines() if x.startswith("- Tags:"))
    assert "Productivity" in tags_now and "Research" in tags_now and "Reading" not in tags_now
    assert not removed.is_error, text_of(removed)
    assert error_of(wrong)["issues"][0]["field"] == "properties.Deadline"


async def test_labels_add_on_a_multi_value_property_and_status_set(sandbox: SandboxServer) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, "legacy") as client:
        book = await client.call_tool(
            "create_object",
            {
                "structure": "Book",
                "title": "Label edits",
                "properties": [{"property": "Genre", "value": "Software"}],
            },
        )
        book_id = book.structured_content["id"]
        added = await client.call_tool(
            "update_object",
            {"id": book_id, "properties": [{"property": "Genre", "value": "Non-fiction", "op": "add"}]},
        )
    assert "- Genre: Software → Software, Non-fiction" in text_of(added), text_of(added)


async def test_create_returns_an_existing_object_instead_of_a_duplicate(sandbox: SandboxServer) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, "legacy") as client:
        again = await client.call_tool("create_object", {"structure": "Task", "title": "renew passport"})
        forced = await client.call_tool(
            "create_object", {"structure": "Task", "title": "Renew passport", "allow_duplicate": True}
        )
        found = await client.call_tool("search_objects", {"query": "Renew passport", "structure": "Task"})
        titled = await client.call_tool(
            "create_object",
            {"structure": "Page", "title": "Heading once", "markdown": "# Heading once\n\nBody text."},
        )
        read = await client.call_tool("get_object", {"id": titled.structured_content["id"]})
    assert not again.is_error and again.structured_content["created"] is False
    assert "already exists" in text_of(again) and "allow_duplicate=true" in text_of(again)
    assert (
        forced.structured_content["created"] is True
        and forced.structured_content["id"] != again.structured_content["id"]
    )
    assert len(found.structured_content["results"]) == 2  # the seeded one and the forced one
    assert text_of(read).count("Heading once") == 1 and "Body text." in text_of(read)


async def test_save_weblink_says_why_tags_are_not_set(sandbox: SandboxServer) -> None:
    """The API takes no tags on the URL route and rejects changes to weblinks: never a silent drop."""
    server, _ = tool_server(sandbox)
    async with connect(server, "legacy") as client:
        saved = await client.call_tool(
            "save_weblink",
            {"url": "https://example.com/tagged", "title": "Tagged link", "tags": ["Research"]},
        )
        found = await client.call_tool("search_objects", {"query": "Tagged link"})
    assert not saved.is_error, text_of(saved)
    assert "Tags not set (Research)" in text_of(saved) and "add them in the app" in text_of(saved)
    assert len(found.structured_content["results"]) == 1  # saved once


async def test_task_property_echo_shows_old_and_new(sandbox: SandboxServer) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, "legacy") as client:
        changed = await client.call_tool(
            "update_object", {"id": TASK_ID, "properties": [{"property": "Priority", "value": "Low"}]}
        )
        back = await client.call_tool(
            "update_object", {"id": TASK_ID, "properties": [{"property": "Priority", "value": "High"}]}
        )
    assert "- Priority: High → Low" in text_of(changed), text_of(changed)
    assert "- Priority: Low → High" in text_of(back)
    assert PRODUCTIVITY  # the seeded tag id stays known to other tests


async def test_daily_notes_are_read_by_day(sandbox: SandboxServer) -> None:
    server, _ = tool_server(sandbox)
    today = sandbox.config.clock.today()
    yesterday = today - datetime.timedelta(days=1)
    async with connect(server, "legacy") as client:
        await client.call_tool(
            "append_to_daily_note", {"markdown": "Note for reading back", "date": yesterday.isoformat()}
        )
        by_day = await client.call_tool("get_object", {"daily_note": yesterday.isoformat()})
        by_today = await client.call_tool("get_object", {"daily_note": "today"})
        none = await client.call_tool("get_object", {"daily_note": "1999-01-01"})
        both = await client.call_tool("get_object", {"daily_note": "today", "id": TASK_ID})
        bad = await client.call_tool("get_object", {"daily_note": "next tuesday"})
    assert not by_day.is_error, text_of(by_day)
    assert "Note for reading back" in text_of(by_day) and f"{yesterday.isoformat()}T00:00:00" in text_of(
        by_day
    )
    assert not by_today.is_error and today.isoformat() in text_of(by_today)
    assert error_of(none)[
        "code"
    ] == "not_found_in_space" and 'append_to_daily_note(date="1999-01-01")' in text_of(none)
    assert error_of(both)["issues"][0]["field"] == "id"
    assert error_of(bad)["issues"][0]["field"] == "daily_note"


async def test_object_links_read_compact_and_round_trip(sandbox: SandboxServer) -> None:
    """Links to objects cost half the tokens as [Title](cap:<id>), and that form writes back."""
    server, _ = tool_server(sandbox)
    maya = "f40720ac-4c7f-5935-bbca-37489dbe9692"
    async with connect(server, "legacy") as client:
        task = await client.call_tool("get_object", {"id": TASK_ID})
        page = await client.call_tool(
            "create_object",
            {
                "structure": "Page",
                "title": "Compact links",
                "markdown": f"Ask [Maya Chen](cap:{maya}) first.",
            },
        )
        page_id = page.structured_content["id"]
        appended = await client.call_tool(
            "append_blocks", {"id": page_id, "markdown": f"- then [Maya Chen](cap:{maya}) again"}
        )
        outline = await client.call_tool("get_object", {"id": page_id, "format": "blocks"})
        read = await client.call_tool("get_object", {"id": page_id})
    assert "app.capacities.io" not in text_of(task) and f"[Maya Chen](cap:{maya})" in text_of(task)
    assert not appended.is_error, text_of(appended)
    # Written as real object links (entity tokens), read back in the same short form.
    assert outline.structured_content["content"].count(f"object {maya}") == 2, outline.structured_content
    assert text_of(read).count(f"[Maya Chen](cap:{maya})") == 2 and "app.capacities.io" not in text_of(read)


async def test_unresolved_wiki_links_are_named_in_the_result(sandbox: SandboxServer) -> None:
    """[[Title]] links to an existing object; one that matches no title is said, not silently kept."""
    server, _ = tool_server(sandbox)
    maya = "f40720ac-4c7f-5935-bbca-37489dbe9692"
    async with connect(server, "legacy") as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        page = await client.call_tool(
            "create_object",
            {
                "structure": "Page",
                "title": "Wiki links",
                "markdown": "Ask [[Maya Chen]] about [[Nobody Here]]; `[[in code]]` is code.",
            },
        )
        page_id = page.structured_content["id"]
        appended = await client.call_tool(
            "append_blocks", {"id": page_id, "markdown": "- and [[maya chen|Maya]], [[Nowhere Yet|later]]"}
        )
        quiet = await client.call_tool("append_blocks", {"id": page_id, "markdown": "No links here."})
        outline = await client.call_tool("get_object", {"id": page_id, "format": "blocks"})
    described = listed["create_object"].input_schema["properties"]["markdown"]["description"]
    assert "[[Title]]" in described
    assert "Not linked: no object is titled [[Nobody Here]]" in text_of(page), text_of(page)
    assert "Maya Chen]]" not in text_of(page) and "in code" not in text_of(page)
    note = text_of(appended).split("Not linked: ")[1]
    assert note.startswith("no object is titled [[Nowhere Yet]],") and "maya" not in note.casefold()
    assert "Not linked" not in text_of(quiet)
    content = outline.structured_content["content"]
    assert content.count(f"object {maya}") == 2 and "[[Nobody Here]]" in content, content
