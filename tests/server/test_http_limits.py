"""HTTP transport limits: sessions, idle time, header and body read time, WebSockets, token strength.

Real server processes on loopback; every wait has a generous bound and asserts what happened,
never how long it took.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx2
import pytest

from capacities_mcp.sandbox import SandboxServer

from .helpers_process import ServerProcess, http_server, run_cli, sandbox_env

HTTP_TOKEN = "limits-test-token-0123456789abcdef0123"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"},
    },
}
PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
JSON_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}
BOUND = 30.0  # seconds: far above every configured timeout, only there so a failure cannot hang


@pytest.fixture(scope="module")
def env(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return sandbox_env(sandbox, tmp_path_factory.mktemp("limits"))


@pytest.fixture(scope="module")
def small(env: dict[str, str]) -> Iterator[ServerProcess]:
    """Streamable HTTP with room for two sessions and one-second header and body timeouts."""
    args = ["--transport", "http", "--max-sessions", "2", "--header-timeout", "1", "--body-timeout", "1"]
    with http_server(env, args) as server:
        yield server


@pytest.fixture(scope="module")
def sse(env: dict[str, str]) -> Iterator[ServerProcess]:
    """SSE bound to every interface (so with a token), one stream at a time; idle settings by env."""
    extra = {"CAPACITIES_MCP_HTTP_TOKEN": HTTP_TOKEN, "CAPACITIES_MCP_MAX_SESSIONS": "1"}
    with http_server({**env, **extra}, ["--transport", "sse", "--host", "0.0.0.0"]) as server:
        server.url = server.url.replace("0.0.0.0", "127.0.0.1")
        yield server


def open_session(url: str) -> str:
    response = httpx2.post(url, content=json.dumps(INIT), headers=JSON_HEADERS, timeout=BOUND)
    assert response.status_code == 200, response.text
    return response.headers["mcp-session-id"]


def ping(url: str, session_id: str) -> int:
    headers = {**JSON_HEADERS, "Mcp-Session-Id": session_id}
    return httpx2.post(url, content=json.dumps(PING), headers=headers, timeout=BOUND).status_code


def raw_exchange(url: str, data: bytes) -> bytes:
    """Send `data` on a fresh connection and read until the server closes it (bounded)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=BOUND) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):  # socket.timeout (a failure) if the server never closes
            received += chunk
        return received


def test_a_new_session_at_the_limit_ends_the_longest_idle_one(small: ServerProcess) -> None:
    first = open_session(small.url)
    second = open_session(small.url)
    assert ping(small.url, first) == 200  # now `second` has been idle the longest
    third = open_session(small.url)  # not refused: the limit is 2
    assert ping(small.url, second) == 404  # evicted; its client would start a new session
    assert ping(small.url, first) == 200 and ping(small.url, third) == 200


def test_idle_sessions_expire(env: dict[str, str]) -> None:
    with http_server(env, ["--transport", "http", "--session-idle-timeout", "0.5"]) as server:
        session = open_session(server.url)
        deadline = time.monotonic() + BOUND
        while ping(server.url, session) == 200:  # each ping restarts the idle clock: wait between
            assert time.monotonic() < deadline, "the idle session was never closed"
            time.sleep(1.0)
        assert ping(server.url, session) == 404


def test_half_a_header_is_cut_off(small: ServerProcess) -> None:
    answer = raw_exchange(small.url, b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: app")
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_silent_connection_is_closed(small: ServerProcess) -> None:
    assert raw_exchange(small.url, b"").startswith(b"HTTP/1.1 408 ")


def test_half_a_body_gets_408(small: ServerProcess) -> None:
    head = (
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Accept: application/json, text/event-stream\r\nContent-Length: 500\r\n\r\n"
    )
    answer = raw_exchange(small.url, head + b'{"jsonrpc": "2.0", ')
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"connection: close" in answer.lower()
    assert open_session(small.url)  # and the server still serves


def test_a_websocket_upgrade_meets_the_bearer_check(sse: ServerProcess) -> None:
    upgrade = (
        b"GET /messages/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    answer = raw_exchange(sse.url, upgrade + b"")
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
    assert b"Traceback" not in answer and "Traceback" not in sse.stderr_text()


def test_a_new_sse_stream_at_the_limit_ends_the_oldest(sse: ServerProcess) -> None:
    headers = {"Authorization": f"Bearer {HTTP_TOKEN}", "Accept": "text/event-stream"}
    with httpx2.Client(timeout=BOUND, headers=headers) as http, http.stream("GET", sse.url) as first:
        lines = first.iter_lines()
        assert next(line for line in lines if line.startswith("data:"))
        with http.stream("GET", sse.url) as second:
            assert next(line for line in second.iter_lines() if line.startswith("data:"))
            rest = list(lines)  # ends: the first stream was closed by the server
            assert not any(line.startswith("event: message") for line in rest)


def test_an_idle_sse_stream_is_closed(env: dict[str, str]) -> None:
    extra = {"CAPACITIES_MCP_SESSION_IDLE_TIMEOUT": "0.5"}
    with (
        http_server({**env, **extra}, ["--transport", "sse"]) as server,
        httpx2.Client(timeout=BOUND) as http,
        http.stream("GET", server.url, headers={"Accept": "text/event-stream"}) as stream,
    ):
        lines = list(stream.iter_lines())  # ends: nothing was sent on it for half a second
        assert any(line.startswith("data:") for line in lines)  # it was a working stream
        assert not any(line.startswith("event: message") for line in lines)


async def test_the_guard_closes_websocket_scopes() -> None:
    from capacities_mcp.server._http import HttpGuard

    reached: list[str] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        reached.append(scope["type"])

    sent: list[dict[str, object]] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    async def receive():  # type: ignore[no-untyped-def]
        return {"type": "websocket.connect"}

    guard = HttpGuard(app, token=HTTP_TOKEN, check_origin=False, allowed_origins=())
    await guard({"type": "websocket", "path": "/messages/", "headers": []}, receive, send)
    await guard({"type": "lifespan"}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert reached == ["lifespan"]


@pytest.mark.parametrize("token", ["Zq7", "short-but-not-empty", "Q" * 31])
def test_a_weak_http_token_is_refused_with_advice(env: dict[str, str], token: str) -> None:
    result = run_cli(
        ["serve", "--transport", "http", "--port", "0"], {**env, "CAPACITIES_MCP_HTTP_TOKEN": token}
    )
    assert result.returncode == 2
    assert "at least 32 characters" in result.stderr
    assert "secrets.token_urlsafe(32)" in result.stderr
    assert token not in result.stderr


@pytest.mark.parametrize(
    ("args", "variable"),
    [
        (["--max-sessions", "0"], "--max-sessions"),
        (["--header-timeout", "-1"], "--header-timeout"),
        ([], "CAPACITIES_MCP_BODY_TIMEOUT"),
    ],
)
def test_limits_must_be_positive(env: dict[str, str], args: list[str], variable: str) -> None:
    result = run_cli(
        ["serve", "--transport", "http", "--port", "0", *args], {**env, "CAPACITIES_MCP_BODY_TIMEOUT": "nan"}
    )
    assert result.returncode == 2 and variable in result.stderr and "positive" in result.stderr
