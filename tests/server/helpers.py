"""Helpers for the tool tests (no tests here): a sandbox, a tool server on it, an MCP client.

The server under test is a minimal `ToolServer` with only `register_tools`, its lifespan holding a
real `CapacitiesClient` that talks HTTP to a seeded sandbox, so every test goes through the whole
path: MCP client → tool → API client → HTTP → sandbox, and back. Structured output is on by
default here (tests read `structured_content`); `structured_output=False` gives what models get.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent

from capacities_mcp.api import CapacitiesClient, OAuthCredential
from capacities_mcp.sandbox import Clock, SandboxConfig, SandboxServer
from capacities_mcp.server._state import ServerState, SpaceCache
from capacities_mcp.server.tools import ToolServer, register_tools

MODES = ("auto", "legacy")

# Seeded demo space ids (stable: the seed derives them from names).
TASK_ID = "739718bc-3246-56f6-a8f0-477e031ad7ad"  # "Draft Q3 planning agenda"
LONG_NOTE_ID = "45499b98-52fd-56c1-aa2c-61b18cfc8d4d"  # "Research: Spaced repetition ..."
WELCOME_ID = "3499820e-7529-560d-ba41-e74773fc5004"
MISSING_ID = "739718bc-3246-56f6-a8f0-477e031ad7ae"


def noon_today() -> Clock:
    """Today's date at 12:00 UTC, running on: a test module never crosses midnight mid-way."""
    now = datetime.datetime.now(datetime.UTC)
    return Clock.starting_at(now.replace(hour=12, minute=0, second=0, microsecond=0))


@contextmanager
def running_sandbox(**overrides: Any) -> Iterator[SandboxServer]:
    """A seeded sandbox; quotas effectively off unless a test asks for a real window."""
    defaults = {"port": 0, "rate_limit_window": 0.05, "daily_note_delay": 0.0, "clock": noon_today()}
    config = SandboxConfig(**{**defaults, **overrides})
    with SandboxServer(config) as sandbox:
        yield sandbox


def tool_server(
    sandbox: SandboxServer | None = None,
    *,
    token: str | None = None,
    base_url: str | None = None,
    oauth: OAuthCredential | None = None,
    client_options: dict[str, Any] | None = None,
    read_only: bool = False,
    tools: Collection[str] | None = None,
    toolsets: Collection[str] | None = None,
    space_ttl: float = 300,
    structured_output: bool = True,
) -> tuple[ToolServer, list[str]]:
    """A fresh MCP server with the selected tools, its client pointed at `sandbox`."""
    options = {"max_retries": 0, "max_rate_limit_wait": 0.0, "timeout": 10.0, **(client_options or {})}

    @asynccontextmanager
    async def lifespan(_server: MCPServer[ServerState]) -> AsyncIterator[ServerState]:
        if oauth is not None:
            client = CapacitiesClient(oauth=oauth, base_url=base_url or sandbox.base_url, **options)  # type: ignore[union-attr]
        else:
            assert sandbox is not None or (token and base_url)
            client = CapacitiesClient(
                api_token=token or sandbox.api_token,  # type: ignore[union-attr]
                base_url=base_url or sandbox.base_url,  # type: ignore[union-attr]
                **options,
            )
        async with client:
            yield ServerState(client=client, space=SpaceCache(client, ttl=space_ttl))

    server = ToolServer("capacities-test", lifespan=lifespan)
    names = register_tools(
        server, read_only=read_only, tools=tools, toolsets=toolsets, structured_output=structured_output
    )
    return server, names


@asynccontextmanager
async def connect(server: MCPServer[Any], mode: str, **kwargs: Any) -> AsyncIterator[Client]:
    async with Client(server, mode=mode, **kwargs) as client:
        yield client


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def everything(result: CallToolResult) -> str:
    """All a client can see of a result (for "no token anywhere" checks)."""
    return text_of(result) + json.dumps(result.structured_content or {})


def error_of(result: CallToolResult) -> dict[str, Any]:
    assert result.is_error, text_of(result)
    assert result.structured_content is not None
    error: dict[str, Any] = result.structured_content["error"]
    return error
