"""What every agent framework gets from tools/list and tools/call, whatever converter it runs.

Strict function-calling converters (OpenAI strict mode, Gemini) need closed objects and nullable
optional parameters; frameworks such as pydantic-ai show the model the structured content when
there is any. These tests pin the shapes; tests/compat runs the frameworks' own converters.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server.tools import ALL_TOOLS, READ_ONLY_TOOLS
from tests.helpers_faulty_proxy import FaultyProxy

from .helpers import TASK_ID, connect, error_of, text_of, tool_server


def _objects(schema: Any, path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    """Every object schema inside `schema`, with where it is."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            found.append((path, schema))
        for key, value in schema.items():
            if key == "properties":
                for name, sub in value.items():
                    found += _objects(sub, f"{path}.{name}")
            elif key in ("items", "anyOf", "oneOf", "allOf"):
                found += _objects(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for index, sub in enumerate(schema):
            found += _objects(sub, f"{path}[{index}]")
    return found


def _accepts_null(schema: dict[str, Any]) -> bool:
    return {"type": "null"} in schema.get("anyOf", []) or schema.get("type") == "null"


async def test_input_schemas_are_closed_nullable_and_self_contained(sandbox: SandboxServer) -> None:
    server, _ = tool_server(sandbox, structured_output=False)
    async with connect(server, "legacy") as client:
        tools = (await client.list_tools()).tools
    assert {t.name for t in tools} == set(ALL_TOOLS)
    for tool in tools:
        schema = tool.input_schema
        assert "$defs" not in schema and "$ref" not in str(schema), tool.name
        assert all("title" not in prop for prop in schema["properties"].values()), tool.name
        for where, obj in _objects(schema):
            # Closed by listing its properties; no additionalProperties keyword (google-genai
            # crashes on any), which strict converters turn into false themselves.
            assert "properties" in obj and "additionalProperties" not in obj, (tool.name, where)
            required = set(obj.get("required", []))
            for name, prop in obj.get("properties", {}).items():
                if name not in required:
                    assert _accepts_null(prop), (tool.name, where, name, prop)
                # One type per branch: type lists are lost on single-type dialects (Gemini).
                for branch in [prop, *prop.get("anyOf", [])]:
                    assert not isinstance(branch.get("type"), list), (tool.name, where, name)
        assert tool.output_schema is None, tool.name  # off by default
        assert tool.annotations is not None and tool.annotations.title is None  # the title is tool.title
        assert tool.title


async def test_structured_output_is_opt_in(sandbox: SandboxServer) -> None:
    plain, _ = tool_server(sandbox, structured_output=False)
    structured, _ = tool_server(sandbox, structured_output=True)
    async with connect(plain, "legacy") as client:
        text_only = await client.call_tool("get_object", {"id": TASK_ID})
        failed = await client.call_tool("get_object", {"id": "not-a-uuid"})
    async with connect(structured, "legacy") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        with_data = await client.call_tool("get_object", {"id": TASK_ID})
    assert not text_only.is_error and text_only.structured_content is None
    assert "# Draft Q3 planning agenda" in text_of(text_only)
    assert with_data.structured_content is not None and with_data.structured_content["id"] == TASK_ID
    assert text_of(with_data) == text_of(text_only)
    assert all(t.output_schema is not None for t in tools.values())
    # Errors carry their payload either way, with the advice in it.
    error = error_of(failed)
    assert error["code"] == "invalid_arguments" and error["next_step"] == "Fix these and call again."
    assert error["next_step"] in text_of(failed)


async def test_null_means_not_given(sandbox: SandboxServer) -> None:
    """A strict model sends every parameter; null must act exactly like leaving it out."""
    server, _ = tool_server(sandbox)
    nulls = {"format": None, "offset": None, "max_tokens": None, "property": None}
    async with connect(server, "legacy") as client:
        given = await client.call_tool("get_object", {"id": TASK_ID, **nulls})
        omitted = await client.call_tool("get_object", {"id": TASK_ID})
        listed = await client.call_tool(
            "list_objects",
            {"structure": "Task", "tag": None, "collection": None, "page_size": None, "cursor": None},
        )
        created = await client.call_tool(
            "create_object",
            {
                "structure": "Task",
                "title": "Null check",
                "properties": None,
                "markdown": None,
                "collections": None,
            },
        )
        updated = await client.call_tool(
            "update_object",
            {
                "id": created.structured_content["id"],
                "title": None,
                "properties": [{"property": "Status", "value": "Done"}],
                "collections": None,
                "trash": None,
                "restore": None,
            },
        )
        read = await client.call_tool("get_object", {"id": created.structured_content["id"]})
    assert text_of(given) == text_of(omitted)
    assert not listed.is_error, text_of(listed)
    assert not created.is_error and not updated.is_error, text_of(updated)
    assert "- Status: Done" in text_of(read)
    # collections: null did not reset the membership (an empty list would have).
    assert "changed" in updated.structured_content and updated.structured_content["changed"] == ["Status"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [("Done", "Status: Done"), ("", None), ([], None)],
)
async def test_property_changes_set_and_clear(sandbox: SandboxServer, value: Any, shown: str | None) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, "legacy") as client:
        task = await client.call_tool(
            "create_object",
            {
                "structure": "Task",
                "title": f"Props {value}",
                "properties": [{"property": "Status", "value": "Done"}],
            },
        )
        task_id = task.structured_content["id"]
        changed = await client.call_tool(
            "update_object", {"id": task_id, "properties": [{"property": "Status", "value": value}]}
        )
        read = await client.call_tool("get_object", {"id": task_id})
    assert not changed.is_error, text_of(changed)
    assert (shown in text_of(read)) if shown else ("Status:" not in text_of(read))


async def test_unknown_argument_names_the_allowed_ones(sandbox: SandboxServer) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, "legacy") as client:
        result = await client.call_tool("save_weblink", {"url": "https://example.com/x", "labels": ["a"]})
        nested = await client.call_tool(
            "append_blocks", {"id": TASK_ID, "blocks": [{"kind": "text", "text": "x", "bold": True}]}
        )
        listed = await client.call_tool("search_objects", {"query": "Renew passport"})
    error = error_of(result)
    assert error["code"] == "invalid_arguments" and error["issues"] == [
        {"field": "labels", "message": "unknown argument"}
    ]
    assert "It takes: url, title, description, notes, tags." in text_of(result)
    assert "Renew passport" in text_of(listed) and "Renew" not in str(error)  # nothing was saved
    assert error_of(nested)["issues"][0]["field"] == "blocks[0].bold"


async def test_typed_blocks_nest_by_depth_and_embed_objects(sandbox: SandboxServer) -> None:
    server, _ = tool_server(sandbox)
    blocks = [
        {"kind": "heading", "text": "Plan", "level": 2},
        {"kind": "todo", "text": "first", "done": True},
        {"kind": "bullet", "text": "detail", "depth": 1},
        {"kind": "toggle", "text": "More"},
        {"kind": "code", "text": "print(1)", "language": "python", "depth": 1},
        {"kind": "object", "object_id": TASK_ID},
        {"kind": "divider"},
    ]
    async with connect(server, "legacy") as client:
        page = await client.call_tool("create_object", {"structure": "Page", "title": "Typed blocks"})
        page_id = page.structured_content["id"]
        appended = await client.call_tool("append_blocks", {"id": page_id, "blocks": blocks})
        outline = await client.call_tool("get_object", {"id": page_id, "format": "blocks"})
        markdown = await client.call_tool("get_object", {"id": page_id})
    assert not appended.is_error, text_of(appended)
    assert len(appended.structured_content["new_block_ids"]) == 7
    content = outline.structured_content["content"].splitlines()
    lines = [line for line in content if line.lstrip().startswith("- ")][-7:]  # after the page's empty block
    assert "h2: Plan" in lines[0] and "todo[x]: first" in lines[1]
    assert lines[2].startswith("  ") and "detail" in lines[2]  # nested under the to-do
    assert lines[4].startswith("  ") and "code" in lines[4]
    assert "embed" in lines[5] and "divider" in lines[6]
    assert "- [x] first" in text_of(markdown) and "print(1)" in text_of(markdown)


async def test_a_failed_write_drops_the_cached_block_ids(sandbox: SandboxServer) -> None:
    """A write that failed may still have landed: the next append must not count its blocks."""
    with FaultyProxy(sandbox.base_url) as proxy:
        server, _ = tool_server(sandbox, base_url=proxy.base_url, token=sandbox.api_token)
        async with connect(server, "legacy") as client:
            page = await client.call_tool("create_object", {"structure": "Page", "title": "Cache honesty"})
            page_id = page.structured_content["id"]
            await client.call_tool("get_object", {"id": page_id})  # block ids cached
            proxy.fault = "502"  # the write lands, its answer is lost
            lost = await client.call_tool("append_blocks", {"id": page_id, "markdown": "landed anyway"})
            proxy.fault = None
            after = await client.call_tool("append_blocks", {"id": page_id, "markdown": "the next one"})
    assert lost.is_error and error_of(lost)["maybe_applied"] is True
    assert "check with get_object" in error_of(lost)["next_step"]
    assert [b["summary"] for b in after.structured_content["new_blocks"]] == ["text: the next one"]


def test_the_published_file_is_what_the_specs_publish() -> None:
    """tools/list is served from published.json (start-up never imports a tool module): it must
    say exactly what the specs say, toolsets, hints and search's no-mirror wording included."""
    from capacities_mcp.server.tools._published import PUBLISHED_FILE
    from capacities_mcp.server.tools._specs import SPECS, published_document

    published = json.loads(PUBLISHED_FILE.read_text(encoding="utf-8"))
    regenerate = "published.json is stale: run python -m capacities_mcp.server.tools._specs"
    assert published == published_document(), regenerate
    assert list(ALL_TOOLS) == list(SPECS)
    assert {name for name, spec in SPECS.items() if not spec.writes} == READ_ONLY_TOOLS


def test_the_comparison_sees_a_changed_description(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the guard: the comparison above sees a one-word change of one spec."""
    from capacities_mcp.server.tools import _specs
    from capacities_mcp.server.tools.space import GET_SPACE

    monkeypatch.setitem(_specs.SPECS, "get_space", dataclasses.replace(GET_SPACE, description="Changed."))
    published = json.loads(_specs.PUBLISHED_FILE.read_text(encoding="utf-8"))
    assert published != _specs.published_document()
