"""How long a tool call takes to say the API is unreachable (issue 11 item 8).

The real server (`build_app`, default client settings: 2 retries with backoff) in memory, its
API URL a closed loopback port. After the start-up check has found the API unreachable, each
call makes one quick try. Baselines in the same run:

* `first try`: the same call on a fresh client that does not know yet (what every call cost
  before: the retries and their backoff);
* `working API`: the same tool against a sandbox that answers (`get_object`, one request).

    python bench/misconfigured.py [--calls 20]
"""

from __future__ import annotations

import argparse
import logging
import socket
import statistics
import time

import anyio
from _common import quiet_sandbox
from mcp import Client

from capacities_mcp.server._app import build_app
from capacities_mcp.server._settings import Settings

OBJECT_ID = "739718bc-3246-56f6-a8f0-477e031ad7ad"


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


async def _timed_calls(settings: Settings, calls: int, *, fresh_each: bool) -> list[float]:
    samples = []
    for _ in range(calls if fresh_each else 1):
        app = build_app(settings)
        async with Client(app.server, mode="legacy") as client:
            if not fresh_each:
                await (await app.runtime.opened()).connection.wait_checked()
            for _ in range(1 if fresh_each else calls):
                start = time.perf_counter()
                await client.call_tool("get_object", {"id": OBJECT_ID})
                samples.append(time.perf_counter() - start)
    return samples


async def main(calls: int) -> None:
    down = Settings(api_token="cap-api-x", api_url=_closed_port_url(), mirror=False)
    with quiet_sandbox() as sandbox:
        up = Settings(api_token=sandbox.api_token, api_url=sandbox.base_url, mirror=False)
        working = await _timed_calls(up, calls, fresh_each=False)
        first = await _timed_calls(down, max(3, calls // 4), fresh_each=True)
        known = await _timed_calls(down, calls, fresh_each=False)
    rows = [
        ("working API (baseline)", working),
        ("unreachable, first try", first),
        ("unreachable, known", known),
    ]
    base = statistics.median(working)
    print(f"{'call':28} {'median ms':>10} {'ratio':>8}")
    for name, samples in rows:
        median = statistics.median(samples)
        print(f"{name:28} {median * 1000:10.1f} {median / base:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    logging.disable(logging.CRITICAL)  # the check's one line per server, times 20
    anyio.run(main, parser.parse_args().calls)
