"""Fixtures shared by the server tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from capacities_mcp.sandbox import SandboxServer

from .helpers import running_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """One seeded sandbox per test module, shared by its tests."""
    with running_sandbox() as sb:
        yield sb
