"""The maybe-applied rule, per failure kind and per method.

A write (not idempotent) that fails after it may have reached the API says `maybe_applied=True`
and is never sent again; only failures proven to have changed nothing say False. Reads never
apply anything, so they always say False.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from capacities_mcp.api import (
    ROUTES,
    CapacitiesApiError,
    CapacitiesClient,
    CapacitiesConnectionError,
    CapacitiesError,
    CapacitiesOAuthError,
    CapacitiesValidationError,
    OAuthCredential,
    OAuthTokens,
)

from .helpers import OBJECT_ID, FakeApi, Reply, make_client, object_payload, ok, raiser

Call = Callable[[CapacitiesClient], Awaitable[Any]]
OBJ = object_payload()


@dataclass(frozen=True)
class Method:
    name: str
    call: Call
    reply: Any
    idempotent: bool
    parses_body: bool = True


METHODS = [
    Method("object.get", lambda c: c.object.get(OBJECT_ID), OBJ, idempotent=True),
    Method("objects.search", lambda c: c.objects.search(query="x"), {"results": []}, idempotent=True),
    Method("object.create", lambda c: c.object.create(structure_id="RootPage"), OBJ, idempotent=False),
    Method("blocks.append", lambda c: c.blocks.append(id=OBJECT_ID, markdown="x"), OBJ, idempotent=False),
    Method(
        "object.update",
        lambda c: c.object.update(id=OBJECT_ID, delete_requested=True),
        OBJ,
        idempotent=False,
    ),
    Method(
        "object.delete",
        lambda c: c.object.delete(OBJECT_ID),
        None,
        idempotent=False,
        parses_body=False,
    ),
]
WRITES = [m for m in METHODS if not m.idempotent]


def _api_error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, json={"code": code, "message": "said the API"}, headers=headers)


@dataclass(frozen=True)
class Failure:
    name: str
    reply: Reply
    may_have_reached: bool
    needs_parsing: bool = False  # only a route that reads its answer body can notice


FAILURES = [
    # Never sent, or refused by the API itself: nothing changed.
    Failure("connect error", raiser(httpx2.ConnectError), False),
    Failure("connect timeout", raiser(httpx2.ConnectTimeout), False),
    Failure("429 API body", _api_error(429, "cap_rate_limit_exceeded", {"Retry-After": "60"}), False),
    Failure("429 HTML page", httpx2.Response(429, text="<html>error code: 1015</html>"), False),
    Failure("400 API body", _api_error(400, "cap_invalid_input"), False),
    Failure("401 API body", _api_error(401, "cap_not_authenticated"), False),
    Failure("403 API body", _api_error(403, "cap_scope_insufficient"), False),
    Failure("404 API body", _api_error(404, "cap_not_found"), False),
    Failure("413 API body", _api_error(413, "cap_invalid_input"), False),
    # May have reached the API: unsure, so a write may have been applied.
    Failure("read timeout", raiser(httpx2.ReadTimeout), True),
    Failure("write timeout", raiser(httpx2.WriteTimeout), True),
    Failure("dropped connection", raiser(httpx2.RemoteProtocolError), True),
    Failure("read error", raiser(httpx2.ReadError), True),
    Failure("500 API body", _api_error(500, "cap_server_error"), True),
    Failure("502 HTML page", httpx2.Response(502, text="<html>bad gateway</html>"), True),
    Failure(
        "503 with Retry-After",
        _api_error(503, "cap_service_unavailable", {"Retry-After": "1"}),
        True,
    ),
    Failure("504 empty", httpx2.Response(504, text=""), True),
    Failure("404 HTML page", httpx2.Response(404, text="<html>not here</html>"), True),
    Failure("400 empty body", httpx2.Response(400, text=""), True),
    Failure("302 redirect", httpx2.Response(302, headers={"Location": "https://elsewhere.test/"}), True),
    Failure("200 truncated body", httpx2.Response(200, text='{"id": "7d2e7f8a-4c3b'), True, True),
    Failure("200 not the schema", ok({"unexpected": True}), True, True),
]


def _cases(methods: list[Method], failures: list[Failure]) -> list[Any]:
    return [
        pytest.param(method, failure, id=f"{method.name}-{failure.name}")
        for method in methods
        for failure in failures
        if method.parses_body or not failure.needs_parsing
    ]


@pytest.mark.parametrize(("method", "failure"), _cases(METHODS, FAILURES))
async def test_maybe_applied_per_failure_and_method(method: Method, failure: Failure) -> None:
    api = FakeApi([failure.reply])
    async with make_client(api, max_retries=0, max_rate_limit_wait=0) as client:
        with pytest.raises(CapacitiesError) as caught:
            await method.call(client)
    expected = failure.may_have_reached and not method.idempotent
    assert caught.value.maybe_applied is expected
    assert ("may or may not have been applied" in str(caught.value)) is expected
    assert len(api.sent) == 1


@pytest.mark.parametrize(("method", "failure"), _cases(WRITES, [f for f in FAILURES if f.may_have_reached]))
async def test_a_write_that_may_have_applied_is_never_resent(method: Method, failure: Failure) -> None:
    api = FakeApi([failure.reply], handler=lambda _request: ok(method.reply))
    async with make_client(api, max_retries=5, max_rate_limit_wait=30) as client:
        with pytest.raises(CapacitiesError) as caught:
            await method.call(client)
    assert caught.value.maybe_applied is True
    assert len(api.sent) == 1


@pytest.mark.parametrize("method", WRITES, ids=[m.name for m in WRITES])
async def test_a_write_is_resent_after_a_failure_that_changed_nothing(method: Method) -> None:
    replies: list[Reply] = [raiser(httpx2.ConnectError), _api_error(429, "cap_rate_limit_exceeded")]
    api = FakeApi(replies, handler=lambda _request: ok(method.reply))
    async with make_client(api, max_retries=1, max_rate_limit_wait=5) as client:
        await method.call(client)
    assert len(api.sent) == 3
    assert api.sent[0].body == api.sent[2].body


@pytest.mark.parametrize("method", WRITES, ids=[m.name for m in WRITES])
async def test_a_write_the_client_refused_to_send_was_not_applied(method: Method) -> None:
    api = FakeApi()
    async with make_client(api) as client:
        with pytest.raises(CapacitiesValidationError) as caught:
            await client.request(method.name, {"id": "not-a-uuid", "bogus": 1})
    assert caught.value.maybe_applied is False
    assert isinstance(caught.value, CapacitiesError) and isinstance(caught.value, ValueError)
    assert api.sent == []


async def test_a_write_over_its_own_quota_was_not_applied() -> None:
    quota = {"RateLimit": "limit=30, remaining=0, reset=60"}
    api = FakeApi([ok(OBJ, headers=quota)])
    async with make_client(api, max_rate_limit_wait=0) as client:
        await client.object.create(structure_id="RootPage")
        with pytest.raises(CapacitiesApiError) as caught:
            await client.object.create(structure_id="RootPage")
    assert (caught.value.status, caught.value.maybe_applied) == (429, False)
    assert len(api.sent) == 1


async def test_a_write_whose_sign_in_failed_was_not_applied() -> None:
    credential = OAuthCredential(tokens=OAuthTokens("at-1", "rt-1", None), client_id="client-123")
    refused = httpx2.Response(400, json={"error": "invalid_grant"})
    api = FakeApi([_api_error(401, "cap_not_authenticated"), refused])
    async with make_client(api, oauth=credential) as client:
        with pytest.raises(CapacitiesOAuthError) as caught:
            await client.object.create(structure_id="RootPage")
    assert caught.value.maybe_applied is False
    assert len(api.api_requests) == 1


def test_idempotent_is_exactly_the_reads() -> None:
    idempotent = {route.name for route in ROUTES if route.idempotent}
    assert idempotent == {route.name for route in ROUTES if route.method == "GET"} | {"objects.search"}


def test_the_flag_is_on_every_error_class() -> None:
    not_sent = CapacitiesConnectionError("refused", request_sent=False)
    assert not_sent.maybe_applied is False and not_sent.request_sent is False
    for error in (
        CapacitiesApiError(500, "cap_server_error", "boom"),
        CapacitiesOAuthError("expired"),
        CapacitiesValidationError([]),
    ):
        assert error.maybe_applied is False
        error.maybe_applied = True
        assert str(error).endswith("the write may or may not have been applied: check before retrying")


async def test_an_unknown_listing_kind_is_refused_before_sending() -> None:
    api = FakeApi()
    async with make_client(api) as client:
        with pytest.raises(CapacitiesValidationError) as caught:
            await client.objects.iterate("folder", OBJECT_ID).__anext__()
    assert [issue.field for issue in caught.value.issues] == ["kind"]
    assert caught.value.maybe_applied is False and api.sent == []
