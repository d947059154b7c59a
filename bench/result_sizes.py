"""How many tokens does one tool result cost at most? (issue 11, item 4)

The issue's cases, in o200k_base tokens (`bpe-openai`, offline), through a real MCP client on the
sandbox: a 60,000-character CJK page read page by page, a 150,000-character property value (the
first page of its object, then the value read on), list_objects and search_objects over 100
objects with very long titles, and the `capacities://object/{id}` resource. Each line gives the
largest result of the case, as text and (with --structured-output) as structured content, and
how many calls read everything. Then the estimate the server pages by, against o200k, on the
demo space's content and prose in six languages. Counts, not timings: no baseline run is needed.

    python bench/result_sizes.py
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from pathlib import Path
from typing import Any

import anyio
import bpe_openai
from _common import quiet_sandbox
from mcp import Client
from mcp.types import CallToolResult, TextContent

from capacities_mcp.api import CapacitiesClient
from capacities_mcp.sandbox._seed import BOOK_STRUCTURE_ID, SMART_NOTES_BOOK_ID, demo_space
from capacities_mcp.server import Settings, build_server
from capacities_mcp.server._tokens import estimate_tokens

TEXTS = Path(__file__).parent.parent / "tests" / "fixtures" / "text"
_O200K = bpe_openai.get_encoding("o200k_base")


def tokens(text: str) -> int:
    return len(_O200K.encode(text))


def _text(result: CallToolResult) -> str:
    return "".join(part.text for part in result.content if isinstance(part, TextContent))


def _sizes(result: CallToolResult) -> tuple[int, int]:
    data = json.dumps(result.structured_content or {}, ensure_ascii=False)
    return tokens(_text(result)), tokens(data)


def cjk(chars: int) -> str:
    prose = [(TEXTS / f"{lang}.md").read_text(encoding="utf-8") for lang in ("zh", "ja", "ko")]
    paragraphs = [p for text in prose for p in text.split("\n\n") if p and p[0] not in "#>-1"]
    out: list[str] = []
    while sum(len(p) + 2 for p in out) < chars:
        out.append(paragraphs[len(out) % len(paragraphs)])
    return "\n\n".join(out)


async def _read_pages(mcp: Client, args: dict[str, Any]) -> tuple[int, int, int]:
    """(largest text, largest structured content, calls) over every page of one read."""
    worst_text = worst_data = calls = 0
    offset: int | None = 0
    while offset is not None:
        result = await mcp.call_tool("get_object", {**args, "offset": offset})
        text, data = _sizes(result)
        worst_text, worst_data, calls = max(worst_text, text), max(worst_data, data), calls + 1
        offset = (result.structured_content or {}).get("next_offset")
    return worst_text, worst_data, calls


async def _setup(api: CapacitiesClient) -> str:
    title = {"type": "title", "title": {"value": "CJK"}}
    page = await api.object.create(structure_id="RootPage", properties={"title": title})
    await api.blocks.append(id=page.id, markdown=cjk(60_000))
    for n in range(100):
        long_title = f"Book {n:03} " + "被遗忘的长标题 a very long title indeed " * 40
        await api.object.create(
            structure_id=BOOK_STRUCTURE_ID,
            properties={"title": {"type": "title", "title": {"value": long_title}}},
        )
    return page.id


async def measure() -> None:
    logging.getLogger("capacities_mcp").setLevel(logging.WARNING)
    summary = ("The argument in one more paragraph, with its evidence and an example. " * 2200)[:150_000]
    rows: list[tuple[str, int, int, int]] = []
    with quiet_sandbox() as sandbox:
        settings = Settings(
            api_token=sandbox.api_token, api_url=sandbox.base_url, structured_output=True, mirror=False
        )
        async with (
            CapacitiesClient(api_token=sandbox.api_token, base_url=sandbox.base_url) as api,
            Client(build_server(settings)) as mcp,
        ):
            page_id = await _setup(api)
            rows.append(("CJK page, 60,000 characters", *await _read_pages(mcp, {"id": page_id})))
            edit = [{"property": "Summary", "value": summary}]
            updated = await mcp.call_tool("update_object", {"id": SMART_NOTES_BOOK_ID, "properties": edit})
            rows.append(("update_object echo of that value", *_sizes(updated), 1))
            first = await mcp.call_tool("get_object", {"id": SMART_NOTES_BOOK_ID})
            rows.append(("first page, 150,000-char Summary", *_sizes(first), 1))
            args = {"id": SMART_NOTES_BOOK_ID, "property": "Summary"}
            rows.append(("the Summary read on (property=)", *await _read_pages(mcp, args)))
            listed = await mcp.call_tool("list_objects", {"structure": "Book", "page_size": 100})
            rows.append(("list_objects, 100 long titles", *_sizes(listed), 1))
            found = await mcp.call_tool("search_objects", {"query": "very long title", "limit": 50})
            rows.append(("search_objects, 50 long titles", *_sizes(found), 1))
            space = await mcp.call_tool("get_space", {})
            rows.append(("get_space", *_sizes(space), 1))
            worst, pages = await _resource_pages(mcp, page_id)
            rows.append(("capacities://object/{id}, CJK page", worst, 0, pages))
    print(f"{'case':38} {'text':>7} {'structured':>11} {'calls':>6}   (o200k tokens, largest result)")
    for name, text, data, calls in rows:
        print(f"{name:38} {text:7,} {data:11,} {calls:6}")
    _calibration()


async def _resource_pages(mcp: Client, page_id: str) -> tuple[int, int]:
    worst = pages = 0
    uri: str | None = f"capacities://object/{page_id}"
    while uri is not None:
        content = (await mcp.read_resource(uri)).contents[0]
        text = getattr(content, "text", "")
        worst, pages = max(worst, tokens(text)), pages + 1
        following = re.search(r"next page: (capacities://object/\S+) -->", text)
        uri = following.group(1) if following else None
    return worst, pages


def _calibration() -> None:
    texts = {
        o.title[:34]: o.markdown
        for o in demo_space(datetime.date(2026, 1, 5)).objects
        if len(o.markdown) > 5000
    }
    texts.update({f"prose {p.stem}": p.read_text(encoding="utf-8") for p in sorted(TEXTS.glob("*.md"))})
    print(f"\n{'estimate vs o200k':38} {'chars':>7} {'o200k':>7} {'estimate':>9} {'ratio':>6}")
    for name, text in texts.items():
        real, guess = tokens(text), estimate_tokens(text)
        print(f"{name:38} {len(text):7,} {real:7,} {guess:9,} {guess / real:6.2f}")


if __name__ == "__main__":
    anyio.run(measure)
