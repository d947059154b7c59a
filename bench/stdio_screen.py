"""What the stdio screen (issue 10 §5) costs: per message, and end to end over a real pipe.

* per message: `screen_message(line)` (our parse, the envelope check and the SDK's own
  validation, which decides what the SDK would drop) against the SDK reader's
  `jsonrpc_message_adapter.validate_json(line)` alone, the work every message cost before;
  for a small tools/call (~150 bytes), a large one (a 200,000-character Markdown argument),
  and the deep-nesting path (`_top_level_only`, for messages Python's parser gives up on) at
  5,000 and 50,000 levels to show it is linear;
* end to end: N pings written at once to `serve` over stdio, until the last answer, with the
  SDK's own `run_stdio_async` (baseline) and with `serve_stdio`, each started the same way.

    python bench/stdio_screen.py            # both
    python bench/stdio_screen.py --pings 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from _common import quiet_sandbox
from mcp_types import jsonrpc_message_adapter

from capacities_mcp.server._stdio import _top_level_only, screen_message


def _call(arguments: dict[str, object]) -> str:
    params = {"name": "append_blocks", "arguments": arguments}
    return json.dumps({"jsonrpc": "2.0", "id": 17, "method": "tools/call", "params": params})


def per_call_us(work: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def per_message(repeats: int) -> None:
    small = _call({"id": "3499820e-7529-560d-ba41-e74773fc5004", "markdown": "- one more item"})
    large = _call({"id": "3499820e-7529-560d-ba41-e74773fc5004", "markdown": "- [ ] a\n" * 25_000})
    print("| message | SDK validate_json (us) | screen (us) | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name, line, count in (
        ("small tools/call", small, repeats),
        ("200 KB tools/call", large, repeats // 20),
    ):
        sdk = per_call_us(lambda line=line: jsonrpc_message_adapter.validate_json(line, by_name=False), count)
        ours = per_call_us(lambda line=line: screen_message(line), count)
        print(f"| {name} ({len(line):,} B) | {sdk:,.1f} | {ours:,.1f} | {ours / sdk:.2f}x |")
    print("\n| nesting | envelope recovery (ms) | per level (us) |")
    print("| ---: | ---: | ---: |")
    for depth in (5_000, 50_000):
        line = _call({"id": "x", "blocks": 0}).replace("0}", "[" * depth + "]" * depth + "}")
        ms = per_call_us(lambda line=line: _top_level_only(line), 20) / 1000
        print(f"| {depth:,} | {ms:.2f} | {ms * 1000 / depth:.3f} |")


RUNNER = """
import sys, anyio
from capacities_mcp.server import Settings, build_app
from capacities_mcp.server._stdio import serve_stdio
app = build_app(Settings(api_token=sys.argv[2], api_url=sys.argv[3]))
if sys.argv[1] == "sdk":
    anyio.run(app.server.run_stdio_async)
else:
    anyio.run(serve_stdio, app.server)
"""


def pipe_seconds(mode: str, pings: int, token: str, url: str) -> float:
    """Seconds from writing `pings` pings (after the handshake) to reading the last answer."""
    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER, mode, token, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "CAPACITIES_MCP_TOKEN_STORE": os.devnull},
    )
    assert process.stdin is not None and process.stdout is not None
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "b", "version": "0"}}
    process.stdin.write(
        json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init}).encode()
    )
    process.stdin.write(b'\n{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
    process.stdin.flush()
    process.stdout.readline()
    batch = "".join(
        json.dumps({"jsonrpc": "2.0", "id": i, "method": "ping"}) + "\n" for i in range(1, pings + 1)
    )
    start = time.perf_counter()
    process.stdin.write(batch.encode())
    process.stdin.flush()
    for _ in range(pings):
        process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.stdin.close()
    process.wait(timeout=30)
    return elapsed


def end_to_end(pings: int, rounds: int) -> None:
    with quiet_sandbox() as sandbox:
        times: dict[str, list[float]] = {"sdk": [], "screen": []}
        for _ in range(rounds):  # interleaved, so both modes see the same load
            for mode in times:
                times[mode].append(pipe_seconds(mode, pings, sandbox.api_token, sandbox.base_url))
    sdk, ours = (statistics.median(times[mode]) for mode in ("sdk", "screen"))
    print(f"\n| {pings:,} pipelined pings | SDK stdio (s) | with the screen (s) | ratio |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| median of {rounds} | {sdk:.2f} | {ours:.2f} | {ours / sdk:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--pings", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    per_message(args.repeats)
    end_to_end(args.pings, args.rounds)


if __name__ == "__main__":
    main()
