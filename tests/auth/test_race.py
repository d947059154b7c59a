"""Several real processes sharing one token store, with 2 s access tokens and reuse detection.

Four real MCP server processes (`python -m capacities_mcp serve`, stdio, credentials from
`CAPACITIES_MCP_TOKEN_STORE`) are driven by MCP clients calling read tools as fast as the quotas
allow; with 2 s tokens and the client's 60 s refresh margin every API call refreshes first (the
proactive path). A fifth process, a plain `CapacitiesClient` built from
`load_stored_credentials().client_kwargs()`, uses each token until it expires or the API answers
401 (the reactive path). A refresh token that is spent twice revokes the whole grant, so the
store's cross-process lock and re-read must make every process either refresh with the current
refresh token or adopt what another one just rotated: zero invalid_grant, zero failed calls, and
the grant still alive at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx2
import pytest
from mcp import Client, StdioServerParameters

from capacities_mcp.api import CapacitiesClient
from capacities_mcp.auth import TokenStore, _login, load_stored_credentials
from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from .helpers import FakeBrowser

WORKER = Path(__file__).with_name("_race_worker.py")
DURATION = float(os.environ.get("RACE_SECONDS", "25"))  # RACE_SECONDS=600 for a long soak
SERVERS = 4
CALLERS_PER_SERVER = 3


def grant_rotations(sb: SandboxServer) -> int:
    """How many refresh tokens the sandbox issued (one per refresh, plus the first)."""
    return len(sb.state.oauth["refresh"])


def grants(sb: SandboxServer) -> list[dict[str, Any]]:
    return list(sb.state.oauth["grants"].values())


async def drive_server(store_path: Path, report: dict[str, Any], deadline: float) -> None:
    """One server process, several concurrent tool calls until the deadline."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "capacities_mcp", "serve"],
        env={"CAPACITIES_MCP_TOKEN_STORE": str(store_path)},
    )
    async with Client(params, read_timeout_seconds=90.0) as client:
        found = await client.call_tool("search_objects", {"query": "a", "limit": 5})
        assert not found.is_error, found.content
        object_id = found.structured_content["results"][0]["id"] if found.structured_content else None
        calls: list[tuple[str, dict[str, Any]]] = [
            ("search_objects", {"query": "a", "limit": 5}),
            ("get_space", {"refresh": True}),
            ("search_objects", {"query": "note", "limit": 5}),
        ]
        if object_id is not None:
            calls.append(("get_object", {"id": object_id}))

        async def caller(offset: int) -> None:
            i = offset
            while time.monotonic() < deadline:
                name, arguments = calls[i % len(calls)]
                result = await client.call_tool(name, arguments)
                if result.is_error:
                    text = " ".join(getattr(c, "text", "") for c in result.content)
                    report["failures"].append(f"{name}: {text[:300]}")
                else:
                    report["ok"] += 1
                i += 1

        async with anyio.create_task_group() as tg:
            for n in range(CALLERS_PER_SERVER):
                tg.start_soon(caller, n)


@pytest.mark.slow
@pytest.mark.timeout(DURATION + 120)
async def test_server_processes_sharing_one_store_never_spend_a_rotated_refresh_token(
    store_path: Path,
) -> None:
    config = SandboxConfig(
        port=0,
        auto_approve=True,
        reuse_detection=True,
        access_token_lifetime=2.0,
        rate_limit_window=1.0,
    )
    with SandboxServer(config) as sb:
        await _login.oauth_login(
            TokenStore(store_path),
            base_url=sb.base_url,
            client_id="capacities-mcp",
            browser=FakeBrowser(),
            say=lambda line: None,
        )
        rotations_before = grant_rotations(sb)

        env = {**os.environ, "CAPACITIES_MCP_TOKEN_STORE": str(store_path)}
        env.pop("CAPACITIES_API_TOKEN", None)
        reactive = subprocess.Popen(
            [sys.executable, str(WORKER), str(DURATION), "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            deadline = time.monotonic() + DURATION
            reports: list[dict[str, Any]] = [{"ok": 0, "failures": []} for _ in range(SERVERS)]
            async with anyio.create_task_group() as tg:
                for report in reports:
                    tg.start_soon(drive_server, store_path, report, deadline)
            out, err = await anyio.to_thread.run_sync(lambda: reactive.communicate(timeout=DURATION + 60))
        finally:
            if reactive.poll() is None:
                reactive.kill()
                reactive.communicate()
        assert reactive.returncode == 0, err[-2000:]
        client_report = json.loads(out.strip().splitlines()[-1])
        rotations = grant_rotations(sb) - rotations_before
        print("server reports:", [(r["ok"], len(r["failures"])) for r in reports])
        print("client report:", client_report, "rotations:", rotations)

        failures = [f for r in reports for f in r["failures"]] + client_report["failures"]
        assert not failures, failures[:10]
        assert client_report["failed"] == 0
        assert all(r["ok"] > 50 for r in reports), reports
        # About one trip through the shared lock per token lifetime (2 s), mostly adopting.
        assert client_report["ok"] > 50, client_report
        assert client_report["lock_entries"] > DURATION / 5, client_report
        # Tokens rotated hundreds of times; each rotation killed the previous refresh token.
        assert rotations > 5 * DURATION, rotations
        assert [g["revoked"] for g in grants(sb)] == [False]

        # The grant survived: the stored tokens work, and so does the stored refresh token.
        stored = load_stored_credentials()
        assert stored is not None
        async with CapacitiesClient(**stored.client_kwargs()) as client:
            assert (await client.space.get()).title
        latest = load_stored_credentials()
        assert latest is not None and latest.tokens is not None
        async with httpx2.AsyncClient() as http:
            response = await http.post(
                sb.base_url + "/oauth/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": latest.tokens.refresh_token,
                    "client_id": "capacities-mcp",
                },
            )
        assert response.status_code == 200, response.text
