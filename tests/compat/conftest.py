"""Fixtures of the agent-framework tests: one seeded sandbox per module, and the environment of a
`capacities-mcp serve` subprocess pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from capacities_mcp._environment import ENV_NO_MIRROR
from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from .helpers import server_env


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(port=0, rate_limit_window=0.05, daily_note_delay=0.0)
    with SandboxServer(config) as sb:
        yield sb


@pytest.fixture(scope="module")
def env(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # No mirror: its status line ("content index: 3 of 37 objects") changes while it crawls, and
    # these tests compare what a framework passed on with what our own client read moments apart.
    return server_env(
        sandbox, tmp_path_factory.mktemp("compat") / "no-credentials.json", **{ENV_NO_MIRROR: "true"}
    )
