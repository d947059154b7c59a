"""Writes through a proxy that applies them and then breaks the answer (issue 10, fault injection).

Client -> FaultyProxy -> real SandboxServer, all over loopback HTTP. For every fault, N writes of
each kind (create object, append blocks, update object); then the sandbox's own state says what
happened: no write lost, none doubled, every error after an applied write `maybe_applied=True`,
and every error for a write that provably did not reach the sandbox `maybe_applied=False`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from capacities_mcp.api import CapacitiesClient, CapacitiesError
from capacities_mcp.sandbox import SandboxConfig, SandboxServer
from tests.helpers_faulty_proxy import AFTER_FORWARDING, WITHOUT_FORWARDING, FaultyProxy

WRITES_PER_KIND = 4
STALLED_READ_TIMEOUT = 0.3  # the proxy stalls for 2 s


@dataclass(frozen=True)
class Scene:
    sandbox: SandboxServer
    proxy: FaultyProxy
    append_target: str
    update_target: str


@pytest.fixture(scope="module")
def scene() -> Iterator[Scene]:
    config = SandboxConfig(port=0, rate_limit_window=0.05, daily_note_delay=0.0)
    with SandboxServer(config) as sandbox, FaultyProxy(sandbox.base_url) as proxy:
        yield Scene(sandbox, proxy, _new_page(sandbox, "Append target"), _new_page(sandbox, "Update target"))


def _new_page(sandbox: SandboxServer, title: str) -> str:
    """Straight to the sandbox, not through the proxy."""
    response = httpx2.post(
        f"{sandbox.base_url}/object",
        json={"structureId": "RootPage", "properties": _title(title)},
        headers={"Authorization": f"Bearer {sandbox.api_token}"},
    )
    response.raise_for_status()
    return str(response.json()["id"])


def _title(value: str) -> dict[str, Any]:
    return {"title": {"type": "title", "title": {"value": value}}}


# Each write carries a unique marker; `applied` counts its effect in the sandbox's state.
Write = Callable[[CapacitiesClient, Scene, str], Awaitable[Any]]
Applied = Callable[[Scene, str], int]


def _create(client: CapacitiesClient, scene: Scene, marker: str) -> Awaitable[Any]:
    return client.object.create(structure_id="RootPage", properties=_title(marker))


def _created(scene: Scene, marker: str) -> int:
    store = scene.sandbox.state
    return sum(store.title_of(obj) == marker for obj in list(store.objects.values()))


def _append(client: CapacitiesClient, scene: Scene, marker: str) -> Awaitable[Any]:
    return client.blocks.append(id=scene.append_target, markdown=f"Paragraph {marker}")


def _appended(scene: Scene, marker: str) -> int:
    target = scene.sandbox.state.objects[scene.append_target]
    return json.dumps(target["blocks"]).count(marker)


def _update(client: CapacitiesClient, scene: Scene, marker: str) -> Awaitable[Any]:
    return client.object.update(id=scene.update_target, properties=_title(marker))


def _updated(scene: Scene, marker: str) -> int:
    store = scene.sandbox.state
    return int(store.title_of(store.objects[scene.update_target]) == marker)


KINDS: dict[str, tuple[Write, Applied]] = {
    "create object": (_create, _created),
    "append blocks": (_append, _appended),
    "update object": (_update, _updated),
}


@dataclass
class Outcome:
    applied: int  # in the sandbox's state
    forwarded: int  # requests that reached the sandbox
    error: CapacitiesError | None


async def _write_through(scene: Scene, fault: str | None, kind: str) -> list[Outcome]:
    write, applied = KINDS[kind]
    outcomes = []
    async with CapacitiesClient(
        api_token=scene.sandbox.api_token,
        base_url=scene.proxy.base_url,
        max_retries=3,  # a write resent after it may have applied would show up doubled
        backoff_base=0.01,
        max_rate_limit_wait=0.3,
        timeout=STALLED_READ_TIMEOUT if fault == "stall" else 10,
    ) as client:
        for _ in range(WRITES_PER_KIND):
            marker = f"marker-{uuid.uuid4().hex}"
            scene.proxy.fault = fault
            error = None
            try:
                await write(client, scene, marker)
            except CapacitiesError as exc:
                error = exc
            finally:
                scene.proxy.fault = None
            forwarded = scene.proxy.forwarded_with(marker)  # (waits for the proxy to settle)
            outcomes.append(Outcome(applied(scene, marker), forwarded, error))
    return outcomes


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("fault", AFTER_FORWARDING)
async def test_applied_then_broken_is_reported_maybe_applied(scene: Scene, fault: str, kind: str) -> None:
    outcomes = await _write_through(scene, fault, kind)
    assert [o.applied for o in outcomes] == [1] * WRITES_PER_KIND  # none lost, none doubled
    assert [o.forwarded for o in outcomes] == [1] * WRITES_PER_KIND  # never resent
    for outcome in outcomes:
        assert outcome.error is not None, "a broken answer was taken for a success"
        assert outcome.error.maybe_applied is True, repr(outcome.error)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("fault", WITHOUT_FORWARDING)
async def test_refused_before_the_sandbox_is_reported_not_applied(
    scene: Scene, fault: str, kind: str
) -> None:
    outcomes = await _write_through(scene, fault, kind)
    assert [(o.applied, o.forwarded) for o in outcomes] == [(0, 0)] * WRITES_PER_KIND
    for outcome in outcomes:
        assert outcome.error is not None
        assert outcome.error.maybe_applied is False, repr(outcome.error)


@pytest.mark.parametrize("kind", list(KINDS))
async def test_without_a_fault_every_write_applies_once(scene: Scene, kind: str) -> None:
    outcomes = await _write_through(scene, None, kind)
    assert [(o.applied, o.forwarded, o.error) for o in outcomes] == [(1, 1, None)] * WRITES_PER_KIND
