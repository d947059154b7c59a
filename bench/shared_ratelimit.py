"""What does sharing rate limits across replicas cost per API call?

Each API call does the limiter's bookkeeping twice: take one from the quota before sending, and
record the answer's `RateLimit` after. Measured here for the single-user `RateLimiter` (in
process), and for `SharedRateLimiter` on the remote mode's State: `MemoryState` (the embedded
store) and `RedisState` (a real redis-server on loopback, started here unless `--redis-url`).
Baseline, in the same run: one `client.object.get` of a typical object from the sandbox over
loopback HTTP, the cheapest real call there is. Reported as the bookkeeping's share of it.

    python bench/shared_ratelimit.py [--repeats 500] [--redis-url redis://...]
"""

from __future__ import annotations

import argparse
import math
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import anyio
from _common import median_ms, quiet_sandbox, time_async

from capacities_mcp.api import CapacitiesClient, RateLimiter, RateLimitState, SharedRateLimiter
from capacities_mcp.remote import MemoryState, StateQuotaStore
from capacities_mcp.remote._state_redis import RedisState

KEY = "GET /object"
PLENTY = RateLimitState(limit=10**9, remaining=10**9, reset=60)  # never waits


@contextmanager
def redis_server(url: str | None) -> Iterator[str]:
    """The given URL, or a throw-away redis-server on a free loopback port."""
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found: apt-get install redis-server, or pass --redis-url")
    with socket.socket() as probe, tempfile.TemporaryDirectory() as tmp:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen([*args, "--dir", tmp], stdout=subprocess.DEVNULL)
        try:
            for _ in range(500):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                        conn.sendall(b"PING\r\n")
                        if conn.recv(16).startswith(b"+PONG"):
                            break
                except OSError:
                    time.sleep(0.01)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def local_bookkeeping() -> Callable[[], Awaitable[object]]:
    limiter = RateLimiter()

    async def call() -> None:
        await limiter.acquire(KEY, math.inf)
        limiter.update(KEY, PLENTY, limiter.ticket(KEY))  # as the client does: a ticket per request

    return call


def shared_bookkeeping(limiter: SharedRateLimiter) -> Callable[[], Awaitable[object]]:
    async def call() -> None:
        await limiter.acquire(KEY, math.inf)
        await limiter.update(KEY, PLENTY)

    return call


async def measure(repeats: int, redis_url: str) -> tuple[float, list[tuple[str, float]]]:
    redis_state = RedisState.from_url(redis_url, prefix="bench")
    memory_limiter = SharedRateLimiter(StateQuotaStore(MemoryState(), "tok"))
    redis_limiter = SharedRateLimiter(StateQuotaStore(redis_state, "tok"))
    variants = {
        "RateLimiter (single-user, in process)": local_bookkeeping(),
        "shared, MemoryState": shared_bookkeeping(memory_limiter),
        "shared, RedisState (loopback)": shared_bookkeeping(redis_limiter),
    }
    with quiet_sandbox() as sandbox:
        async with CapacitiesClient(api_token=sandbox.api_token, base_url=sandbox.base_url) as client:
            listing = await client.objects.structure("RootPage", page_size=100)
            object_id = listing.results[len(listing.results) // 2].id
            call = median_ms(await time_async(lambda: client.object.get(object_id), repeats))
    rows = [(label, median_ms(await time_async(run, repeats))) for label, run in variants.items()]
    await redis_state.aclose()
    return call, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=500)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    with redis_server(args.redis_url) as url:
        call, rows = anyio.run(measure, args.repeats, url)
    print(f"baseline: client.object.get over loopback HTTP, median {call:.3f} ms")
    print(f"{'bookkeeping per call (take + record)':40} {'ms':>8} {'share of the call':>18}")
    for label, ms in rows:
        print(f"{label:40} {ms:8.3f} {ms / call:17.1%}")


if __name__ == "__main__":
    main()
