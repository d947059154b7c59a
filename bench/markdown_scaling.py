"""Does Markdown parsing and rendering grow linearly with the document?

For to-do lists of 2k / 4k / 8k / 25k items and a 200,000-character mixed document (headings,
long paragraphs, nested lists, to-dos), medians of a few runs of:

* baseline: markdown-it-py's own CommonMark parse of the same text (linear, the floor);
* sandbox parse: what a Markdown write does (`SpaceService.blocks_from_markdown`: parse, ids);
* sandbox render: what `GET /object/markdown` does (`blocks_to_markdown`);
* server get_object: a first page of `get_object` through an in-process MCP client, against
  a sandbox holding the object (HTTP, the sandbox's export, the client's parse of the object);
* server parse: the API client's model parse of the `GET /object` body (`ApiObject`), against
  `json.loads` of the same bytes.

Reported as ratios: each step against the baseline in the same run, and the growth per item
from the smallest size (1.0 = linear; a quadratic step doubles it with every doubling).

The process runs with the garbage-collector settings `capacities-mcp` uses
(`capacities_mcp._collector`); `--default-gc` keeps CPython's defaults, for comparison.

    python bench/markdown_scaling.py            # everything
    python bench/markdown_scaling.py --max-items 8000 --no-server   # quick
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
from _common import quiet_sandbox
from markdown_it import MarkdownIt
from mcp import Client
from mcp.server.mcpserver import MCPServer

from capacities_mcp._collector import tune_garbage_collector
from capacities_mcp.api.models import ApiObject
from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.sandbox._app import empty_store
from capacities_mcp.sandbox._markdown import blocks_to_markdown
from capacities_mcp.sandbox._space import SpaceService
from capacities_mcp.server import Settings, build_server

MIXED_CHARS = 200_000


def todos(items: int) -> str:
    """Eight characters an item, as in the report: 25,000 items are exactly 200,000 characters."""
    return "".join("- [ ] a\n" if i % 4 else "- [x] b\n" for i in range(items))


def mixed_document(chars: int = MIXED_CHARS) -> str:
    """Headings, long paragraphs, nested lists and to-dos, cut at `chars` characters."""
    sentence = "A sentence with **bold**, *italic*, `code` and a [link](https://example.com). "
    parts: list[str] = []
    size = section = 0
    while size < chars:
        chunk = (
            f"## Section {section}\n\n{sentence * 8}\n\n"
            + "".join(f"- [ ] task {section}.{i}\n" for i in range(30))
            + "\n- parent\n    - child\n        1. grandchild\n    - [x] nested task\n\n"
        )
        parts.append(chunk)
        size += len(chunk)
        section += 1
    return "".join(parts)[:chars]


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


@dataclass
class Row:
    label: str
    items: int
    chars: int
    baseline: float
    parse: float
    render: float
    get_object: float | None = None
    model_parse: float | None = None
    json_loads: float | None = None


def measure_sandbox(label: str, items: int, markdown: str, repeats: int) -> Row:
    service = SpaceService(empty_store())
    commonmark = MarkdownIt("commonmark")
    baseline = median_seconds(lambda: commonmark.parse(markdown), repeats)
    parse = median_seconds(lambda: service.blocks_from_markdown(markdown), repeats)
    blocks = service.blocks_from_markdown(markdown)
    render = median_seconds(lambda: blocks_to_markdown(blocks, entity_link=lambda _: None), repeats)
    return Row(label, items, len(markdown), baseline, parse, render)


async def measure_server(sandbox: SandboxServer, row: Row, markdown: str, repeats: int) -> None:
    headers = {"Authorization": f"Bearer {sandbox.api_token}"}
    async with httpx2.AsyncClient(base_url=sandbox.base_url, headers=headers, timeout=600) as http:
        created = await http.post("/object/markdown", json={"structureId": "RootPage", "markdown": markdown})
        created.raise_for_status()
        object_id = created.json()["id"]
        body = (await http.get("/object", params={"id": object_id})).content
    row.json_loads = median_seconds(lambda: json.loads(body), repeats)
    row.model_parse = median_seconds(lambda: ApiObject.model_validate_json(body), repeats)
    with tempfile.TemporaryDirectory() as mirror_dir:  # not the user's cache directory
        server = build_server(
            Settings(api_token=sandbox.api_token, api_url=sandbox.base_url, mirror_dir=mirror_dir)
        )
        row.get_object = await _first_get_object(server, object_id, repeats)


async def _first_get_object(server: MCPServer[Any], object_id: str, repeats: int) -> float:
    async with Client(server) as mcp:
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            await mcp.call_tool("get_object", {"id": object_id})
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _growth(value: float | None, items: int, first: Row, first_value: float | None) -> str:
    if value is None or first_value is None:
        return "-"
    return f"{(value / items) / (first_value / first.items):.2f}"


def report(rows: list[Row]) -> None:
    first = rows[0]
    print(
        f"{'document':22} {'chars':>8} {'mdit s':>7} {'parse s':>8} {'x mdit':>7} {'render s':>9} "
        f"{'get_object s':>13} {'model s':>8} {'x json':>7}"
    )
    for row in rows:
        server = (
            f"{row.get_object:13.3f} {row.model_parse:8.3f} {row.model_parse / row.json_loads:7.1f}"
            if row.get_object is not None and row.model_parse is not None and row.json_loads
            else f"{'-':>13} {'-':>8} {'-':>7}"
        )
        print(
            f"{row.label:22} {row.chars:8,} {row.baseline:7.3f} {row.parse:8.3f} "
            f"{row.parse / row.baseline:7.2f} {row.render:9.3f} {server}"
        )
    print("\ngrowth per item against the first row (1.00 = linear):")
    print(f"{'document':22} {'mdit':>6} {'parse':>6} {'render':>7} {'get_object':>11} {'model':>6}")
    for row in rows:
        if "to-dos" not in row.label:
            continue
        print(
            f"{row.label:22} {_growth(row.baseline, row.items, first, first.baseline):>6} "
            f"{_growth(row.parse, row.items, first, first.parse):>6} "
            f"{_growth(row.render, row.items, first, first.render):>7} "
            f"{_growth(row.get_object, row.items, first, first.get_object):>11} "
            f"{_growth(row.model_parse, row.items, first, first.model_parse):>6}"
        )


async def main(max_items: int, with_server: bool, repeats: int) -> None:
    documents = [(f"{n:,} to-dos", n, todos(n)) for n in (2_000, 4_000, 8_000, 25_000) if n <= max_items]
    mixed = mixed_document()
    documents.append(("200,000-char mixed", mixed.count("\n"), mixed))
    rows = [measure_sandbox(label, items, text, repeats) for label, items, text in documents]
    if with_server:
        with quiet_sandbox() as sandbox:
            for row, (_, _, text) in zip(rows, documents, strict=True):
                await measure_server(sandbox, row, text, repeats)
    report(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-items", type=int, default=25_000, help="skip longer to-do lists")
    parser.add_argument("--no-server", action="store_true", help="sandbox steps only")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--default-gc", action="store_true", help="CPython's collector thresholds")
    options = parser.parse_args()
    if not options.default_gc:
        tune_garbage_collector()  # as the server, remote server and sandbox processes do
    logging.disable(logging.INFO)  # the server's and HTTP client's request lines
    anyio.run(main, options.max_items, not options.no_server, options.repeats)
