"""Fixtures: one sandbox per test module on the fixture space, and clients with fresh tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from .helpers import Api, fixture_store


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """One running sandbox per test module, on the fixture space."""
    with SandboxServer(SandboxConfig(), store=fixture_store()) as server:
        yield server


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[Api]:
    client = Api(sandbox.base_url, sandbox.mint_token(("api:read", "api:write")))
    yield client
    client.close()


@pytest.fixture
def reader(sandbox: SandboxServer) -> Iterator[Api]:
    client = Api(sandbox.base_url, sandbox.mint_token(("api:read",)))
    yield client
    client.close()
