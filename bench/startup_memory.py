"""Start-up time and memory of the stdio server, against a bare MCP server in the same run.

Baseline: `bench/_baseline_server.py`, an `MCPServer` with one trivial tool (the cost of Python
plus the MCP SDK, which we cannot go below). Measured, as an MCP host starts them:

- `url`: `capacities-mcp` pointed at a running sandbox through `CAPACITIES_API_URL`/`_TOKEN`
  (the path of a real space);
- `sandbox`: `capacities-mcp --sandbox`, which starts the embedded sandbox with its demo space.

Each round spawns the three side by side (interleaved, so they share the machine's noise); time is
seconds from spawn to the answer of `tools/list`, reported as a ratio against the baseline: the
median over the rounds of each round's own ratio (this machine's speed drifts by a third within
minutes; a round's pair shares its moment). Our server opens its client (and sandbox) after
`tools/list`, so a second column times spawn to the answer of a first tool call made right after it
(get_space; the baseline's echo): the work moved off the handshake, not hidden. Peak resident
memory (VmHWM) is taken after `tools/list` plus, for ours, 20 tool calls reading the space and its
objects. The package is byte-compiled first, as an installed wheel is (with PYTHONDONTWRITEBYTECODE
set, a working tree would recompile every edited module at every spawn, a cost no user pays). A
CPU-time column (user + system of the server process up to `tools/list`) sits beside the wall time:
on a shared machine it tells our cost from the noise.

    python bench/startup_memory.py [--runs 9] [--before DIR]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from _common import quiet_sandbox
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

import capacities_mcp
from capacities_mcp._environment import ENV_API_TOKEN, ENV_API_URL, ENV_TOKEN_STORE

HERE = Path(__file__).resolve().parent


@dataclass
class Samples:
    """What one variant measured over the rounds."""

    seconds: list[float] = field(default_factory=list)
    first_call_seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    peak_kib: list[int] = field(default_factory=list)


def _children() -> list[str]:
    """Process ids of this process's children (Linux /proc): the server being measured."""
    return [
        pid
        for task in Path(f"/proc/{os.getpid()}/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]


def _children_peak_rss_kib() -> int:
    """Largest VmHWM among the child processes."""
    peak = 0
    for pid in _children():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak


def _children_cpu_seconds() -> float:
    """CPU time (user + system) the child processes used so far.

    Unlike wall time it hardly depends on what else the machine is running, so it shows whether a
    change of ratio is ours or the neighbours'.
    """
    ticks = 0
    for pid in _children():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def _read_the_space(client: Client) -> None:
    """The work an agent does after start-up, so peak memory includes real tool calls."""
    hits = await client.call_tool("search_objects", {"query": "Research", "limit": 5})
    assert not hits.is_error, hits
    ids = [r["id"] for r in (hits.structured_content or {}).get("results", [])]
    for index in range(20):
        if index % 2 == 0 or not ids:
            await client.call_tool("get_space", {})
        else:
            await client.call_tool("get_object", {"id": ids[index % len(ids)]})


async def run_once(variant: Variant, samples: Samples) -> None:
    """Spawn, initialize, list the tools (timed), call one tool (timed), then do the work and read
    the peak memory."""
    with open(os.devnull, "w") as quiet:  # the servers' start-up log lines are not the point here
        start = time.perf_counter()
        async with Client(stdio_client(variant.params, errlog=quiet)) as client:
            await client.list_tools()
            samples.seconds.append(time.perf_counter() - start)
            samples.cpu_seconds.append(_children_cpu_seconds())
            first = await client.call_tool(*variant.first_call)
            assert not first.is_error, first
            samples.first_call_seconds.append(time.perf_counter() - start)
            if variant.work:
                await _read_the_space(client)
            samples.peak_kib.append(_children_peak_rss_kib())


@dataclass(frozen=True)
class Variant:
    """One way of starting a server, its first tool call, and whether to do the tool-call work
    after `tools/list`."""

    label: str
    params: StdioServerParameters
    work: bool
    first_call: tuple[str, dict[str, Any]] = ("get_space", {})


def _variants(base_url: str, api_token: str, store: str, before: Path | None) -> list[Variant]:
    """The baseline, then ours by URL and with --sandbox (also from the `before` checkout, if given)."""
    python = sys.executable
    path = {"PATH": os.environ.get("PATH", "")}
    # An empty token store: nothing signed in on this machine can change which path runs.
    no_login = {**path, ENV_TOKEN_STORE: store}
    via_url = {**no_login, ENV_API_URL: base_url, ENV_API_TOKEN: api_token}
    baseline = StdioServerParameters(command=python, args=[str(HERE / "_baseline_server.py")])
    variants = [Variant("baseline (bare MCPServer)", baseline, False, ("echo", {"text": "hi"}))]
    # `python -m` finds the package in the working directory first: this tree, or `before`.
    for tree, suffix in ((None, ""), *(((before, " [before]"),) if before else ())):
        cwd = str(tree) if tree is not None else None
        url = StdioServerParameters(command=python, args=["-m", "capacities_mcp"], env=via_url, cwd=cwd)
        sandbox = StdioServerParameters(
            command=python, args=["-m", "capacities_mcp", "--sandbox"], env=no_login, cwd=cwd
        )
        variants += [
            Variant(f"capacities-mcp, sandbox URL{suffix}", url, True),
            Variant(f"capacities-mcp --sandbox{suffix}", sandbox, True),
        ]
    return variants


def _ratio(ours: list[float], baseline: list[float]) -> float:
    """Median over the rounds of ours / baseline in the same round."""
    return statistics.median(a / b for a, b in zip(ours, baseline, strict=True))


def _report(results: list[tuple[Variant, Samples]]) -> None:
    base = results[0][1]
    base_peak = max(base.peak_kib)
    print(
        f"{'':39} {'wall s':>7} {'ratio':>6} {'CPU s':>7} {'ratio':>6} {'1st call s':>10} {'ratio':>6}"
        f" {'peak MiB':>9} {'ratio':>6}"
    )
    for variant, samples in results:
        seconds, cpu = statistics.median(samples.seconds), statistics.median(samples.cpu_seconds)
        first, peak = statistics.median(samples.first_call_seconds), max(samples.peak_kib)
        print(
            f"{variant.label:39} {seconds:7.3f} {_ratio(samples.seconds, base.seconds):6.2f} "
            f"{cpu:7.3f} {_ratio(samples.cpu_seconds, base.cpu_seconds):6.2f} "
            f"{first:10.3f} {_ratio(samples.first_call_seconds, base.first_call_seconds):6.2f} "
            f"{peak / 1024:9.1f} {peak / base_peak:6.2f}"
        )


async def measure(runs: int, before: Path | None) -> None:
    for tree in (Path(capacities_mcp.__file__).parent, *((before / "capacities_mcp",) if before else ())):
        compileall.compile_dir(tree, quiet=1)
    with quiet_sandbox() as sandbox, tempfile.TemporaryDirectory() as empty:
        store = str(Path(empty) / "credentials.json")
        results = [(v, Samples()) for v in _variants(sandbox.base_url, sandbox.api_token, store, before)]
        for _ in range(runs):
            for variant, samples in results:
                await run_once(variant, samples)
    print(f"{runs} rounds; times: medians, ratios: median of per-round ratios (peak RSS: of maxima)")
    _report(results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument(
        "--before",
        type=Path,
        metavar="DIR",
        help="also measure the package of this checkout (e.g. a `git worktree` of an older commit), "
        "interleaved in the same rounds, for before -> after figures",
    )
    args = parser.parse_args()
    anyio.run(measure, args.runs, args.before.resolve() if args.before else None)


if __name__ == "__main__":
    main()
