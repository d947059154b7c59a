"""Session floods and half-sent requests against `capacities-mcp serve --transport http` (issue 10 §4).

Two server processes in the same run, against one sandbox:

- `baseline`: the MCP SDK's own limits (10,000 sessions, 30 min idle timeout) and no header
  deadline (`--header-timeout 3600`), i.e. what the server did before these limits;
- `ours`: the defaults (100 sessions, evicting the longest-idle; 10 min idle; 10 s headers),
  except a 2 s header timeout so the bench does not wait 10 s.

Each gets `--sessions` initialize requests in a row from one keep-alive client (as a hostile
local process would send them), then one more "legitimate" client, then `--half` connections
that send half a header. Reported: resident memory growth (VmRSS) over the flood, the answers by
status, whether the last client got in, and how many half-header connections are still open a
little after the header timeout.

    python bench/http_sessions.py [--sessions 1500] [--half 200]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
from _common import quiet_sandbox

from capacities_mcp._environment import ENV_API_TOKEN, ENV_API_URL, ENV_TOKEN_STORE

INIT = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "b", "version": "0"},
        },
    }
)
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
URL_LINE = re.compile(r"serving MCP \(streamable HTTP\) at (http://\S+)")
VARIANTS = {
    "baseline": ["--max-sessions", "10000", "--session-idle-timeout", "1800", "--header-timeout", "3600"],
    "ours": ["--header-timeout", "2"],
}


def start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "capacities_mcp", "serve", "--transport", "http", "--port", "0", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        match = URL_LINE.search(line)
        if match:
            # keep reading stderr, or a full pipe would block the server's logging
            threading.Thread(target=collections.deque, args=(process.stderr, 0), daemon=True).start()
            return process, match.group(1)
    raise RuntimeError(f"server did not start (exit {process.wait()})")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def flood(url: str, count: int) -> collections.Counter[int]:
    statuses: collections.Counter[int] = collections.Counter()
    with httpx2.Client(headers=HEADERS, timeout=30) as http:
        for _ in range(count):
            statuses[http.post(url, content=INIT).status_code] += 1
    return statuses


def half_headers_still_open(url: str, count: int, wait: float) -> int:
    parts = urlsplit(url)
    sockets = [socket.create_connection((parts.hostname, parts.port), timeout=5) for _ in range(count)]
    for sock in sockets:
        sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
    time.sleep(wait)
    still_open = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            while sock.recv(65536):  # a 408 may come before the close
                pass
        except BlockingIOError:  # no end of stream: still open
            still_open += 1
        except OSError:  # reset: closed
            pass
        sock.close()
    return still_open


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1500)
    parser.add_argument("--half", type=int, default=200)
    options = parser.parse_args()
    with quiet_sandbox() as sandbox:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CAPACITIES_")},
            ENV_API_URL: sandbox.base_url,
            ENV_API_TOKEN: sandbox.api_token,
            ENV_TOKEN_STORE: "/nonexistent/capacities-mcp-bench.json",
        }
        print(f"{options.sessions} sessions, then 1 more client; {options.half} half-header connections")
        print("| variant | RSS before -> after (MiB) | growth | answers | last client | half headers open |")
        print("| --- | ---: | ---: | --- | --- | ---: |")
        for name, args in VARIANTS.items():
            process, url = start(args, env)
            try:
                before = rss_kib(process.pid)
                statuses = flood(url, options.sessions)
                after = rss_kib(process.pid)
                last = httpx2.post(url, content=INIT, headers=HEADERS, timeout=30).status_code
                still_open = half_headers_still_open(url, options.half, wait=4.0)
            finally:
                process.terminate()
                process.wait(timeout=15)
            answers = ", ".join(f"{count}x{status}" for status, count in sorted(statuses.items()))
            print(
                f"| {name} | {before / 1024:.0f} -> {after / 1024:.0f} | {(after - before) / 1024:+.0f} | "
                f"{answers} | {last} | {still_open}/{options.half} |"
            )


if __name__ == "__main__":
    main()
