"""A stdio server driven by raw lines (no tests here).

`mcp.Client` only sends what it considers valid; hostile and malformed input has to be written
to the server's stdin by hand. Replies are read by a thread as they come, so a test may pipeline
thousands of requests without the server blocking on a full stdout pipe.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO, Any

from .helpers_process import full_env

HANDSHAKE_VERSION = "2025-11-25"


class RawStdio:
    """One `capacities-mcp serve` process: write lines, collect every stdout line as JSON."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        self.process = process
        self._stdin = process.stdin
        self.replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stderr_lines: list[str] = []
        self.garbage: list[bytes] = []  # stdout lines that are not JSON-RPC messages
        threading.Thread(target=self._read_stdout, args=(process.stdout,), daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(process.stderr,), daemon=True).start()

    def _read_stdout(self, stdout: IO[bytes]) -> None:
        for raw in stdout:
            # Strict UTF-8 and strict JSON: anything else on stdout is a protocol error of ours.
            try:
                message = json.loads(raw.decode("utf-8"))
            except ValueError:
                self.garbage.append(raw)
                continue
            if isinstance(message, dict) and message.get("jsonrpc") == "2.0":
                self.replies.put(message)
            else:
                self.garbage.append(raw)

    def _read_stderr(self, stderr: IO[bytes]) -> None:
        for raw in stderr:
            self.stderr_lines.append(raw.decode("utf-8", "replace"))

    def send(self, line: str | bytes) -> None:
        data = line.encode("utf-8") if isinstance(line, str) else line
        self._stdin.write(data + b"\n")
        self._stdin.flush()

    def send_message(self, message: Any) -> None:
        self.send(json.dumps(message))

    def next_reply(self, timeout: float = 20.0) -> dict[str, Any]:
        try:
            return self.replies.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no reply within {timeout} s; stderr:\n{self.stderr_text()}") from None

    def replies_through(self, request_id: object, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Every reply up to and including the one to `request_id`, in arrival order."""
        deadline = time.monotonic() + timeout
        received: list[dict[str, Any]] = []
        while not received or received[-1].get("id") != request_id:
            received.append(self.next_reply(max(0.0, deadline - time.monotonic())))
        return received

    def request(
        self, request_id: object, method: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send_message(message)
        return self.replies_through(request_id)[-1]

    def handshake(self) -> None:
        """The legacy `initialize` exchange, so later requests need no per-request envelope."""
        params = {
            "protocolVersion": HANDSHAKE_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "raw-stdio", "version": "0"},
        }
        reply = self.request("init", "initialize", params)
        assert reply["result"]["protocolVersion"] == HANDSHAKE_VERSION, reply
        self.send_message({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def stderr_text(self) -> str:
        return "".join(self.stderr_lines)


@contextmanager
def raw_stdio_server(env: Mapping[str, str], *args: str) -> Iterator[RawStdio]:
    """`capacities-mcp serve <args>` on pipes; closed (stdin EOF) and reaped on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "capacities_mcp", "serve", *args],
        env=full_env(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield RawStdio(process)
    finally:
        try:
            process.stdin.close()  # type: ignore[union-attr]
            process.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
