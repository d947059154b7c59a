"""API errors are parsed exactly like the official SDK's `CapacitiesApiError.fromResponse`."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from capacities_mcp.api import (
    CAP_UNKNOWN,
    ERROR_CODES,
    CapacitiesApiError,
    code_for_status,
)

from .helpers import OBJECT_ID, FakeApi, error, make_client, ok


def test_the_eight_wire_codes() -> None:
    assert set(ERROR_CODES) == {
        "cap_not_authenticated",
        "cap_scope_insufficient",
        "cap_not_found",
        "cap_invalid_input",
        "cap_rate_limit_exceeded",
        "cap_server_error",
        "cap_service_unavailable",
        "cap_object_creation_quota_reached",
    }
    assert CAP_UNKNOWN == "cap_unknown"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (401, "cap_not_authenticated"),
        (403, "cap_scope_insufficient"),
        (404, "cap_not_found"),
        (400, "cap_invalid_input"),
        (413, "cap_invalid_input"),
        (429, "cap_rate_limit_exceeded"),
        (503, "cap_service_unavailable"),
        (500, "cap_server_error"),
        (502, "cap_server_error"),
        (504, "cap_server_error"),
        (418, "cap_unknown"),
        (409, "cap_unknown"),
        (302, "cap_unknown"),
    ],
)
def test_code_for_status(status: int, code: str) -> None:
    assert code_for_status(status) == code


# (status, body, reason) -> (code, message, details)
PARSE_CASES: list[tuple[str, int, str, str, str, str, Any]] = [
    (
        "json code+message",
        404,
        '{"code":"cap_not_found","message":"Object not found"}',
        "",
        "cap_not_found",
        "Object not found",
        None,
    ),
    (
        "json details kept",
        400,
        '{"code":"cap_invalid_input","message":"bad","details":{"field":"x"}}',
        "",
        "cap_invalid_input",
        "bad",
        {"field": "x"},
    ),
    ("unknown code", 400, '{"code":"cap_brand_new","message":"m"}', "", "cap_unknown", "m", None),
    ("code not prefixed", 400, '{"code":"not_found","message":"m"}', "", "cap_unknown", "m", None),
    ("json without code", 404, '{"message":"gone"}', "", "cap_unknown", "gone", None),
    (
        "json message not a string",
        500,
        '{"code":"cap_server_error","message":5}',
        "",
        "cap_server_error",
        '{"code":"cap_server_error","message":5}',
        None,
    ),
    (
        "any 429 is rate limit",
        429,
        '{"code":"cap_server_error","message":"slow down"}',
        "",
        "cap_rate_limit_exceeded",
        "slow down",
        None,
    ),
    ("429 json without code", 429, '{"message":"x"}', "", "cap_rate_limit_exceeded", "x", None),
    (
        "html 429",
        429,
        "  <html><body>error code: 1015</body></html>\n",
        "Too Many Requests",
        "cap_rate_limit_exceeded",
        "<html><body>error code: 1015</body></html>",
        None,
    ),
    (
        "html 502",
        502,
        "<html>Bad gateway</html>",
        "Bad Gateway",
        "cap_server_error",
        "<html>Bad gateway</html>",
        None,
    ),
    ("text 503", 503, "maintenance", "Service Unavailable", "cap_service_unavailable", "maintenance", None),
    ("empty 401", 401, "", "Unauthorized", "cap_not_authenticated", "Unauthorized", None),
    ("empty 403", 403, "", "Forbidden", "cap_scope_insufficient", "Forbidden", None),
    ("empty 413", 413, "", "Content Too Large", "cap_invalid_input", "Content Too Large", None),
    ("empty 418", 418, "", "I'm a teapot", "cap_unknown", "I'm a teapot", None),
    ("whitespace body", 404, "   ", "Not Found", "cap_not_found", "Not Found", None),
    ("json array", 404, "[1,2]", "Not Found", "cap_unknown", "[1,2]", None),
    ("json null", 404, "null", "Not Found", "cap_not_found", "null", None),
    (
        "json null details",
        400,
        '{"code":"cap_invalid_input","message":"m","details":null}',
        "",
        "cap_invalid_input",
        "m",
        None,
    ),
]


@pytest.mark.parametrize(
    ("status", "body", "reason", "code", "message", "details"),
    [c[1:] for c in PARSE_CASES],
    ids=[c[0] for c in PARSE_CASES],
)
def test_from_response_matches_sdk(
    status: int, body: str, reason: str, code: str, message: str, details: Any
) -> None:
    err = CapacitiesApiError.from_response(status, body, reason=reason)
    assert (err.status, err.code, err.message, err.details) == (status, code, message, details)
    assert str(err) == message


def test_scope_details_and_missing_scopes() -> None:
    body = '{"code":"cap_scope_insufficient","message":"no","details":{"missingScopes":["api:write"]}}'
    err = CapacitiesApiError.from_response(403, body)
    assert err.missing_scopes == ["api:write"]
    assert err.scope_details == {"missingScopes": ["api:write"]}
    # Only for cap_scope_insufficient with a list of scopes.
    other = CapacitiesApiError.from_response(
        400, '{"code":"cap_invalid_input","message":"no","details":{"missingScopes":["x"]}}'
    )
    assert other.scope_details is None and other.missing_scopes == []
    malformed = CapacitiesApiError.from_response(
        403, '{"code":"cap_scope_insufficient","message":"no","details":{"missingScopes":"x"}}'
    )
    assert malformed.scope_details is None and malformed.missing_scopes == []


# --- through the client ------------------------------------------------------------------------


async def test_client_raises_parsed_error_with_route() -> None:
    api = FakeApi([error(404, "cap_not_found", "Object not found")])
    async with make_client(api) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await client.object.get(OBJECT_ID)
    err = caught.value
    assert (err.status, err.code, err.message) == (404, "cap_not_found", "Object not found")
    assert err.route == "object.get"
    assert len(api.sent) == 1


async def test_client_scope_error_has_missing_scopes() -> None:
    api = FakeApi(
        [error(403, "cap_scope_insufficient", "Missing scope", details={"missingScopes": ["api:write"]})]
    )
    async with make_client(api) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await client.object.delete(OBJECT_ID)
    assert caught.value.code == "cap_scope_insufficient"
    assert caught.value.missing_scopes == ["api:write"]


async def test_client_html_429_beyond_budget() -> None:
    api = FakeApi([httpx2.Response(429, text="<html>error code: 1015</html>", headers={"Retry-After": "90"})])
    async with make_client(api, max_rate_limit_wait=1.0) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await client.space.get()
    err = caught.value
    assert err.code == "cap_rate_limit_exceeded" and err.status == 429
    assert err.message == "<html>error code: 1015</html>"
    assert err.retry_after == 90
    assert len(api.sent) == 1


async def test_client_empty_error_body_uses_status_text() -> None:
    api = FakeApi([httpx2.Response(401)])
    async with make_client(api) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await client.space.get()
    assert caught.value.code == "cap_not_authenticated"
    assert caught.value.message == "Unauthorized"


async def test_client_retry_after_on_an_error_response() -> None:
    # A write is never retried on 503, but the hint reaches the caller.
    api = FakeApi([httpx2.Response(503, text="", headers={"Retry-After": "7"})])
    async with make_client(api) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await client.object.markdown.create(structure_id="RootPage", markdown="# x")
    assert caught.value.code == "cap_service_unavailable"
    assert caught.value.retry_after == 7
    assert len(api.sent) == 1


@pytest.mark.parametrize("body", [b"{not json", b"<html>ok</html>", b""])
async def test_invalid_json_success_body(body: bytes) -> None:
    api = FakeApi([httpx2.Response(200, content=body)])
    async with make_client(api) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await client.object.get(OBJECT_ID)
    err = caught.value
    assert (err.status, err.code) == (200, "cap_unknown")
    assert err.message == "Invalid JSON in response body"


async def test_response_not_matching_schema_is_cap_unknown() -> None:
    api = FakeApi([ok({"id": OBJECT_ID})])
    async with make_client(api) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await client.object.get(OBJECT_ID)
    assert caught.value.code == "cap_unknown"
    assert "structureId" in caught.value.message


async def test_empty_body_routes_ignore_the_body() -> None:
    # DELETE /object and the daily-note append answer 200 with no body (or anything at all).
    api = FakeApi([ok(), httpx2.Response(200, content=b"not json")])
    async with make_client(api) as client:
        results = [
            await client.request("object.delete", id=OBJECT_ID),
            await client.request("blocks.daily_note.append", markdown="x"),
        ]
    assert results == [None, None]
