"""Many users on three multi-user replicas: isolation, quotas and latency, and a replica killed.

A sandbox with one account per user; three `serve --multi-user` processes sharing one
redis-server; a round-robin proxy in front (the load balancer). Every user signs in through the
real OAuth flow (the SDK's client-side OAuth, our consent page, the sandbox's consent page),
then makes its calls, all users at once (at most 10 calls in flight: this one process also
plays the sandbox, the proxy and 50 clients, and must not be the bottleneck it measures):

0. a warm-up round over the three replicas (each user's client and caches built everywhere);
1. one replica (the proxy sends everything to replica 1): the latency baseline;
2. three replicas, round robin: errors, cross-user reads (a result naming another user's
   notes or space), upstream calls per user and route against the route's quota, p95 latency
   as a ratio to the one-replica run;
3. three replicas, one killed (SIGKILL) a third of the way through a run of writes; a call that
   fails is sent again (at most 3 times): lost writes (a title missing) and doubled writes (a
   title twice) are counted in each user's space.

Per user and run: calls cycle create_object / search_objects / get_space / list_objects.

    python bench/remote_users.py [--users 50] [--calls 20]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from capacities_mcp.api import ROUTES
from capacities_mcp.sandbox import SandboxConfig, SandboxServer
from tests.remote.helpers_oauth import Browser, serving, signed_in, text_of
from tests.remote.helpers_redis import running_redis
from tests.remote.helpers_replicas import RoundRobinProxy, free_socket, kill, replica_processes

QUOTA = {f"{route.method} {route.path}": route.rate_limit for route in ROUTES}


class CountingApp:
    """Wraps the sandbox app: upstream requests per (token, route), and 429s."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: Counter[tuple[str, str]] = Counter()
        self.too_many = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(("/space", "/object", "/blocks")):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        token = hashlib.sha256(headers.get(b"authorization", b"")).hexdigest()[:12]
        self.calls[(token, f"{scope['method']} {scope['path']}")] += 1

        async def counting_send(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 429:
                self.too_many += 1
            await send(message)

        await self.app(scope, receive, counting_send)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000


async def _call(client: Any, name: str, args: dict[str, Any], retries: int) -> tuple[Any, float]:
    start = time.perf_counter()
    for attempt in range(retries + 1):
        try:
            result = await client.call_tool(name, args)
        except Exception:
            if attempt == retries:
                return None, time.perf_counter() - start
            continue
        if not result.is_error or attempt == retries:
            return result, time.perf_counter() - start
    return None, time.perf_counter() - start


IN_FLIGHT = anyio.Semaphore(10)  # calls in flight at once, all users together


async def user_run(
    user: str, client: Any, calls: int, tag: str, out: dict[str, Any], retries: int = 0
) -> None:
    for k in range(calls):
        step = k % 4
        if step == 0:
            name, args = "create_object", {"structure": "Page", "title": f"{user} {tag} {k}"}
        elif step == 1:
            name, args = "search_objects", {"query": user}
        elif step == 2:
            name, args = "get_space", {}
        else:
            name, args = "list_objects", {"structure": "Page"}
        async with IN_FLIGHT:
            result, seconds = await _call(client, name, args, retries)
        out["latency"].append(seconds)
        out["done"] += 1
        if result is None or result.is_error:
            out["errors"] += 1
            continue
        text = text_of(result)
        foreign = [
            other for other in out["users"] if other != user and (f"{other} " in text or f"{other}'s" in text)
        ]
        out["cross"] += bool(foreign)


class Phase:
    """One run of every user's calls; users start together and the phase ends with the last."""

    def __init__(self, tag: str, users: list[str], retries: int = 0) -> None:
        self.tag, self.retries = tag, retries
        self.start, self.finished = anyio.Event(), anyio.Event()
        self.pending = len(users)
        self.out: dict[str, Any] = {"latency": [], "errors": 0, "cross": 0, "done": 0, "users": users}


async def user_task(
    user: str, url: str, calls: int, gate: anyio.Semaphore, signed: list[str], phases: list[Phase]
) -> None:
    """Sign in (a few at a time), then take part in every phase; the client lives in this task."""
    browser = Browser(user)
    async with gate:
        context = signed_in(url, browser, timeout=300)
        client, _, _ = await context.__aenter__()
    signed.append(user)
    try:
        for phase in phases:
            await phase.start.wait()
            await user_run(user, client, calls, phase.tag, phase.out, phase.retries)
            phase.pending -= 1
            if phase.pending == 0:
                phase.finished.set()
    finally:
        await context.__aexit__(None, None, None)
        await browser.aclose()


async def main(users: int, calls: int) -> None:
    names = [f"u{i:02d}" for i in range(users)]
    config = SandboxConfig(accounts=tuple(names), seed=False, rate_limit_window=60.0)
    sandbox = SandboxServer(config)
    counting = CountingApp(sandbox.app)
    sandbox.app = counting  # type: ignore[assignment]
    with free_socket() as probe:
        port = probe.getsockname()[1]  # the proxy's: the replicas' public URL
    public = f"http://127.0.0.1:{port}"
    with (
        sandbox,
        tempfile.TemporaryDirectory() as tmp,
        running_redis() as redis,
        replica_processes(sandbox, redis.url, public, Path(tmp)) as replicas,
    ):
        balancer = RoundRobinProxy([replicas[0].origin])
        async with serving(balancer, free_socket(port)) as origin:
            await _phases(sandbox, counting, balancer, replicas, f"{origin}/mcp", names, calls)


async def _phases(
    sandbox: SandboxServer,
    counting: CountingApp,
    balancer: RoundRobinProxy,
    replicas: list[Any],
    url: str,
    names: list[str],
    calls: int,
) -> None:
    warm, one, three = Phase("warm", names), Phase("one", names), Phase("three", names)
    killed = Phase("kill", names, retries=3)
    signed: list[str] = []
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        gate = anyio.Semaphore(5)
        for user in names:
            tg.start_soon(user_task, user, url, calls, gate, signed, [warm, one, three, killed])
        while len(signed) < len(names):
            await anyio.sleep(0.05)
        print(f"{len(names)} users signed in in {time.perf_counter() - started:.1f} s", flush=True)
        all_replicas = [r.origin for r in replicas]
        balancer.upstreams = all_replicas
        warm.start.set()  # every user's client and caches built on every replica: no cold starts below
        await warm.finished.wait()
        balancer.upstreams = [replicas[0].origin]
        one.start.set()
        await one.finished.wait()
        balancer.upstreams = all_replicas
        balancer.served.clear()
        counting.calls.clear()
        three.start.set()
        await three.finished.wait()
        spread = dict(balancer.served)
        per_route = max(counting.calls.values())
        share = max(count / QUOTA.get(route, 10**9) for (_, route), count in counting.calls.items())
        killed.start.set()
        while killed.out["done"] < len(names) * calls // 3:
            await anyio.sleep(0.01)
        await anyio.to_thread.run_sync(kill, replicas[1])
        await killed.finished.wait()
    lost = doubled = 0
    for user in names:
        space = sandbox.space_of(user)
        titles = Counter(space.title_of(obj) for obj in space.live_objects())
        for k in range(0, calls, 4):
            lost += titles[f"{user} kill {k}"] == 0
            doubled += titles[f"{user} kill {k}"] > 1
    runs = {"one replica": one.out, "three replicas": three.out, "three, one killed": killed.out}
    print_results(names, calls, runs, spread, per_route, share, counting, lost, doubled, balancer)


def print_results(
    names: list[str],
    calls: int,
    runs: dict[str, dict[str, Any]],
    spread: dict[str, int],
    per_route: int,
    share: float,
    counting: CountingApp,
    lost: int,
    doubled: int,
    balancer: RoundRobinProxy,
) -> None:
    print(f"\n{len(names)} users x {calls} calls, all users at once")
    print("| run | calls | errors | cross-user reads | p95 ms | p95 vs one replica |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    base = p95(runs["one replica"]["latency"])
    for label, run in runs.items():
        late = p95(run["latency"])
        print(
            f"| {label} | {run['done']} | {run['errors']} | {run['cross']} | {late:.0f} | {late / base:.2f} |"
        )
    print(f"\nrequests per replica (three-replica run): {sorted(spread.values())}")
    print(f"upstream, three-replica run: most calls of one token on one route {per_route}, ", end="")
    print(f"highest share of a route's per-minute quota {share:.2f}, 429 answers {counting.too_many}")
    print(f"kill run: lost writes {lost}, doubled writes {doubled}, ", end="")
    print(f"answers lost after sending {balancer.failed_after_sending}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--calls", type=int, default=20)
    options = parser.parse_args()
    anyio.run(main, options.users, options.calls)
