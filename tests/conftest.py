"""Shared test setup: every `async def` test runs on asyncio through anyio's pytest plugin."""

from __future__ import annotations

import atexit
import inspect
import os
import shutil
import tempfile
from typing import Any

import pytest

# Servers keep a local mirror in the user cache directory by default: in tests, never the
# developer's own (subprocesses inherit the variable).
_CACHE = tempfile.mkdtemp(prefix="capacities-mcp-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: Any) -> None:
    """Mark coroutine tests with `anyio` before anyio's own hook looks for the marker.

    Doing it here (not in `pytest_collection_modifyitems`) keeps parametrized tests working:
    the marker must exist before the test's fixtures are resolved.
    """
    if not (isinstance(collector, (pytest.Module, pytest.Class)) and callable(obj)):
        return
    inner = getattr(getattr(obj, "hypothesis", None), "inner_test", obj)
    if name.startswith("test") and inspect.iscoroutinefunction(inner):
        pytest.mark.anyio(obj)
