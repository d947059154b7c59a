"""Shared test setup: every `async def` test runs on asyncio through anyio's pytest plugin."""

from __future__ import annotations

import inspect
from typing import Any

import pytest


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
