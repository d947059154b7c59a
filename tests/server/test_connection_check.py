"""Misconfiguration shows at once (issue 11 item 8): the start-up check, its one log line, the
notice in tool results, the instructions, and the write tools withdrawn with tools/list_changed.

Through a real MCP client (both eras) against the sandbox over HTTP, and once as a real
`capacities-mcp` process over stdio.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import ToolListChangedNotification

from capacities_mcp._environment import ENV_API_TOKEN, ENV_API_URL
from capacities_mcp.api import OAuthTokens
from capacities_mcp.auth import StoredCredentials, TokenStore
from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server._app import App, build_app
from capacities_mcp.server._settings import Settings
from capacities_mcp.server.tools import READ_ONLY_TOOLS

from .helpers import MODES, TASK_ID, error_of, everything, running_sandbox, text_of
from .helpers_process import base_env
from .helpers_stdio import raw_stdio_server

BOGUS = "cap-api-bogus-token-for-the-check"
SERVER_LOG = "capacities_mcp.server"
NOTICE = "Capacities connection problem"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _app(token: str, url: str) -> App:
    return build_app(Settings(api_token=token, api_url=url, mirror=False))


def _check_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The check's lines: the server logger's, bar the per-tool loggers below it."""
    return [r for r in caplog.records if r.name == SERVER_LOG]


@pytest.fixture
def quiet_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO, logger=SERVER_LOG)
    yield caplog


@pytest.mark.parametrize("mode", MODES)
async def test_good_token_logs_the_space_and_adds_no_notice(
    sandbox: SandboxServer, mode: str, quiet_log: pytest.LogCaptureFixture
) -> None:
    app = _app(sandbox.api_token, sandbox.base_url)
    async with Client(app.server, mode=mode) as client:
        await (await app.runtime.opened()).connection.wait_checked()
        result = await client.call_tool("get_space", {})
    [line] = _check_lines(quiet_log)
    assert line.levelno == logging.INFO
    assert sandbox.base_url in line.getMessage() and '"Demo space"' in line.getMessage()
    assert not result.is_error and NOTICE not in text_of(result)
    assert 'Connected to the space "Demo space"' in (app.server.instructions or "")
    assert f"Backend: the Capacities API at {sandbox.base_url}" in (app.server.instructions or "")


@pytest.mark.parametrize("mode", MODES)
async def test_bogus_token_is_said_once_per_message(
    sandbox: SandboxServer, mode: str, quiet_log: pytest.LogCaptureFixture
) -> None:
    app = _app(BOGUS, sandbox.base_url)
    async with Client(app.server, mode=mode) as client:
        await (await app.runtime.opened()).connection.wait_checked()
        rejected = await client.call_tool("get_space", {})
        local = await client.call_tool("get_object", {"id": "not-an-id"})  # refused before any request
        async with Client(app.server, mode=mode) as later:  # a session that starts after the check
            instructions = later.instructions or ""
    [line] = _check_lines(quiet_log)
    message = line.getMessage()
    assert line.levelno == logging.ERROR and "401" in message
    assert ENV_API_TOKEN in message and "capacities-mcp auth login" in message
    assert BOGUS not in quiet_log.text
    # The 401 names the problem itself: no notice on top of it.
    assert error_of(rejected)["code"] == "cap_not_authenticated"
    assert NOTICE not in text_of(rejected) and text_of(rejected).count("401") == 1
    # Any other result carries the problem in exactly one line.
    assert local.is_error and text_of(local).count(NOTICE) == 1 and text_of(local).count("401") == 1
    assert "PROBLEM:" in instructions and "401" in instructions
    assert BOGUS not in everything(rejected) + everything(local) + instructions


async def test_token_that_may_not_read_is_named(
    sandbox: SandboxServer, quiet_log: pytest.LogCaptureFixture
) -> None:
    app = _app(sandbox.mint_token(("api:write",)), sandbox.base_url)
    async with Client(app.server, mode="legacy") as client:
        await (await app.runtime.opened()).connection.wait_checked()
        local = await client.call_tool("get_object", {"id": "not-an-id"})
    [line] = _check_lines(quiet_log)
    assert line.levelno == logging.ERROR and "403" in line.getMessage() and "api:read" in line.getMessage()
    assert text_of(local).count(NOTICE) == 1 and "api:read" in text_of(local)


@pytest.mark.parametrize("mode", MODES)
async def test_unreachable_url_is_said_once(mode: str, quiet_log: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    app = _app(BOGUS, url)
    async with Client(app.server, mode=mode) as client:
        await (await app.runtime.opened()).connection.wait_checked()
        first = await client.call_tool("get_space", {})
        second = await client.call_tool("list_objects", {"structure": "Page"})
    [line] = _check_lines(quiet_log)
    assert line.levelno == logging.ERROR
    assert url in line.getMessage() and ENV_API_URL in line.getMessage()
    for result in (first, second):
        text = text_of(result)
        assert error_of(result)["code"] == "cap_connection_error"
        assert text.count("Could not reach the Capacities API") == 1, text
        assert NOTICE not in text and "Nothing was changed" in text


@pytest.mark.parametrize("mode", MODES)
async def test_problem_clears_when_the_api_answers(mode: str, quiet_log: pytest.LogCaptureFixture) -> None:
    """A fixed problem is not repeated: once the API answers, results carry no notice."""
    with running_sandbox() as sandbox:
        sandbox.faults.status = 503
        app = _app(sandbox.api_token, sandbox.base_url)
        async with Client(app.server, mode=mode) as client:
            await (await app.runtime.opened()).connection.wait_checked()
            assert app.runtime.state.connection.status == "failed"
            during = await client.call_tool("get_object", {"id": "not-an-id"})
            same = await client.call_tool("get_object", {"id": TASK_ID})  # the same 503 again
            sandbox.faults.reset()
            fixed = await client.call_tool("get_space", {})
            after = await client.call_tool("get_object", {"id": "not-an-id"})
    assert text_of(during).count(NOTICE) == 1 and "503" in text_of(during)
    assert error_of(same)["status"] == 503 and NOTICE not in text_of(same)  # its error says it
    assert not fixed.is_error and NOTICE not in text_of(fixed) and NOTICE not in text_of(after)
    lines = [r.levelname for r in _check_lines(quiet_log)]
    assert lines == ["WARNING", "INFO"]  # the failed check, then "answers again"


class _Notifications:
    """A client message handler that keeps the tools/list_changed notifications."""

    def __init__(self) -> None:
        self.tools_changed = 0

    async def __call__(self, message: Any) -> None:
        if isinstance(getattr(message, "root", message), ToolListChangedNotification):
            self.tools_changed += 1


async def test_token_without_write_scope_loses_the_write_tools_legacy(sandbox: SandboxServer) -> None:
    app = _app(sandbox.mint_token(("api:read",)), sandbox.base_url)
    seen = _Notifications()
    async with Client(app.server, mode="legacy", message_handler=seen) as client:
        assert client.server_capabilities.tools is not None
        assert client.server_capabilities.tools.list_changed is True
        before = {tool.name for tool in (await client.list_tools()).tools}
        denied = await client.call_tool("append_to_daily_note", {"markdown": "x"})
        after = {tool.name for tool in (await client.list_tools()).tools}
        refused = await client.call_tool("create_object", {"structure": "Page", "title": "t"})
        reads = await client.call_tool("get_space", {})
    assert not before <= set(READ_ONLY_TOOLS)
    error = error_of(denied)
    assert error["status"] == 403 and error["missing_scopes"] == ["api:write"]
    assert seen.tools_changed == 1
    assert after and after <= set(READ_ONLY_TOOLS)
    refusal = error_of(refused)
    assert refusal["code"] == "cap_scope_insufficient" and refusal["status"] is None
    assert "create_object is not available" in text_of(refused) and "api:write" in refusal["next_step"]
    assert not reads.is_error and NOTICE not in text_of(reads)
    instructions = app.server.instructions or ""
    assert "READ-ONLY" in instructions and "append_blocks" not in instructions


async def test_token_without_write_scope_announces_on_listen_streams(sandbox: SandboxServer) -> None:
    """The 2026-07-28 era: the change reaches subscriptions/listen streams."""
    app = _app(sandbox.mint_token(("api:read",)), sandbox.base_url)
    async with Client(app.server, mode="auto") as client:
        assert client.server_capabilities.tools is not None
        assert client.server_capabilities.tools.list_changed is True
        events: list[Any] = []
        async with client.listen(tools_list_changed=True) as subscription:
            denied = await client.call_tool("append_to_daily_note", {"markdown": "x"})
            with anyio.fail_after(10):
                events.append(await subscription.__anext__())
        after = {tool.name for tool in (await client.list_tools()).tools}
    assert error_of(denied)["status"] == 403
    assert len(events) == 1
    assert after and after <= set(READ_ONLY_TOOLS)


async def test_stored_sign_in_without_write_scope_starts_read_only(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    stored = StoredCredentials(
        kind="oauth",
        base_url=sandbox.base_url,
        client_id=sandbox.oauth_client_id,
        scopes=("api:read",),
        tokens=OAuthTokens("access", "refresh", expires_at=time.time() + 3600),
        store=TokenStore(tmp_path / "credentials.json"),
    )
    app = build_app(Settings(stored_credentials=stored, mirror=False))
    seen = _Notifications()
    async with Client(app.server, mode="legacy", message_handler=seen) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        refused = await client.call_tool("append_to_daily_note", {"markdown": "x"})
        instructions = client.instructions or ""
    assert tools and tools <= set(READ_ONLY_TOOLS)
    assert "lacks api:write" in text_of(refused) and error_of(refused)["status"] is None
    assert "READ-ONLY" in instructions and "append_blocks" not in instructions
    assert seen.tools_changed == 0  # known before the client listed anything


async def test_handshake_does_not_wait_for_the_check() -> None:
    with running_sandbox() as sandbox:
        sandbox.faults.latency = 5.0  # the check's GET /space answers only after this
        for mode in MODES:
            app = _app(sandbox.api_token, sandbox.base_url)
            async with Client(app.server, mode=mode) as client:
                assert client.server_capabilities.tools is not None  # initialize (or discover) answered
                # Not done: it starts once tools/list is answered (or after a grace period).
                state = app.runtime.current_state()
                assert state is None or state.connection.status in ("unchecked", "checking")
                assert "Connected" not in (client.instructions or "")
        sandbox.faults.reset()


def test_process_with_a_bogus_token_says_so_on_stderr(tmp_path: Path) -> None:
    """`capacities-mcp serve` as hosts start it: initialize answered first, then one clear line."""
    with running_sandbox() as sandbox:
        env = base_env(tmp_path, {ENV_API_URL: sandbox.base_url, ENV_API_TOKEN: BOGUS})
        sandbox.faults.latency = 3.0  # holds the check's answer back, not the handshake
        with raw_stdio_server(env, "--no-mirror") as server:
            server.handshake()
            assert "401" not in server.stderr_text()
            sandbox.faults.reset()
            result = _wait_and_call(server)
    stderr = server.stderr_text()
    lines = [line for line in stderr.splitlines() if "401" in line]
    assert len(lines) == 1 and "ERROR" in lines[0] and ENV_API_TOKEN in lines[0], stderr
    assert BOGUS not in stderr
    assert result["result"]["content"][0]["text"].count(NOTICE) == 1


def _wait_and_call(server: Any) -> dict[str, Any]:
    """Once the check's line is out, one tool call that fails before any request."""
    deadline = time.monotonic() + 30
    while "401" not in server.stderr_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    reply: dict[str, Any] = server.request(2, "tools/call", {"name": "get_object", "arguments": {"id": "x"}})
    return reply
