"""Fixtures the remote tests share: one redis-server per module, and two "replicas" on one store."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest

from capacities_mcp.remote import MemoryState, State

from .helpers_redis import RedisServer, patient_state, running_redis


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture(params=["memory", "redis"])
async def replicas(request: pytest.FixtureRequest) -> AsyncIterator[tuple[State, State]]:
    """Two handles on one fresh store (as two server processes have); a random Redis prefix keeps
    tests apart without a flush."""
    if request.param == "memory":
        shared = MemoryState()
        yield shared, shared
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    prefix = f"t{secrets.token_hex(4)}"
    first, second = patient_state(server.url, prefix), patient_state(server.url, prefix)
    yield first, second
    await first.aclose()
    await second.aclose()
