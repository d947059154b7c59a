"""Shared helpers for the server application tests (no tests here).

Servers under test run the way hosts run them: `python -m capacities_mcp serve ...` in a
subprocess, pointed at a sandbox over HTTP through the environment. Every subprocess gets an
empty token-store path, so credentials a developer stored with `auth login` never leak in.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mcp import StdioServerParameters

from capacities_mcp.sandbox import SandboxServer

REPO_ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"serving MCP \((?:streamable HTTP|SSE)\) at (http://\S+)")


def base_env(tmp_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a server subprocess: no stored credentials, our package importable."""
    env = {
        "CAPACITIES_MCP_TOKEN_STORE": str(tmp_dir / "no-credentials.json"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p),
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra or {})
    return env


def sandbox_env(sandbox: SandboxServer, tmp_dir: Path, **extra: str) -> dict[str, str]:
    return base_env(
        tmp_dir,
        {"CAPACITIES_API_URL": sandbox.base_url, "CAPACITIES_API_TOKEN": sandbox.api_token, **extra},
    )


def stdio_params(env: Mapping[str, str], *args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "capacities_mcp", "serve", *args], env=dict(env)
    )


def full_env(env: Mapping[str, str]) -> dict[str, str]:
    """For plain subprocesses: the current environment minus Capacities settings, plus `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAPACITIES_")}
    base.update(env)
    return base


@dataclass
class ServerProcess:
    """An HTTP/SSE server subprocess and what it said on stderr."""

    process: subprocess.Popen[str]
    url: str
    stderr_lines: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return self.url.rsplit("/", 1)[0]

    def stderr_text(self) -> str:
        return "".join(self.stderr_lines)


def _pump(stream: object, lines: list[str], found: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.append(line)
        match = URL_LINE.search(line)
        if match:
            found.put(match.group(1))


@contextmanager
def http_server(
    env: Mapping[str, str], args: Sequence[str], timeout: float = 20.0
) -> Iterator[ServerProcess]:
    """`capacities-mcp serve --port 0 <args>`; yields once it says where it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "capacities_mcp", "serve", "--port", "0", *args],
        env=full_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    found: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stderr, lines, found), daemon=True).start()
    deadline = time.monotonic() + timeout
    url = None
    try:
        while url is None:
            try:
                url = found.get(timeout=0.05)
            except queue.Empty:
                if process.poll() is not None or time.monotonic() > deadline:
                    time.sleep(0.1)
                    raise RuntimeError(
                        f"server did not start (exit {process.poll()}):\n{''.join(lines)}"
                    ) from None
        yield ServerProcess(process, url, lines)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_cli(
    args: Sequence[str], env: Mapping[str, str], timeout: float = 30.0, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "capacities_mcp", *args],
        env=full_env(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
