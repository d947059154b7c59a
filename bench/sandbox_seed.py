"""How long does `--seed-size N` take to load, and does it grow linearly?

For N generated objects on top of the demo space (`SandboxConfig(seed_size=N)`), the median of
a few runs of what the sandbox does at start (`load_store`: generate, then load into the store),
against a baseline in the same run: loading the same space by parsing each body's Markdown (what
`store_from_seed` would do without the generator's ready-made blocks). Growth is the time per
object relative to the smallest N (1.0 = linear). Seconds are printed for orientation only.

    python bench/sandbox_seed.py                # 1,000 / 5,000 / 10,000
    python bench/sandbox_seed.py --sizes 2000 20000 --runs 1
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable

from capacities_mcp._collector import collector_paused
from capacities_mcp.sandbox import SandboxConfig, store_from_seed
from capacities_mcp.sandbox._app import load_store
from capacities_mcp.sandbox._seed import demo_space
from capacities_mcp.sandbox._synthetic import synthetic_space


def _median_seconds(run: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _parse_everything(size: int) -> None:
    """The baseline: the same space, every body parsed from its Markdown."""
    with collector_paused():
        today = SandboxConfig().clock.today()
        space = synthetic_space(today, size, base=demo_space(today))
        unparsed = [dataclasses.replace(item, blocks=None) for item in space.objects]
        store_from_seed(dataclasses.replace(space, objects=unparsed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("| N | load (s) | parse-all baseline (s) | ratio | growth per object |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    first: float | None = None
    for size in args.sizes:
        ours = _median_seconds(lambda size=size: load_store(SandboxConfig(seed_size=size)), args.runs)
        base = _median_seconds(lambda size=size: _parse_everything(size), args.runs)
        per_object = ours / size
        first = first or per_object
        print(f"| {size:,} | {ours:.2f} | {base:.2f} | {ours / base:.2f} | {per_object / first:.2f} |")


if __name__ == "__main__":
    main()
