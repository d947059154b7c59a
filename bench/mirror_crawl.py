"""The mirror's crawl against the quota, and what it costs an agent working meanwhile.

    python bench/mirror_crawl.py [--objects 2000] [--window 1.0]

A sandbox process (`capacities-mcp sandbox --seed-size N --rate-limit-window W`) on loopback, a
mirror file in a temporary directory, one client shared by the crawl and the "agent":

* crawl: seconds for a complete first pass (listing + every object) against the quota-bound
  minimum at the default share kept free (a third): the mirror may use 20 of the 30
  `GET /object` a window, so N objects need at least N / 20 windows. Target <= 1.15x.
* agent: median latency of `client.object.get` (the request behind get_object) while the crawl
  runs, against the same calls on an idle client. Target <= 1.2x.
* size on disk per 1,000 objects, and 429s seen (must be 0).
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx2

from capacities_mcp.api import CapacitiesClient
from capacities_mcp.mirror import Mirror, MirrorOptions

DEMO_OBJECTS = 52


def start_sandbox(objects: int, window: float) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "capacities_mcp",
            "sandbox",
            "--seed-size",
            str(max(0, objects - DEMO_OBJECTS)),
            "--rate-limit-window",
            str(window),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = token = ""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("CAPACITIES_API_URL="):
            url = line.split("=", 1)[1].strip()
        if line.startswith("CAPACITIES_API_TOKEN="):
            token = line.split("=", 1)[1].strip()
        if url and token:
            return process, url, token
    raise RuntimeError("the sandbox did not start")


class CountingTransport(httpx2.AsyncBaseTransport):
    """Counts 429 answers at the HTTP level (the client would wait them out silently)."""

    def __init__(self) -> None:
        self.inner = httpx2.AsyncHTTPTransport()
        self.too_many = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        self.too_many += response.status_code == 429
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def agent_latencies(client: CapacitiesClient, ids: list[str], calls: int) -> list[float]:
    """`calls` reads, 4 a second (well within the third of the quota kept free)."""
    samples = []
    for n in range(calls):
        start = time.perf_counter()
        await client.object.get(ids[n % len(ids)])
        samples.append(time.perf_counter() - start)
        await anyio.sleep(0.25)
    return samples


async def main(objects: int, window: float, agent_calls: int) -> None:
    process, url, token = start_sandbox(objects, window)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            counting = CountingTransport()
            options = {"max_rate_limit_wait": 120.0, "transport": counting}
            async with CapacitiesClient(api_token=token, base_url=url, **options) as client:  # type: ignore[arg-type]
                ids = [s.id for s in (await client.objects.structure("RootPage", 100)).results]
                idle = await agent_latencies(client, ids, agent_calls)
                mirror = Mirror(client, MirrorOptions(location=Path(tmp) / "bench.sqlite3"))
                busy: list[float] = []
                start = time.perf_counter()
                async with anyio.create_task_group() as tg:

                    async def agent() -> None:
                        busy.extend(await agent_latencies(client, ids, agent_calls))

                    tg.start_soon(agent)
                    stats = await mirror.sync_once()
                crawl = time.perf_counter() - start
                await mirror.close()
                size = sum(p.stat().st_size for p in Path(tmp).glob("bench.sqlite3*"))
    finally:
        process.terminate()
        process.wait()
    minimum = math.ceil(stats.objects / 20) * window
    print(f"objects: {stats.objects} known, {stats.fetched} mirrored; window {window:g} s")
    print(f"crawl: {crawl:.1f} s, quota-bound minimum {minimum:.1f} s, ratio {crawl / minimum:.2f} (<= 1.15)")
    i, b = statistics.median(idle) * 1000, statistics.median(busy) * 1000
    print(f"agent GET /object median: idle {i:.1f} ms, crawling {b:.1f} ms, ratio {b / i:.2f} (<= 1.2)")
    print(
        f"size on disk: {size / 1024:.0f} KiB, {size / stats.objects * 1000 / 1024:.0f} KiB per 1,000 objects"
    )
    print(f"429 answers on the wire: {counting.too_many}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--window", type=float, default=1.0)
    parser.add_argument("--agent-calls", type=int, default=40)
    args = parser.parse_args()
    anyio.run(main, args.objects, args.window, args.agent_calls)
