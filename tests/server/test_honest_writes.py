"""Honest writes, as the model reads them: MCP client -> server -> apply-then-break proxy -> sandbox.

For every fault the proxy can put between a write and its answer, each write tool runs a few
times; then the sandbox's own state says what happened. A result may say "nothing was changed"
(`maybe_applied: false`) only when provably nothing was; every error after a write that landed
carries `maybe_applied: true` and the advice to check before retrying. No write is doubled (the
server never resends a write that may have landed) and none is lost (a success is real).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from capacities_mcp.sandbox import SandboxServer
from tests.helpers_faulty_proxy import AFTER_FORWARDING, WITHOUT_FORWARDING, FaultyProxy

from .helpers import WELCOME_ID, connect, error_of, running_sandbox, text_of, tool_server

CALLS_PER_TOOL = 2


@pytest.fixture(scope="module")
def scene() -> Iterator[tuple[SandboxServer, FaultyProxy]]:
    with running_sandbox() as sandbox, FaultyProxy(sandbox.base_url) as proxy:
        yield sandbox, proxy


def _bodies(sandbox: SandboxServer) -> str:
    """Everything the space holds, as text: a marker's count there is its number of effects."""
    return repr(sandbox.state.objects)


def _writes_forwarded(proxy: FaultyProxy, marker: str) -> int:
    """Writes carrying `marker` that reached the sandbox (create_object's title search first is a read)."""
    return sum(
        marker.encode() in request.body
        for request in proxy.forwarded
        if request.method != "GET" and request.path != "/objects/search"
    )


WRITE_TOOLS = ("create_object", "append_blocks", "update_object", "save_weblink")


def _write(name: str, marker: str) -> dict[str, Any]:
    """The arguments of one write whose every effect carries `marker` once."""
    title = [{"property": "title", "value": f"{marker} title"}]
    return {
        "create_object": {"structure": "Page", "title": f"{marker} created"},
        "append_blocks": {"id": WELCOME_ID, "markdown": f"{marker} appended"},
        "update_object": {"id": WELCOME_ID, "properties": title},
        "save_weblink": {"url": f"https://example.com/{marker}", "title": "a link"},
    }[name]


@pytest.mark.parametrize("fault", [*AFTER_FORWARDING, *WITHOUT_FORWARDING])
async def test_no_write_lost_doubled_or_misreported(
    scene: tuple[SandboxServer, FaultyProxy], fault: str
) -> None:
    sandbox, proxy = scene
    proxy.stall_seconds = 1.0
    server, _ = tool_server(
        sandbox,
        base_url=proxy.base_url,
        token=sandbox.api_token,
        client_options={"timeout": 0.5, "max_retries": 3},  # retries on: writes must still not repeat
    )
    misreported: list[str] = []
    async with connect(server, "legacy") as client:
        assert not (await client.call_tool("get_space", {})).is_error  # reads pass the proxy untouched
        for _ in range(CALLS_PER_TOOL):
            for name in WRITE_TOOLS:
                marker = f"w{uuid.uuid4().hex[:12]}"
                arguments = _write(name, marker)
                proxy.fault = fault
                try:
                    result = await client.call_tool(name, arguments)
                finally:
                    proxy.fault = None
                proxy.forwarded_with(marker)  # waits for requests still in flight
                forwarded = _writes_forwarded(proxy, marker)
                applied = _bodies(sandbox).count(marker)
                assert forwarded <= 1 and applied <= 1, (fault, name, forwarded, applied)  # never doubled
                if not result.is_error:
                    if applied != 1:  # a success that did not happen
                        misreported.append(f"{name}: success, applied {applied}")
                    continue
                error = error_of(result)
                if applied and error.get("maybe_applied") is not True:
                    misreported.append(f"{name}: landed, but maybe_applied={error.get('maybe_applied')}")
                if applied and "check with get_object" not in text_of(result):
                    misreported.append(f"{name}: landed, but no advice to check first")
                if not forwarded and error.get("maybe_applied") is not False:
                    misreported.append(f"{name}: never sent, but maybe_applied={error.get('maybe_applied')}")
                if (
                    error.get("maybe_applied") is False
                    and "nothing was changed" not in text_of(result).lower()
                ):
                    misreported.append(f"{name}: unchanged, but the model is not told so")
        # The server keeps answering after every fault.
        assert not (await client.call_tool("get_object", {"id": WELCOME_ID})).is_error
    assert misreported == [], (fault, misreported)
