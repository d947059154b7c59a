"""Start-up time and memory of the stdio server, against a bare MCP server in the same run.

Baseline: `bench/_baseline_server.py`, an `MCPServer` with one trivial tool (the cost of Python
plus the MCP SDK, which we cannot go below). Measured: `capacities-mcp` pointed at a running
sandbox, as an MCP host starts it. For each: seconds from spawn to the answer of `tools/list`
(median of --runs), and peak resident memory (VmHWM) after `tools/list` plus, for ours, 20 tool
calls reading the space and its largest note.

    python bench/startup_memory.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import anyio
from _common import quiet_sandbox
from mcp import Client, StdioServerParameters

HERE = Path(__file__).resolve().parent


def _children_peak_rss_kib() -> int:
    """Largest VmHWM among this process's child processes (Linux /proc)."""
    peak = 0
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            status = Path(f"/proc/{pid}/status").read_text()
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    return peak


async def run_once(params: StdioServerParameters, work: bool) -> tuple[float, int]:
    start = time.perf_counter()
    async with Client(params) as client:
        await client.list_tools()
        elapsed = time.perf_counter() - start
        if work:
            hits = await client.call_tool("search_objects", {"query": "Research", "limit": 5})
            assert not hits.is_error, hits
            ids = [r["id"] for r in (hits.structured_content or {}).get("results", [])]
            for index in range(20):
                if index % 2 == 0 or not ids:
                    await client.call_tool("get_space", {})
                else:
                    await client.call_tool("get_object", {"id": ids[index % len(ids)]})
        rss = _children_peak_rss_kib()
    return elapsed, rss


async def measure(runs: int) -> None:
    with quiet_sandbox() as sandbox:
        env = {
            "CAPACITIES_API_URL": sandbox.base_url,
            "CAPACITIES_API_TOKEN": sandbox.api_token,
            "PATH": os.environ.get("PATH", ""),
        }
        baseline = StdioServerParameters(command=sys.executable, args=[str(HERE / "_baseline_server.py")])
        ours = StdioServerParameters(command=sys.executable, args=["-m", "capacities_mcp"], env=env)
        results: dict[str, tuple[list[float], list[int]]] = {"baseline": ([], []), "ours": ([], [])}
        for _ in range(runs):
            for name, params, work in (("baseline", baseline, False), ("ours", ours, True)):
                elapsed, rss = await run_once(params, work)
                results[name][0].append(elapsed)
                results[name][1].append(rss)
    base_t, base_m = statistics.median(results["baseline"][0]), max(results["baseline"][1])
    ours_t, ours_m = statistics.median(results["ours"][0]), max(results["ours"][1])
    print(f"{'':28} {'baseline':>10} {'ours':>10} {'ratio':>7}")
    print(f"{'spawn -> tools/list (s)':28} {base_t:10.2f} {ours_t:10.2f} {ours_t / base_t:7.2f}")
    print(f"{'peak RSS (MiB)':28} {base_m / 1024:10.1f} {ours_m / 1024:10.1f} {ours_m / base_m:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    anyio.run(measure, parser.parse_args().runs)


if __name__ == "__main__":
    main()
