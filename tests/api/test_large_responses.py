"""A large answer is parsed off the event loop, so one huge object never stalls other calls."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from capacities_mcp.api import CapacitiesClient
from capacities_mcp.api import _client as client_module
from capacities_mcp.sandbox import SandboxConfig, SandboxServer


@pytest.fixture(scope="module")
def sandbox() -> Any:
    with SandboxServer(SandboxConfig(rate_limit_window=0.05)) as server:
        yield server


async def test_large_bodies_parse_in_a_worker_thread(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed_on: list[tuple[str, int]] = []
    original = client_module._Transport._parse

    def spy(route: Any, response: Any) -> Any:
        parsed_on.append((threading.current_thread().name, len(response.content)))
        return original(route, response)

    monkeypatch.setattr(client_module._Transport, "_parse", staticmethod(spy))
    monkeypatch.setattr(client_module, "_PARSE_INLINE_BYTES", 2_000)
    loop_thread = threading.current_thread().name
    async with CapacitiesClient(api_token=sandbox.api_token, base_url=sandbox.base_url) as client:
        space = await client.space.get()  # small: parsed inline
        structures = await client.space.structures()  # larger than 2,000 bytes: a worker parses it
    assert space.title == "Demo space" and structures.structures
    small, large = parsed_on
    assert small[1] < 2_000 and small[0] == loop_thread
    assert large[1] >= 2_000 and large[0] != loop_thread
