"""Contract tests: the sandbox checked against the official SDK and the official OpenAPI document.

Shared pieces: where the fixtures live, and the one-time installation of the official
`@capacities/api` client (plus zod) with npm, guarded by a file lock so parallel runs don't collide.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers_node import ensure_node_packages

CONTRACT_DIR = Path(__file__).resolve().parent
NODE_DIR = CONTRACT_DIR / "node"
SDK_PACKAGE = "@capacities/api"
SDK_VERSION = "1.0.1"


@pytest.fixture(scope="session")
def node_executable() -> str:
    return ensure_node_packages(NODE_DIR, {SDK_PACKAGE: SDK_VERSION})
