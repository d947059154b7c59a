"""What the mirror's write-through of a read costs the agent: a first get_object page of a large
object, with the mirror on against the same server without it.

    python bench/mirror_write_through.py [--items 25000] [--repeats 5]

A sandbox process (the demo space, quotas off) holding a 25,000-block object (a to-do list, 8
characters an item), so its work is not in this process, as the real API's is not; two servers
on it through in-process MCP clients: the baseline with `mirror=False`, ours with the mirror in
a temporary directory, crawled to completion first.
The calls alternate between the two; between two calls the mirror's background work from the
previous one is let finish (`Mirror.settled`, where it exists), so each call starts on an idle
process. Reported: the median of each server, and the median of the per-pair ratios.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from typing import Any

import anyio
import httpx2
from markdown_scaling import todos
from mcp import Client
from mirror_crawl import DEMO_OBJECTS, start_sandbox

from capacities_mcp._collector import tune_garbage_collector
from capacities_mcp.server._app import build_app
from capacities_mcp.server._settings import Settings


async def large_object(url: str, token: str, items: int) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(base_url=url, headers=headers, timeout=600) as http:
        body = {"structureId": "RootPage", "markdown": todos(items)}
        created = await http.post("/object/markdown", json=body)
        created.raise_for_status()
        return str(created.json()["id"])


async def crawled(mirror: Any) -> None:
    with anyio.fail_after(300):
        while True:
            stats = await mirror.stats()
            if stats is not None and stats.objects and stats.fetched == stats.objects:
                return
            await anyio.sleep(0.2)


async def settled(mirror: Any) -> None:
    """The mirror's background work done (a mirror without any writes through inline)."""
    wait = getattr(mirror, "settled", None)
    if wait is not None:
        await wait()


async def timed(client: Client, object_id: str) -> float:
    start = time.perf_counter()
    result = await client.call_tool("get_object", {"id": object_id})
    elapsed = time.perf_counter() - start
    assert not result.is_error
    return elapsed


async def main(items: int, repeats: int) -> None:
    process, url, token = start_sandbox(DEMO_OBJECTS, 0.001)
    try:
        pairs = await measure(url, token, items, repeats)
    finally:
        process.terminate()
        process.wait()
    plain_median = statistics.median(p for p, _ in pairs)
    ours_median = statistics.median(o for _, o in pairs)
    ratio = statistics.median(o / p for p, o in pairs)
    print(f"first get_object page of a {items:,}-block object, {repeats} pairs")
    print(f"  without the mirror: {plain_median:.3f} s (median)")
    print(f"  with the mirror:    {ours_median:.3f} s (median)")
    print(f"  ratio (median of per-pair ratios): {ratio:.2f}")


async def measure(url: str, token: str, items: int, repeats: int) -> list[tuple[float, float]]:
    """(without, with the mirror) seconds of each pair of calls."""
    with tempfile.TemporaryDirectory() as directory:
        object_id = await large_object(url, token, items)
        where = {"api_token": token, "api_url": url}
        plain = build_app(Settings(**where, mirror=False))
        mirrored = build_app(Settings(**where, mirror_dir=directory))
        async with Client(plain.server) as base, Client(mirrored.server) as ours:
            await base.call_tool("get_space", {})
            await ours.call_tool("get_space", {})
            mirror = mirrored.runtime.state.mirror
            await crawled(mirror)
            await timed(base, object_id)  # warm-up: both content caches and connections
            await timed(ours, object_id)
            await settled(mirror)
            pairs: list[tuple[float, float]] = []
            for _ in range(repeats):
                plain_s = await timed(base, object_id)
                ours_s = await timed(ours, object_id)
                await settled(mirror)
                pairs.append((plain_s, ours_s))
    return pairs


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=25_000)
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    tune_garbage_collector()  # as the server process does
    logging.disable(logging.INFO)
    anyio.run(main, options.items, options.repeats)
