"""The mirror as users run it: `capacities-mcp serve` processes pointed at a sandbox over HTTP.

The acceptance check of issue 12 (pages made through the REST API before the server starts are
found by words from their body, in another order, on a 2 s rate-limit window; text appended
through the server is found at once), kill -9 in the middle of a crawl, two servers sharing one
mirror file, a corrupt file rebuilt, and the `mirror` command.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from capacities_mcp._environment import ENV_API_URL, ENV_MIRROR_DIR
from capacities_mcp.mirror import mirror_file_name
from capacities_mcp.sandbox import SandboxServer

from ..server.helpers import running_sandbox, text_of
from ..server.helpers_process import http_server, run_cli, sandbox_env, stdio_params
from .helpers import HoldingProxy, client_for

BODIES = {
    "Harbour survey": "The pelican counted seventeen lighthouses along the northern breakwater.",
    "Kitchen plans": "A copper kettle whistles beside the marmalade jars every morning.",
    "Attic inventory": "Velvet curtains hide a dusty gramophone and three porcelain owls.",
}


def env_for(sandbox: SandboxServer, tmp_path: Path, base_url: str | None = None) -> dict[str, str]:
    env = sandbox_env(sandbox, tmp_path, **{ENV_MIRROR_DIR: str(tmp_path / "mirror")})
    if base_url is not None:
        env[ENV_API_URL] = base_url
    return env


def fetched_rows(mirror_dir: Path) -> tuple[int, int]:
    """(objects known, objects with content) in the one mirror file, read-only."""
    files = list(mirror_dir.glob("*.sqlite3"))
    if not files:
        return 0, 0
    with contextlib.closing(sqlite3.connect(f"file:{files[0]}?mode=ro", uri=True, timeout=10)) as db:
        try:
            row = db.execute("SELECT COUNT(*), COUNT(fetched_at) FROM objects WHERE trashed=0").fetchone()
        except sqlite3.OperationalError:
            return 0, 0
    return int(row[0]), int(row[1])


async def search_ids(client: Client, query: str) -> list[str]:
    result = await client.call_tool("search_objects", {"query": query})
    assert not result.is_error, text_of(result)
    return [line.rsplit("`", 2)[1] for line in text_of(result).splitlines() if line.startswith("- ")]


async def test_pages_made_before_start_are_found_by_body_words_within_90_s(tmp_path: Path) -> None:
    with running_sandbox(rate_limit_window=2.0) as sandbox:
        async with client_for(sandbox) as rest:
            made = {}
            for title, body in BODIES.items():
                created = await rest.object.markdown.create(
                    structure_id="RootPage", markdown=f"# {title}\n\n{body}"
                )
                made[title] = created.id
        async with Client(stdio_params(env_for(sandbox, tmp_path))) as client:
            queries = {
                title: " ".join(reversed(body.rstrip(".").split()[-4:])) for title, body in BODIES.items()
            }
            found: dict[str, list[str]] = {}
            with anyio.fail_after(90):
                while len(found) < len(made):
                    for title, query in queries.items():
                        if made[title] in await search_ids(client, query):
                            found[title] = queries[title].split()
                    await anyio.sleep(1.0)
            appended = await client.call_tool(
                "append_blocks",
                {"id": made["Attic inventory"], "markdown": "A brass telescope points at Orion."},
            )
            assert not appended.is_error, text_of(appended)
            assert made["Attic inventory"] in await search_ids(client, "orion telescope brass")


@pytest.fixture
def slow_sandbox() -> Iterator[SandboxServer]:
    """A crawl of ten objects a second (two thirds of 30 per 2 s): slow enough to stop half way."""
    with running_sandbox(rate_limit_window=2.0) as sb:
        yield sb


async def test_kill_9_mid_crawl_then_two_servers_finish_it_on_one_file(
    slow_sandbox: SandboxServer, tmp_path: Path
) -> None:
    """A crawler killed with -9 leaves a sound file; the next servers resume its crawl (one of them
    crawls, its lease is not held back by the dead one) and see each other's writes at once."""
    mirror_dir, sandbox = tmp_path / "mirror", slow_sandbox
    total = len(list(sandbox.state.live_objects()))
    # One API address for all (one mirror file); the 16th object read waits until the crawler is
    # dead, so it dies half way however long the test takes to see the 15 (it used to race on).
    with HoldingProxy(sandbox.base_url, allow=15) as proxy:
        env = env_for(sandbox, tmp_path, proxy.base_url)
        with http_server(env, ["--transport", "http"]) as server:
            await _kick(server.url)
            with anyio.fail_after(60):
                while fetched_rows(mirror_dir)[1] < 15:
                    await anyio.sleep(0.1)
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait()
        await anyio.to_thread.run_sync(proxy.release)  # the held read goes nowhere now
        known, before = fetched_rows(mirror_dir)
        assert 15 <= before < total == known
        with contextlib.closing(sqlite3.connect(next(mirror_dir.glob("*.sqlite3")))) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        proxy.answers.clear()
        async with Client(stdio_params(env)) as one, Client(stdio_params(env)) as two:
            await one.call_tool("get_space", {})
            await two.call_tool("get_space", {})
            with anyio.fail_after(60):
                while fetched_rows(mirror_dir)[1] < total:
                    await anyio.sleep(0.2)
            found = await search_ids(one, "luhmann slip-box")
            assert found == await search_ids(two, "slip-box luhmann") != []
            page = (await search_ids(one, "welcome"))[0]
            await one.call_tool("append_blocks", {"id": page, "markdown": "Shared flamingo memo."})
            assert page in await search_ids(two, "memo flamingo")  # written by one, found by the other
    assert len(list(mirror_dir.glob("*.sqlite3"))) == 1
    assert proxy.count("GET", "/object") <= total - before + 2  # resumed by one crawler, not redone
    assert proxy.too_many == 0


async def _kick(url: str) -> None:
    async with Client(url) as client:
        await client.call_tool("get_space", {})


def test_the_mirror_command_syncs_reports_and_clears(tmp_path: Path) -> None:
    with running_sandbox() as sandbox:
        env: dict[str, Any] = env_for(sandbox, tmp_path)
        empty = run_cli(["mirror", "status"], env)
        assert empty.returncode == 0 and "no mirror yet" in empty.stdout
        space_id = sandbox.state.space["id"]
        path = tmp_path / "mirror" / mirror_file_name(space_id, sandbox.base_url)
        path.parent.mkdir()
        path.write_bytes(b"\x00garbage" * 4096)  # a corrupt file: reported, then rebuilt
        assert "unreadable" in run_cli(["mirror", "status"], env).stdout
        synced = run_cli(["mirror", "sync"], env, timeout=120)
        assert synced.returncode == 0, synced.stderr
        assert "content index: 52 of 52 objects" in synced.stdout
        status = run_cli(["mirror", "status"], env)
    assert "52 known, 52 with content" in status.stdout
    assert sandbox.api_token not in status.stdout + status.stderr
    assert "Luhmann" not in status.stdout and "Welcome" not in status.stdout  # no content, no titles
    cleared = run_cli(["mirror", "clear"], env)
    assert cleared.returncode == 0 and "removed 1 mirror file" in cleared.stdout
    assert not list((tmp_path / "mirror").glob("*.sqlite3*"))
