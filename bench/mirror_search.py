"""Full-text search on a large mirror: p95 latency of `search` on 10,000 objects, and disk size.

    python bench/mirror_search.py [--objects 10000]

The objects come from the sandbox's generated space (`--seed-size`, some CJK), put into a mirror
file directly (a crawl of 10,000 objects takes the API's quota hours; bench/mirror_crawl.py
measures crawling). Queries: 300 of two or three words drawn from the objects' own text, in
shuffled order, and 50 CJK ones. Baseline for the ratio: the target of 20 ms.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from capacities_mcp.api.models import ApiObject
from capacities_mcp.mirror import MirrorStore, record_of
from capacities_mcp.mirror._query import search
from capacities_mcp.sandbox import SandboxConfig, SandboxServer

TARGET_MS = 20.0


def main(objects: int) -> None:
    with SandboxServer(SandboxConfig(seed_size=max(0, objects - 52), rate_limit_window=0.001)) as sandbox:
        raw = list(sandbox.state.live_objects())
    records = [record_of(ApiObject.model_validate(o)) for o in raw]
    with tempfile.TemporaryDirectory() as tmp:
        store = MirrorStore(Path(tmp) / "bench.sqlite3")
        start = time.perf_counter()
        for rec in records:
            store.put(rec)
        load = time.perf_counter() - start
        rng = random.Random(12)
        words = [w for r in records for w in re.findall(r"[A-Za-z]{4,}", r.body)[:20]]
        cjk = [m for r in records for m in re.findall(r"[\u4e00-\u9fff]{2}", r.body)[:5]]
        queries = [" ".join(rng.sample(words, rng.choice((2, 3)))) for _ in range(300)]
        queries += [" ".join(rng.sample(words, 1)) for _ in range(100)]
        queries += rng.sample(cjk, min(50, len(cjk)))
        samples, hits = [], 0
        for query in queries:
            t = time.perf_counter()
            hits += bool(search(store, query, limit=10))
            samples.append((time.perf_counter() - t) * 1000)
        size = sum(p.stat().st_size for p in Path(tmp).glob("bench.sqlite3*"))
    samples.sort()
    p95 = samples[int(len(samples) * 0.95)]
    chars = sum(len(r.title) + len(r.body) for r in records)
    print(f"objects: {len(records)} ({chars / 1e6:.1f} M chars), loaded in {load:.1f} s")
    print(
        f"search: {len(queries)} queries ({hits} with hits), median {statistics.median(samples):.2f} ms, "
        f"p95 {p95:.2f} ms, ratio to the 20 ms target {p95 / TARGET_MS:.2f} (<= 1)"
    )
    print(f"size on disk: {size / 1e6:.1f} MB, {size / len(records) * 1000 / 1024:.0f} KiB per 1,000 objects")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=10_000)
    main(parser.parse_args().objects)
