"""Fixtures for the sign-in tests: a sandbox with its OAuth provider and a private store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from capacities_mcp.auth import TokenStore
from capacities_mcp.sandbox import SandboxConfig, SandboxServer


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private credentials file, chosen through the same env var the server reads."""
    path = tmp_path / "config" / "credentials.json"
    monkeypatch.setenv("CAPACITIES_MCP_TOKEN_STORE", str(path))
    monkeypatch.delenv("CAPACITIES_API_TOKEN", raising=False)
    monkeypatch.delenv("CAPACITIES_API_URL", raising=False)
    return path


@pytest.fixture
def store(store_path: Path) -> TokenStore:
    return TokenStore(store_path)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A sandbox that shows the consent page (the browser approves or denies)."""
    with SandboxServer(SandboxConfig(port=0, auto_approve=False, reuse_detection=True)) as sb:
        yield sb


@pytest.fixture
def auto_sandbox() -> Iterator[SandboxServer]:
    """A sandbox that approves every authorization request at once."""
    with SandboxServer(SandboxConfig(port=0, auto_approve=True, reuse_detection=True)) as sb:
        yield sb
