"""What the mirror's write-through of a read costs the agent: a first get_object page of a large
object, with the mirror on against the same server without it.

    python bench/mirror_write_through.py [--items 25000] [--repeats 15]

A sandbox process (the demo space, quotas off) holding a 25,000-block object (a to-do list, 8
characters an item), so its work is not in this process, as the real API's is not; two servers
on it through in-process MCP clients: the baseline with `mirror=False`, ours with the mirror in
a temporary directory, crawled to completion first.
The calls alternate between the two, each going first in turn; after a call of ours the
mirror's background work is let finish (`Mirror.settled`, where it exists), so each call starts
on an idle process. Reported: the median of each server, and the median of the per-pair ratios.

And what storing that object costs (building its record, the SQLite write, in memory), against
the client's parse of the same answer (`ApiObject.model_validate_json`), medians of 5.
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
from capacities_mcp.api.models import ApiObject
from capacities_mcp.mirror import MEMORY, MirrorStore, record_of
from capacities_mcp.server._app import build_app
from capacities_mcp.server._settings import Settings


async def large_object(url: str, token: str, items: int) -> tuple[str, bytes]:
    """The new object's id and its `GET /object` answer."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(base_url=url, headers=headers, timeout=600) as http:
        body = {"structureId": "RootPage", "markdown": todos(items)}
        created = await http.post("/object/markdown", json=body)
        created.raise_for_status()
        object_id = str(created.json()["id"])
        return object_id, (await http.get("/object", params={"id": object_id})).content


def storing(answer: bytes) -> tuple[float, float]:
    """Median seconds of the client's parse of `answer`, and of storing the parsed object."""
    store = MirrorStore(MEMORY)
    parse, store_s = [], []
    for _ in range(5):
        start = time.perf_counter()
        obj = ApiObject.model_validate_json(answer)
        parse.append(time.perf_counter() - start)
        start = time.perf_counter()
        store.put(record_of(obj))
        store_s.append(time.perf_counter() - start)
    store.close()
    return statistics.median(parse), statistics.median(store_s)


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
        pairs, answer = await measure(url, token, items, repeats)
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
    parse, store = storing(answer)
    print(f"storing it: {store:.3f} s, the client's parse of it {parse:.3f} s: {store / parse:.2f}x")


async def measure(url: str, token: str, items: int, repeats: int) -> tuple[list[tuple[float, float]], bytes]:
    """(without, with the mirror) seconds of each pair of calls; the object's API answer."""
    with tempfile.TemporaryDirectory() as directory:
        object_id, answer = await large_object(url, token, items)
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
            for n in range(repeats):
                if n % 2:  # either goes first in turn: neither always runs on a process just woken
                    ours_s = await timed(ours, object_id)
                    await settled(mirror)
                    plain_s = await timed(base, object_id)
                else:
                    plain_s = await timed(base, object_id)
                    ours_s = await timed(ours, object_id)
                    await settled(mirror)
                pairs.append((plain_s, ours_s))
    return pairs, answer


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=25_000)
    parser.add_argument("--repeats", type=int, default=15)
    options = parser.parse_args()
    tune_garbage_collector()  # as the server process does
    logging.disable(logging.INFO)
    anyio.run(main, options.items, options.repeats)
