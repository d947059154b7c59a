"""No result above 20,000 tokens, and paging reaches everything exactly once (issue 11, item 4).

Through a real MCP client against the sandbox: a 60,000-character CJK page, a 150,000-character
property value, a listing of objects with very long titles, and the object resource. Every result
is counted in o200k_base tokens as bench/tools_list_tokens.py counts (the text a model reads, and
the structured content on its own).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import bpe_openai
from mcp import Client
from mcp.types import CallToolResult

from capacities_mcp.api import CapacitiesClient
from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.sandbox._seed import BOOK_STRUCTURE_ID, SMART_NOTES_BOOK_ID
from capacities_mcp.server._app import build_app
from capacities_mcp.server._settings import Settings

from .helpers import connect, text_of, tool_server

CEILING = 20_000
TEXTS = Path(__file__).parent.parent / "fixtures" / "text"
_O200K = bpe_openai.get_encoding("o200k_base")


def tokens(text: str) -> int:
    return len(_O200K.encode(text))


def assert_bounded(result: CallToolResult) -> None:
    assert not result.is_error, text_of(result)
    assert tokens(text_of(result)) <= CEILING
    if result.structured_content is not None:
        assert tokens(json.dumps(result.structured_content, ensure_ascii=False)) <= CEILING


def cjk_markdown(chars: int) -> str:
    """Paragraphs of Chinese, Japanese and Korean prose, about `chars` characters."""
    prose = [
        re.sub(r"(?m)^[#>\-\d].*$", "", (TEXTS / f"{lang}.md").read_text(encoding="utf-8"))
        for lang in ("zh", "ja", "ko")
    ]
    paragraphs = [p.strip() for text in prose for p in text.split("\n\n") if p.strip()]
    out: list[str] = []
    size = 0
    while size < chars:
        paragraph = paragraphs[len(out) % len(paragraphs)]
        out.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(out)


@asynccontextmanager
async def api(sandbox: SandboxServer) -> AsyncIterator[CapacitiesClient]:
    async with CapacitiesClient(api_token=sandbox.api_token, base_url=sandbox.base_url) as client:
        yield client


async def read_all_pages(client: Client, args: dict[str, Any]) -> tuple[str, int]:
    """Every page of one get_object read, following the hints; (the content joined, calls)."""
    pieces: list[str] = []
    offset: int | None = 0
    calls = 0
    while offset is not None:
        result = await client.call_tool("get_object", {**args, "offset": offset})
        assert_bounded(result)
        data = result.structured_content
        assert data is not None and data["offset"] == offset
        pieces.append(data["content"])
        offset = data["next_offset"]
        if offset is not None:  # the hint says exactly how to go on
            assert f"offset={offset})" in text_of(result) and "more tokens" in text_of(result)
        calls += 1
        assert calls < 100
    return "".join(pieces), calls


async def test_a_long_cjk_page_comes_in_token_sized_pages(sandbox: SandboxServer) -> None:
    body = cjk_markdown(60_000)
    async with api(sandbox) as capacities:
        page = await capacities.object.create(
            structure_id="RootPage", properties={"title": {"type": "title", "title": {"value": "CJK"}}}
        )
        await capacities.blocks.append(id=page.id, markdown=body)
        export = (await capacities.object.markdown.get(page.id)).markdown
    server, _ = tool_server(sandbox)
    async with connect(server, "auto") as client:
        content, calls = await read_all_pages(client, {"id": page.id})
        blocks, _ = await read_all_pages(client, {"id": page.id, "format": "blocks"})
    assert content == export and body in content  # every character exactly once
    assert tokens(body) > 40_000 and calls >= 5  # ~8,000-token pages, not 60,000-character ones
    assert blocks.count("\n- ") >= body.count("\n\n")


async def test_a_long_property_value_is_cut_and_read_on(sandbox: SandboxServer) -> None:
    summary = ("The argument in one more paragraph, with its evidence and an example. " * 2200)[:150_000]
    server, _ = tool_server(sandbox)
    async with connect(server, "auto") as client:
        updated = await client.call_tool(
            "update_object",
            {"id": SMART_NOTES_BOOK_ID, "properties": [{"property": "Summary", "value": summary}]},
        )
        first = await client.call_tool("get_object", {"id": SMART_NOTES_BOOK_ID})
        rest, _ = await read_all_pages(client, {"id": SMART_NOTES_BOOK_ID, "property": "Summary"})
        missing = await client.call_tool("get_object", {"id": SMART_NOTES_BOOK_ID, "property": "Colour"})
    assert_bounded(updated)  # the old -> new echo is shortened too
    assert_bounded(first)
    line = next(x for x in text_of(first).splitlines() if x.startswith("- Summary: "))
    assert len(line) < 10_000
    assert f'get_object(id="{SMART_NOTES_BOOK_ID}", property="Summary", offset=' in text_of(first)
    cut = next(p for p in first.structured_content["properties"] if p["name"] == "Summary")  # type: ignore[index]
    assert cut["next_offset"] is not None and summary.startswith(cut["value"])
    assert "- Author:" in text_of(first) and "# How to Take Smart Notes" in text_of(first)
    assert rest == summary.strip()
    assert missing.is_error and "Summary" in text_of(missing)


async def test_listings_of_long_titles_stay_under_the_ceiling(sandbox: SandboxServer) -> None:
    long_titles = [f"Book {n:03} " + "被遗忘的长标题 a very long title indeed " * 40 for n in range(100)]
    async with api(sandbox) as capacities:
        ids = set()
        for title in long_titles:
            made = await capacities.object.create(
                structure_id=BOOK_STRUCTURE_ID,
                properties={"title": {"type": "title", "title": {"value": title}}},
            )
            ids.add(made.id)
    server, _ = tool_server(sandbox)
    seen: list[str] = []
    async with connect(server, "auto") as client:
        cursor: str | None = None
        page_size = 100
        while True:
            result = await client.call_tool(
                "list_objects", {"structure": "Book", "page_size": page_size, "cursor": cursor}
            )
            assert_bounded(result)
            data = result.structured_content
            assert data is not None
            seen.extend(ref["id"] for ref in data["results"])
            assert all(ref["id"] in text_of(result) for ref in data["results"])
            left_out = re.search(r"page_size=(\d+), then go on", text_of(result))
            if left_out:  # the same cursor with a smaller page, as the hint says
                seen = seen[: len(seen) - len(data["results"])]
                page_size = int(left_out.group(1))
                continue
            if not data["next_cursor"]:
                break
            cursor, page_size = data["next_cursor"], 100
        search = await client.call_tool("search_objects", {"query": "very long title", "limit": 50})
    assert_bounded(search)
    assert len(seen) == len(set(seen)) and ids <= set(seen)  # every object exactly once


async def test_the_object_resource_is_paged(sandbox: SandboxServer) -> None:
    body = cjk_markdown(60_000)
    async with api(sandbox) as capacities:
        page = await capacities.object.create(
            structure_id="RootPage", properties={"title": {"type": "title", "title": {"value": "CJK 2"}}}
        )
        await capacities.blocks.append(id=page.id, markdown=body)
    app = build_app(Settings(api_token=sandbox.api_token, api_url=sandbox.base_url))
    pieces: list[str] = []
    async with api(sandbox) as capacities:
        export = (await capacities.object.markdown.get(page.id)).markdown
    async with Client(app.server) as client:
        uri: str | None = f"capacities://object/{page.id}"
        while uri is not None:
            text = (await client.read_resource(uri)).contents[0].text  # type: ignore[union-attr]
            assert tokens(text) <= CEILING
            footer = re.search(r"\n\n<!-- capacities object .*? -->\n$", text)
            assert footer is not None
            pieces.append(text[: footer.start()])
            following = re.search(r"next page: (capacities://object/\S+) -->", footer.group())
            uri = following.group(1) if following else None
            assert len(pieces) < 50
    assert len(pieces) >= 5 and "".join(pieces) == export
