"""Retries: connection failures for everything; timeouts, drops and 5xx for reads only."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest

from capacities_mcp.api import CapacitiesApiError, CapacitiesClient, CapacitiesConnectionError

from .helpers import BLOCK_ID, OBJECT_ID, FakeApi, make_client, object_payload, ok, raiser

Call = Callable[[CapacitiesClient], Awaitable[Any]]
OBJ = object_payload()
SEARCH: dict[str, Any] = {"results": []}
PAGE = {"results": [], "hasMore": False}

READS: list[tuple[str, Call, Any]] = [
    ("space.get", lambda c: c.space.get(), {"id": OBJECT_ID, "title": "S"}),
    ("object.get", lambda c: c.object.get(OBJECT_ID), OBJ),
    (
        "object.markdown.get",
        lambda c: c.object.markdown.get(OBJECT_ID),
        {"id": OBJECT_ID, "structureId": "RootPage", "markdown": "x"},
    ),
    ("objects.search", lambda c: c.objects.search(query="x"), SEARCH),
    ("objects.structure", lambda c: c.objects.structure("RootPage"), PAGE),
]
WRITES: list[tuple[str, Call, Any]] = [
    ("object.create", lambda c: c.object.create(structure_id="RootPage"), OBJ),
    ("object.update", lambda c: c.object.update(id=OBJECT_ID, delete_requested=True), OBJ),
    ("object.delete", lambda c: c.object.delete(OBJECT_ID, hard_delete=True), None),
    ("object.create_from_url", lambda c: c.object.create_from_url(url="https://e.com"), OBJ),
    (
        "object.markdown.create",
        lambda c: c.object.markdown.create(structure_id="RootPage", markdown="# x"),
        OBJ,
    ),
    (
        "object.markdown.update",
        lambda c: c.object.markdown.update(id=OBJECT_ID, markdown="---\na: b\n---"),
        OBJ,
    ),
    ("blocks.append", lambda c: c.blocks.append(id=OBJECT_ID, markdown="x"), OBJ),
    ("blocks.daily_note.append", lambda c: c.blocks.daily_note.append(markdown="x"), None),
    (
        "blocks.block.update",
        lambda c: c.blocks.block.update(
            id=OBJECT_ID, block_id=BLOCK_ID, block={"type": "HorizontalLineBlock"}
        ),
        OBJ,
    ),
    ("blocks.block.delete", lambda c: c.blocks.block.delete(OBJECT_ID, BLOCK_ID), OBJ),
]
ALL = READS + WRITES


def _ids(cases: list[tuple[str, Call, Any]]) -> list[str]:
    return [c[0] for c in cases]


@pytest.mark.parametrize(("name", "call", "reply"), ALL, ids=_ids(ALL))
@pytest.mark.parametrize("exc", [httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout])
async def test_not_sent_is_retried_for_every_method(
    name: str, call: Call, reply: Any, exc: type[httpx2.TransportError]
) -> None:
    api = FakeApi([raiser(exc), ok(reply)])
    async with make_client(api) as client:
        await call(client)
    assert len(api.sent) == 2
    assert api.sent[0].body == api.sent[1].body


@pytest.mark.parametrize(("name", "call", "reply"), READS, ids=_ids(READS))
@pytest.mark.parametrize(
    "failure",
    [
        raiser(httpx2.ReadTimeout),
        raiser(httpx2.RemoteProtocolError),
        raiser(httpx2.ReadError),
        httpx2.Response(500, json={"code": "cap_server_error", "message": "x"}),
        httpx2.Response(502, text="<html>bad gateway</html>"),
        httpx2.Response(503, text=""),
    ],
    ids=["ReadTimeout", "RemoteProtocolError", "ReadError", "500", "502", "503"],
)
async def test_reads_are_retried_after_timeouts_drops_and_5xx(
    name: str, call: Call, reply: Any, failure: Any
) -> None:
    api = FakeApi([failure, failure, ok(reply)])
    async with make_client(api, max_retries=2) as client:
        await call(client)
    assert len(api.sent) == 3


@pytest.mark.parametrize(("name", "call", "reply"), WRITES, ids=_ids(WRITES))
@pytest.mark.parametrize(
    "exc", [httpx2.ReadTimeout, httpx2.WriteTimeout, httpx2.RemoteProtocolError, httpx2.ReadError]
)
async def test_writes_are_never_retried_after_maybe_sent(
    name: str, call: Call, reply: Any, exc: type[httpx2.TransportError]
) -> None:
    api = FakeApi([raiser(exc), ok(reply)])
    async with make_client(api, max_retries=5) as client:
        with pytest.raises(CapacitiesConnectionError) as caught:
            await call(client)
    assert len(api.sent) == 1
    err = caught.value
    assert err.maybe_applied is True
    assert err.route == name and err.status == 0
    assert "may or may not have been applied" in str(err)


@pytest.mark.parametrize(("name", "call", "reply"), WRITES, ids=_ids(WRITES))
@pytest.mark.parametrize("status", [500, 502, 503])
async def test_writes_are_never_retried_after_5xx(name: str, call: Call, reply: Any, status: int) -> None:
    api = FakeApi([httpx2.Response(status, text=""), ok(reply)])
    async with make_client(api, max_retries=5) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await call(client)
    assert len(api.sent) == 1
    assert caught.value.status == status
    assert caught.value.code == ("cap_service_unavailable" if status == 503 else "cap_server_error")


async def test_read_timeout_after_all_retries() -> None:
    api = FakeApi(handler=raiser(httpx2.ReadTimeout))
    async with make_client(api, max_retries=2) as client:
        with pytest.raises(CapacitiesConnectionError) as caught:
            await client.object.get(OBJECT_ID)
    assert len(api.sent) == 3
    assert caught.value.maybe_applied is False
    assert "may or may not" not in str(caught.value)


async def test_connect_error_after_all_retries_says_nothing_was_sent() -> None:
    api = FakeApi(handler=raiser(httpx2.ConnectError))
    async with make_client(api, max_retries=2) as client:
        with pytest.raises(CapacitiesConnectionError) as caught:
            await client.object.create(structure_id="RootPage")
    assert len(api.sent) == 3
    assert caught.value.maybe_applied is False
    assert "nothing was sent" in str(caught.value)


async def test_5xx_after_all_retries_raises_the_api_error() -> None:
    api = FakeApi(
        handler=lambda r: httpx2.Response(500, json={"code": "cap_server_error", "message": "boom"})
    )
    async with make_client(api, max_retries=1) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await client.space.get()
    assert len(api.sent) == 2
    assert (caught.value.code, caught.value.message) == ("cap_server_error", "boom")


async def test_no_retries_when_disabled() -> None:
    api = FakeApi([raiser(httpx2.ConnectError)])
    async with make_client(api, max_retries=0) as client:
        with pytest.raises(CapacitiesConnectionError):
            await client.space.get()
    assert len(api.sent) == 1


async def test_backoff_spaces_attempts() -> None:
    api = FakeApi([raiser(httpx2.ReadTimeout), raiser(httpx2.ReadTimeout), ok(OBJ)])
    async with make_client(api, max_retries=2, backoff_base=0.1) as client:
        transport = client._transport
        backoff, planned = transport._backoff, []

        def planning(attempt: int) -> float:
            planned.append(backoff(attempt))
            return planned[-1]

        transport._backoff = planning  # type: ignore[method-assign]
        await client.object.get(OBJECT_ID)
    # The pauses it chose (exact, whatever the machine), and that it took them.
    assert 0.05 <= planned[0] <= 0.1 and 0.1 <= planned[1] <= 0.2  # base*2^(n-1), half jittered
    assert api.sent[1].at - api.sent[0].at >= planned[0] - 0.01
    assert api.sent[2].at - api.sent[1].at >= planned[1] - 0.01


async def test_5xx_retry_does_not_wait_for_the_rate_limit_window() -> None:
    # Every response carries `RateLimit: ... reset=<seconds until the window ends>`; that is
    # no reason to sit out the window before retrying a 500 with quota to spare.
    headers = {"RateLimit": "limit=30, remaining=28, reset=10"}
    api = FakeApi([httpx2.Response(500, text="", headers=headers), ok(OBJ)])
    async with make_client(api) as client:
        started = time.monotonic()
        await client.object.get(OBJECT_ID)
        elapsed = time.monotonic() - started
    assert len(api.sent) == 2
    assert elapsed < 5.0  # sitting out the window would take 10 s


async def test_5xx_retry_honours_retry_after() -> None:
    api = FakeApi([httpx2.Response(503, text="", headers={"Retry-After": "0.2"}), ok(OBJ)])
    async with make_client(api) as client:
        await client.object.get(OBJECT_ID)
    assert api.sent[1].at - api.sent[0].at >= 0.2 - 0.02


async def test_known_unreachable_tries_once_until_something_answers() -> None:
    """A wrong URL or a dead network: the first call retries, later calls fail at once."""
    down = raiser(httpx2.ConnectError)
    api = FakeApi([down, down, down])
    async with make_client(api, max_retries=2) as client:
        with pytest.raises(CapacitiesConnectionError):
            await client.space.get()
        assert len(api.sent) == 3
        api.add(down, ok({"id": OBJECT_ID, "title": "S"}))
        with pytest.raises(CapacitiesConnectionError):
            await client.space.get()  # one quick try, no backoff
        assert len(api.sent) == 4
        await client.space.get()  # it answers again ...
        api.add(down, ok({"id": OBJECT_ID, "title": "S"}))
        await client.space.get()  # ... so a refused connection is retried again
    assert len(api.sent) == 7


async def test_a_full_pool_is_not_an_unreachable_api() -> None:
    full = raiser(httpx2.PoolTimeout)
    api = FakeApi([full, full, full, full, ok({"id": OBJECT_ID, "title": "S"})])
    async with make_client(api, max_retries=2) as client:
        with pytest.raises(CapacitiesConnectionError):
            await client.space.get()
        await client.space.get()  # retried as before
    assert len(api.sent) == 5
