"""A real `redis-server` for a test: its own process on a free loopback port, in a temporary dir.

No skip when the binary is missing: the remote tests are part of CI, and `.ci/run` installs
Debian's `redis-server` package first, so a missing binary fails with the fix in the message.

    with running_redis() as redis:
        state = RedisState.from_url(redis.url)
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio

from capacities_mcp.remote._state_redis import RedisState

__all__ = ["RedisServer", "patient_state", "running_redis"]

_START_ATTEMPTS = 3  # a free port can be taken between our probe and redis-server's bind
_READY_SECONDS = 15.0
# redis-py gives a connect, and an answer, 5 s by default: fifty racers opening their connections
# at once on a loaded machine took longer. The tests are about what the State does, not about
# how long a busy machine may keep Redis waiting.
_PATIENT = {"socket_connect_timeout": 60.0, "socket_timeout": 60.0}


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]
    directory: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        """Gone at once, as a crashed Redis would be (for tests of what callers see then)."""
        self.process.kill()
        self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _start(binary: str, directory: Path) -> RedisServer | None:
    """One attempt: the server answering PING, or None when it exited (its port was taken)."""
    port = _free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--dir", str(directory), "--logfile", str(directory / "redis.log")]
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    give_up = time.monotonic() + _READY_SECONDS
    while time.monotonic() < give_up:
        if process.poll() is not None:
            return None
        if _answers_ping(port):
            return RedisServer(port, process, directory)
        time.sleep(0.02)
    process.kill()
    process.wait(timeout=10)
    pytest.fail(f"redis-server did not answer PING within {_READY_SECONDS:.0f} s (see {directory}/redis.log)")


def patient_state(url: str, prefix: str) -> RedisState:
    """`RedisState.from_url`, with connections that wait out a loaded machine."""
    return RedisState(redis.asyncio.Redis.from_url(url, **_PATIENT), prefix)


@contextmanager
def running_redis() -> Iterator[RedisServer]:
    """A fresh, empty Redis (no persistence) for the duration of the block; stopped after."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed; the remote tests need a real one. "
            "Install Debian's package (apt-get install -y redis-server), as .ci/run does."
        )
    with tempfile.TemporaryDirectory(prefix="capacities-redis-") as tmp:
        server = None
        for _ in range(_START_ATTEMPTS):
            server = _start(binary, Path(tmp))
            if server is not None:
                break
        if server is None:
            log = Path(tmp, "redis.log")
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(f"redis-server would not start:\n{tail}")
        try:
            yield server
        finally:
            if server.process.poll() is None:
                server.process.terminate()
                try:
                    server.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
