"""The server as hosts run it: `python -m capacities_mcp serve` over stdio, streamable HTTP, SSE.

Each transport is driven by the real `mcp.Client` in both modes ("auto" negotiates 2026-07-28,
"legacy" the 2025-11-25 handshake), against a sandbox reached over HTTP. HTTP/SSE servers are
module-scoped subprocesses; stdio needs one subprocess per session.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.sse import sse_client

from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server._app import SANDBOX_NOTE
from capacities_mcp.server.tools import READ_ONLY_TOOLS, TOOLSETS

from .helpers_process import (
    ServerProcess,
    base_env,
    full_env,
    http_server,
    sandbox_env,
    stdio_params,
)

MODES = ["auto", "legacy"]
ALL_TOOLS = {name for names in TOOLSETS.values() for name in names}


@pytest.fixture(scope="module")
def env(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # Structured output on (through its environment variable): the checks read structured data.
    return sandbox_env(
        sandbox, tmp_path_factory.mktemp("transports"), CAPACITIES_MCP_STRUCTURED_OUTPUT="true"
    )


@pytest.fixture(scope="module")
def http(env: dict[str, str]) -> Iterator[ServerProcess]:
    with http_server(env, ["--transport", "http"]) as server:
        yield server


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def exercise(client: Client, *, over_http: bool = False) -> None:
    """What every transport must carry: every tool, an API error, a bad input, prompts, resources."""
    tools = {tool.name for tool in (await client.list_tools()).tools}
    assert tools == ALL_TOOLS
    called: set[str] = set()

    async def call(name: str, arguments: dict[str, Any]) -> Any:
        result = await client.call_tool(name, arguments)
        assert not result.is_error, (name, text_of(result))
        called.add(name)
        return result.structured_content

    space = await client.call_tool("get_space", {})
    assert not space.is_error and "Demo space" in text_of(space)
    called.add("get_space")
    hits = await client.call_tool("search_objects", {"query": "Sourdough"})
    assert not hits.is_error and "Sourdough bread recipe" in text_of(hits)
    called.add("search_objects")
    await call("list_objects", {"structure": "Task", "page_size": 2})
    await call("query_objects", {"structure": "Task", "limit": 2})
    marker = f"transport check {time.monotonic_ns()}"
    page = await call("create_object", {"structure": "Page", "title": marker, "markdown": "first"})
    appended = await call("append_blocks", {"id": page["id"], "markdown": "- second"})
    block_id = appended["new_block_ids"][0]
    await call("update_block", {"id": page["id"], "block_id": block_id, "text": "second, edited"})
    read = await call("get_object", {"id": page["id"]})
    assert "second, edited" in read["content"]
    await call("delete_block", {"id": page["id"], "block_id": block_id})
    await call("update_object", {"id": page["id"], "title": marker + " (renamed)"})
    await call("save_weblink", {"url": "https://example.com/transport", "notes": "via the transport"})
    await call("append_to_daily_note", {"markdown": marker, "no_timestamp": True})
    await call("delete_object", {"id": page["id"]})
    await call("upload_file", {"content": base64.b64encode(marker.encode()).decode(), "filename": "t.txt"})
    local = await client.call_tool("upload_file", {"path": __file__})  # a file the server can read
    # A local path names a file on the server's machine: only a stdio server is the user's own.
    assert local.is_error is over_http, text_of(local)
    assert called == ALL_TOOLS
    gone = await client.call_tool("get_object", {"id": page["id"]})
    assert gone.is_error and gone.structured_content["error"]["code"] == "cap_not_found"
    missing = await client.call_tool("get_object", {})
    assert missing.is_error and missing.structured_content["error"]["issues"][0]["field"] == "id"
    prompts = {prompt.name for prompt in (await client.list_prompts()).prompts}
    assert "summarize_object" in prompts
    prompt = await client.get_prompt("summarize_object", {"object": "Sourdough"})
    assert "Sourdough" in prompt.messages[0].content.text  # type: ignore[union-attr]
    resource = await client.read_resource("capacities://space")
    assert "Demo space" in resource.contents[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", MODES)
async def test_stdio(env: dict[str, str], mode: str) -> None:
    async with Client(stdio_params(env), mode=mode) as client:
        assert client.server_info is not None and client.server_info.name == "capacities"
        await exercise(client)


@pytest.mark.parametrize("mode", MODES)
async def test_streamable_http(http: ServerProcess, mode: str) -> None:
    assert http.url.endswith("/mcp")
    async with Client(http.url, mode=mode) as client:
        await exercise(client, over_http=True)


@pytest.fixture(scope="module")
def sse(env: dict[str, str]) -> Iterator[ServerProcess]:
    with http_server(env, ["--transport", "sse"]) as server:
        yield server


@pytest.mark.parametrize("mode", MODES)
async def test_sse(sse: ServerProcess, mode: str) -> None:
    assert sse.url.endswith("/sse")
    async with Client(sse_client(sse.url), mode=mode) as client:
        await exercise(client, over_http=True)


async def test_read_only_and_subsets_from_the_command_line(env: dict[str, str]) -> None:
    async with Client(stdio_params(env, "--read-only")) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert tools and tools <= set(READ_ONLY_TOOLS) and "append_blocks" not in tools
        write = await client.call_tool("append_blocks", {"id": "x", "markdown": "y"})
        assert write.is_error  # not registered at all
    async with Client(stdio_params(env, "--tools", "get_space,search_objects")) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert tools == {"get_space", "search_objects"}


def test_stdout_carries_only_json_rpc(env: dict[str, str]) -> None:
    """Raw stdio: every stdout line must be a JSON-RPC message, logs go to stderr only."""
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_space", "arguments": {}}},
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": "get_object", "arguments": {"id": "00000000-0000-4000-8000-000000000000"}},
        },
        {"jsonrpc": "2.0", "id": 5, "method": "prompts/get", "params": {"name": "summarize_object"}},
        {"jsonrpc": "2.0", "id": 6, "method": "resources/read", "params": {"uri": "capacities://structures"}},
        {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {"name": "get_object", "arguments": {}},
        },
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "capacities_mcp", "serve", "--log-level", "DEBUG"],
        env=full_env(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    stderr_chunks: list[str] = []
    reader = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    lines: list[str] = []
    try:
        process.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
        process.stdin.flush()
        answered: set[object] = set()
        deadline = time.monotonic() + 60
        # Keep stdin open until every request is answered (EOF stops the server mid-request).
        while not {1, 2, 3, 4, 5, 6, 7} <= answered and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            message = json.loads(line)  # raises if anything but JSON reached stdout
            assert message["jsonrpc"] == "2.0"
            answered.add(message.get("id"))
            if message.get("id") == 7:  # a missing required argument: our tool error, not the SDK's
                result = message["result"]
                assert result["isError"] and result["structuredContent"]["error"]["issues"] == [
                    {"field": "id", "message": "required, missing"}
                ]
        process.stdin.close()
        rest = process.stdout.read()
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    for line in rest.splitlines():
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert {1, 2, 3, 4, 5, 6, 7} <= answered
    assert process.returncode == 0
    reader.join(timeout=30)  # the reader appends only once stderr is closed; wait for it
    stderr = "".join(stderr_chunks)
    assert "HTTP Request: GET" in stderr  # DEBUG logging happened, on stderr, httpx2's included
    assert env["CAPACITIES_API_TOKEN"] not in stderr + "".join(lines) + rest


async def test_no_credentials_starts_the_embedded_sandbox(tmp_path: Path) -> None:
    """`capacities-mcp` with nothing configured: a working server on demo data, and it says so."""
    errlog = (tmp_path / "stderr.txt").open("w+")
    from mcp.client.stdio import stdio_client

    params = stdio_params(base_env(tmp_path))
    params.args = ["-m", "capacities_mcp"]  # no subcommand at all, as hosts start us
    try:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            result = await client.call_tool("get_space", {})
            assert not result.is_error and "Demo space" in text_of(result)
            assert SANDBOX_NOTE in (client.instructions or "")
        errlog.seek(0)
        stderr = errlog.read()
    finally:
        errlog.close()
    assert "sandbox" in stderr.lower()
    assert "CAPACITIES_API_TOKEN" in stderr  # tells the user how to use a real space
    # At the default level, httpx2's INFO line per request ("HTTP Request: ...") stays quiet.
    assert "HTTP Request" not in stderr and " INFO httpx2" not in stderr


async def test_sse_connections_share_one_embedded_sandbox(tmp_path: Path) -> None:
    """Each SSE connection enters the lifespan anew; the runtime keeps one sandbox for all."""
    with http_server(base_env(tmp_path), ["--transport", "sse", "--sandbox"]) as server:
        async with Client(sse_client(server.url)) as first:
            hits = await first.call_tool("search_objects", {"query": "Sourdough"})
            object_id = text_of(hits).split("`")[1]  # what the model reads: "- Title — Page `id`"
            added = await first.call_tool(
                "append_blocks", {"id": object_id, "markdown": "- shared marker 4711"}
            )
            assert not added.is_error, text_of(added)
        async with Client(sse_client(server.url), mode="legacy") as second:
            again = await second.call_tool("get_object", {"id": object_id})
            assert "shared marker 4711" in text_of(again)
