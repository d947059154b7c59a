"""One process of the multi-process refresh race: reads as fast as the quotas allow.

Builds its client exactly as the MCP server does (`load_stored_credentials().client_kwargs()`),
runs a few concurrent readers for `duration` seconds and prints one JSON line: requests that
worked, failures (type and message, never a token), token refreshes it sent, times it went
through the shared lock (a refresh, or adopting tokens another process rotated) and 401s seen.

`proactive` (seconds) overrides how early the client refreshes before expiry: with the default
60 s and 2 s tokens every request refreshes first (the proactive path); with a small value tokens
are used until the API answers 401 (the reactive path).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

import anyio
import httpx2

import capacities_mcp.api._auth as auth_module
from capacities_mcp.api import CapacitiesClient, OAuthCredential
from capacities_mcp.auth import load_stored_credentials


async def main(duration: float, proactive: float | None, readers: int) -> None:
    if proactive is not None:
        auth_module.PROACTIVE_REFRESH_SECONDS = proactive
    stored = load_stored_credentials()
    assert stored is not None, "nothing stored"
    ok = 0
    failures: list[str] = []
    deadline = time.monotonic() + duration
    kwargs = stored.client_kwargs()
    credential: OAuthCredential = kwargs["oauth"]
    shared_lock = credential.refresh_lock
    assert shared_lock is not None
    lock_entries = 0

    def counting_lock() -> AbstractAsyncContextManager[object]:
        nonlocal lock_entries
        lock_entries += 1
        return shared_lock()

    credential.refresh_lock = counting_lock
    if os.environ.get("RACE_WORKER_UNSAFE"):  # negative control: no lock, no re-read
        credential.refresh_lock = None
        credential.load_tokens = None
    unauthorized = 0

    async def count_401(response: httpx2.Response) -> None:
        nonlocal unauthorized
        if response.status_code == 401:
            unauthorized += 1

    async with CapacitiesClient(**kwargs, max_rate_limit_wait=60.0) as client:
        client._transport.http.event_hooks["response"].append(count_401)
        calls: list[Callable[[], Awaitable[object]]] = [
            client.space.get,
            client.space.structures,
            lambda: client.objects.search(query="a", limit=5),
            lambda: client.objects.search(query="note", limit=5),
        ]

        async def reader(offset: int) -> None:
            nonlocal ok
            i = offset
            while time.monotonic() < deadline:
                try:
                    await calls[i % len(calls)]()
                except Exception as exc:  # every failure counts, whatever it is
                    failures.append(f"{type(exc).__name__}: {exc}")
                else:
                    ok += 1
                i += 1

        async with anyio.create_task_group() as tg:
            for n in range(readers):
                tg.start_soon(reader, n)
        manager = client.oauth_manager
        refreshes = manager.refresh_count if manager is not None else 0
    print(
        json.dumps(
            {
                "ok": ok,
                "failed": len(failures),
                "failures": failures[:10],
                "refreshes": refreshes,
                "lock_entries": lock_entries,
                "unauthorized": unauthorized,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    proactive_arg = sys.argv[2] if len(sys.argv) > 2 else "default"
    anyio.run(
        main,
        float(sys.argv[1]),
        None if proactive_arg == "default" else float(proactive_arg),
        int(sys.argv[3]) if len(sys.argv) > 3 else 3,
    )
