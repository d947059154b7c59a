"""Helpers for the mirror tests (no tests here): a counting proxy, clients, records, servers."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio

from capacities_mcp.api import CapacitiesClient, Route
from capacities_mcp.mirror import Mirror, MirrorOptions, Record
from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server._app import App, build_app
from capacities_mcp.server._settings import Settings

from ..helpers_faulty_proxy import FaultyProxy, ProxiedRequest, _Answer


class CountingProxy(FaultyProxy):
    """Forwards everything and writes down each answer's status: (method, path, status)."""

    def __init__(self, upstream_url: str) -> None:
        super().__init__(upstream_url, breaks=lambda method, path: False)
        self.answers: list[tuple[str, str, int]] = []

    def _forward(self, request: ProxiedRequest) -> _Answer:
        answer = super()._forward(request)
        self.answers.append((request.method, request.path, answer.status))
        return answer

    def count(self, method: str, path: str, status: int | None = None) -> int:
        return sum(1 for m, p, s in self.answers if m == method and p == path and status in (None, s))

    @property
    def too_many(self) -> int:
        return sum(1 for _, _, s in self.answers if s == 429)


class HoldingProxy(CountingProxy):
    """A `CountingProxy` that forwards the first `allow` object reads, then holds every further
    one until `release()`: a crawl stops at a known point, however fast or slow the machine."""

    def __init__(self, upstream_url: str, allow: int) -> None:
        super().__init__(upstream_url)
        self.allow = allow
        self._reads = 0
        self._open = threading.Event()

    def _forward(self, request: ProxiedRequest) -> _Answer:
        if request.method == "GET" and request.path == "/object":
            with self._lock:
                self._reads += 1
                held = self._reads > self.allow
            if held:
                self._open.wait(120)
        return super()._forward(request)

    def release(self) -> None:
        """Forward what is held and everything after it; returns once nothing is in flight."""
        self._open.set()
        with self._lock:
            assert self._lock.wait_for(lambda: self._in_flight == 0, timeout=30), "proxy stuck"


def client_for(sandbox: SandboxServer, base_url: str | None = None, **options: Any) -> CapacitiesClient:
    settings = {"max_retries": 1, "timeout": 10.0, **options}
    return CapacitiesClient(api_token=sandbox.api_token, base_url=base_url or sandbox.base_url, **settings)


@asynccontextmanager
async def mirrored(
    sandbox: SandboxServer, location: str | Path = ":memory:", base_url: str | None = None, **options: Any
) -> AsyncIterator[Mirror]:
    """A mirror on its own client (opened, not crawling: tests call `sync_once`)."""
    async with client_for(sandbox, base_url) as client:
        mirror = Mirror(client, MirrorOptions(location=location, **options))
        try:
            await mirror.open()
            yield mirror
        finally:
            await mirror.close()


def record(object_id: str, title: str, *texts: str, structure: str = "RootPage") -> Record:
    blocks = [(f"{object_id}-b{n}", text) for n, text in enumerate(texts)]
    return Record(id=object_id, structure_id=structure, title=title, keys={}, blocks=blocks)


def app_on(sandbox: SandboxServer, mirror_dir: Path, **settings: Any) -> App:
    """The real server (build_app) on `sandbox`, its mirror files in `mirror_dir`."""
    where = {"api_token": sandbox.api_token, "api_url": sandbox.base_url, "mirror_dir": str(mirror_dir)}
    return build_app(Settings(**where, **settings))


async def sync_until(mirror: Mirror, route_name: str, calls: int) -> None:
    """Crawl, and stop the crawl as `calls` requests of `route_name` have been answered (as a
    process killed mid-crawl would)."""
    seen = 0

    async def stop_after(route: Route, *_: Any) -> None:
        nonlocal seen
        seen += route.name == route_name
        if seen >= calls:
            scope.cancel()

    mirror.client.add_observer(stop_after)
    with anyio.CancelScope() as scope:
        await mirror.sync_once()
