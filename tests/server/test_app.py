"""`build_server`: identity, instructions, tool selection, lifespan, the embedded sandbox.

In-process (`Client(server)`) in both client modes: "auto" (2026-07-28, no JSON-RPC framing) and
"legacy" (the `initialize` handshake over real JSON-RPC streams), against a sandbox over HTTP.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import anyio
import pytest
from mcp import Client

from capacities_mcp import __version__
from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server import _app as app_module
from capacities_mcp.server import build_server
from capacities_mcp.server._app import SANDBOX_NOTE, build_app
from capacities_mcp.server._settings import Settings
from capacities_mcp.server.tools import READ_ONLY_TOOLS, TOOLSETS

MODES = ["auto", "legacy"]
ALL_TOOLS = {name for names in TOOLSETS.values() for name in names}


def settings_for(sandbox: SandboxServer, **kwargs: Any) -> Settings:
    return Settings(api_token=sandbox.api_token, api_url=sandbox.base_url, **kwargs)


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


@pytest.mark.parametrize("mode", MODES)
async def test_identity_instructions_and_tools(sandbox: SandboxServer, mode: str) -> None:
    server = build_server(settings_for(sandbox))
    async with Client(server, mode=mode) as client:
        info = client.server_info
        assert info is not None and info.name == "capacities" and info.version == __version__
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert tools == ALL_TOOLS
        result = await client.call_tool("get_space", {})
        assert not result.is_error, text_of(result)
        assert "Demo space" in text_of(result)
    instructions = server.instructions or ""
    assert "get_space" in instructions and "search_objects" in instructions and "Markdown" in instructions
    assert "SANDBOX" not in instructions  # a real (env) backend is not called a sandbox


@pytest.mark.parametrize("mode", MODES)
async def test_read_only_registers_only_safe_tools(sandbox: SandboxServer, mode: str) -> None:
    app = build_app(settings_for(sandbox, read_only=True))
    async with Client(app.server, mode=mode) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
    assert tools and tools <= set(READ_ONLY_TOOLS)
    assert "append_blocks" not in tools
    assert "READ-ONLY" in (app.server.instructions or "")
    # prompts that need a write tool are not offered on a read-only server
    assert "capture_meeting_notes" not in app.prompt_names
    assert "summarize_object" in app.prompt_names


def test_tool_and_toolset_subsets(sandbox: SandboxServer) -> None:
    only = build_app(settings_for(sandbox, tools=("get_space", "get_object")))
    assert set(only.tool_names) == {"get_space", "get_object"}
    assert "search_objects" not in (only.server.instructions or "")
    some_set = next(iter(TOOLSETS))
    by_set = build_app(settings_for(sandbox, toolsets=(some_set,)))
    assert set(by_set.tool_names) == set(TOOLSETS[some_set])
    with pytest.raises(ValueError, match="nope"):
        build_app(settings_for(sandbox, tools=("nope",)))
    with pytest.raises(ValueError, match="nope"):
        build_app(settings_for(sandbox, toolsets=("nope",)))


@pytest.mark.parametrize("mode", MODES)
async def test_the_runtime_opens_after_tools_list_or_on_first_use(
    sandbox: SandboxServer, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """initialize and tools/list are answered before the client (or sandbox) exists; a call
    that comes first opens it, and otherwise the answer to tools/list does."""
    monkeypatch.setattr(app_module, "HANDSHAKE_GRACE", 60.0)
    early = build_app(settings_for(sandbox))
    async with Client(early.server, mode=mode) as client:
        assert early.runtime.current_state() is None
        result = await client.call_tool("get_space", {})
        assert not result.is_error and early.runtime.current_state() is not None
    listed = build_app(settings_for(sandbox))
    async with Client(listed.server, mode=mode) as client:
        assert listed.runtime.current_state() is None
        await client.list_tools()
        with anyio.fail_after(30):
            while listed.runtime.current_state() is None:
                await anyio.sleep(0.01)
        assert listed.server.catalog is not None  # the call path was loaded too


async def test_one_shared_client_closed_on_exit(sandbox: SandboxServer) -> None:
    app = build_app(settings_for(sandbox))
    async with Client(app.server) as first, Client(app.server, mode="legacy") as second:
        await first.call_tool("get_space", {})
        state = app.runtime.state
        await second.call_tool("get_space", {})
        assert app.runtime.state is state  # both sessions share one state and one client
        client = state.client
    with pytest.raises(RuntimeError):
        app.runtime.state  # noqa: B018 - closed once the last session ended
    with pytest.raises(Exception):  # noqa: B017 - whichever error the closed pool raises
        await client.space.get()  # its connection pool is closed


@pytest.mark.parametrize("mode", MODES)
async def test_embedded_sandbox_when_asked(mode: str) -> None:
    app = build_app(Settings(use_sandbox=True, sandbox_reason="test"))
    assert SANDBOX_NOTE in (app.server.instructions or "")
    async with Client(app.server, mode=mode) as client:
        result = await client.call_tool("get_space", {})
        url = app.runtime.sandbox_url
        assert url is not None and url.startswith("http://127.0.0.1:")
        assert not result.is_error, text_of(result)
        assert "Demo space" in text_of(result)
    assert app.runtime.sandbox_url is None  # stopped with the last session
    with pytest.raises(OSError):
        with anyio.fail_after(5):
            await anyio.connect_tcp("127.0.0.1", int(url.rsplit(":", 1)[1]))


@pytest.mark.parametrize("linger", [0.0, 0.1, 0.3])
async def test_a_session_that_ends_while_the_sandbox_opens_leaves_it_stopped(linger: float) -> None:
    """The runtime opens after tools/list: a client that leaves at once (an inspector listing
    the tools) may end the session while the sandbox is starting; it is stopped all the same."""

    def sandbox_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("sandbox:") and t.is_alive()}

    others = sandbox_threads()  # other tests' sandboxes
    app = build_app(Settings(use_sandbox=True, sandbox_reason="test", mirror=False))
    async with Client(app.server, mode="legacy") as client:
        await client.list_tools()
        await anyio.sleep(linger)
    assert app.runtime.sandbox_url is None and app.runtime.current_state() is None
    assert sandbox_threads() <= others


@pytest.mark.parametrize("mode", MODES)
async def test_a_runtime_that_cannot_open_is_said_by_every_call(
    mode: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The open follows the handshake now: when it fails (here the embedded sandbox cannot bind),
    the session stays up, the log says why once, and each call says so and tries again."""
    from capacities_mcp.sandbox import SandboxServer

    def cannot_bind(_sandbox: SandboxServer) -> SandboxServer:
        raise OSError("address in use")

    monkeypatch.setattr(SandboxServer, "start", cannot_bind)
    monkeypatch.setattr(app_module, "HANDSHAKE_GRACE", 0.0)
    caplog.set_level(logging.ERROR, logger="capacities_mcp.server")
    app = build_app(Settings(use_sandbox=True, sandbox_reason="test", mirror=False))
    async with Client(app.server, mode=mode) as client:
        assert len((await client.list_tools()).tools) == len(ALL_TOOLS)
        with anyio.fail_after(30):
            while not caplog.records:  # the background open has failed and said so
                await anyio.sleep(0.01)
        results = [await client.call_tool("get_space", {}) for _ in range(2)]
    for result in results:
        assert result.is_error
        error = (result.structured_content or {}).get("error") or {}
        assert error.get("code") == "server_unavailable" and error.get("maybe_applied") is False
        assert "address in use" in text_of(result) and "Nothing was sent" in text_of(result)
    [line] = [r for r in caplog.records if r.name == "capacities_mcp.server"]
    assert "address in use" in line.getMessage()
    assert app.runtime.current_state() is None and app.runtime.sandbox_url is None
