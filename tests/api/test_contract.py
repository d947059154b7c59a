"""The route table and the models against the official OpenAPI document of API 1.0.0."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from capacities_mcp.api import RATE_LIMIT_WINDOW_SECONDS, ROUTES, ROUTES_BY_NAME, Route
from capacities_mcp.api.models import ApiModel
from tests.helpers_openapi import DOC, OPERATIONS, OPERATIONS_BY_KEY, Operation, validator_at

from .helpers import FakeApi, make_client, object_payload, ok
from .helpers_requests import CASES, Case

ROUTES_BY_KEY: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in ROUTES}
NOT_IN_CONTRACT = {("PATCH", "/object/markdown")}
OP_IDS = [op.key for op in OPERATIONS]


def _route(method: str, path: str) -> Route:
    route = ROUTES_BY_KEY.get((method, path))
    assert route is not None, f"{method} {path} is missing from ROUTES"
    return route


def test_openapi_document_is_there() -> None:
    assert DOC.get("info", {}).get("version") == "1.0.0"
    assert len(OPERATIONS) == 15


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_every_operation_is_routed(op: Operation) -> None:
    route = _route(op.method, op.path)
    assert route.in_contract is ((op.method, op.path) not in NOT_IN_CONTRACT)


def test_contract_routes_are_exactly_the_openapi_ones() -> None:
    in_contract = {(r.method, r.path) for r in ROUTES if r.in_contract}
    documented = {(op.method, op.path) for op in OPERATIONS}
    assert in_contract == documented - NOT_IN_CONTRACT
    assert len(in_contract) == 14
    assert len({r.name for r in ROUTES}) == len(ROUTES) == len(ROUTES_BY_NAME)
    assert len({r.key for r in ROUTES}) == len(ROUTES)


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_rate_limits_match_the_descriptions(op: Operation) -> None:
    limit, window = op.rate_limit
    route = _route(op.method, op.path)
    assert route.rate_limit == limit
    assert route.window_seconds == window == RATE_LIMIT_WINDOW_SECONDS


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_shapes_match(op: Operation) -> None:
    method, path, spec = op.method, op.path, op.spec
    route = _route(method, path)
    assert (route.body is not None) == ("requestBody" in spec)
    documented_params = {p["name"] for p in spec.get("parameters", []) if p["in"] == "query"}
    if route.params is None:
        assert documented_params == set()
    else:
        wire_names = {f.alias or n for n, f in route.params.model_fields.items()}
        assert wire_names == documented_params
    has_json = "application/json" in spec["responses"]["200"].get("content", {})
    assert (route.response is not None) == has_json
    # Reads are exactly the GETs and the (side-effect free) search.
    expected_scope = "api:read" if method == "GET" or path == "/objects/search" else "api:write"
    assert route.scope == expected_scope
    assert route.is_read == (expected_scope == "api:read")


def _examples() -> Iterator[tuple[str, type[ApiModel], Any]]:
    for op in OPERATIONS:
        method, path, spec = op.method, op.path, op.spec
        route = ROUTES_BY_KEY.get((method, path))
        if route is None:
            continue
        body = spec.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "example" in body and route.body is not None:
            yield f"{method} {path} request", route.body, body["example"]  # type: ignore[misc]
        resp = spec["responses"]["200"].get("content", {}).get("application/json", {})
        if "example" in resp and route.response is not None:
            yield f"{method} {path} response", route.response, resp["example"]  # type: ignore[misc]


EXAMPLES = list(_examples())


def test_every_example_is_covered() -> None:
    # 9 JSON request bodies (every POST and PATCH) + 13 JSON responses (all but two).
    assert len([e for e in EXAMPLES if e[0].endswith("request")]) == 9
    assert len([e for e in EXAMPLES if e[0].endswith("response")]) == 13


@pytest.mark.parametrize(("name", "model", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_examples_validate_and_round_trip(name: str, model: type[ApiModel], example: Any) -> None:
    parsed = model.model_validate(example)
    assert parsed.to_wire() == example


# --- JSON Schema of the OpenAPI document -------------------------------------------------------


def _request_validator(method: str, path: str) -> Any:
    pointer = OPERATIONS_BY_KEY[f"{method} {path}"].request_pointer
    assert pointer is not None, f"{method} {path} documents no JSON request body"
    return validator_at(pointer)


def _response_validator(method: str, path: str) -> Any:
    pointer = OPERATIONS_BY_KEY[f"{method} {path}"].response_pointer
    assert pointer is not None, f"{method} {path} documents no JSON response"
    return validator_at(pointer)


BODY_CASES = [c for c in CASES if c.body is not None and (c.method, c.path) not in NOT_IN_CONTRACT]


@pytest.mark.parametrize("case", BODY_CASES, ids=[c.name for c in BODY_CASES])
async def test_bodies_the_client_sends_satisfy_the_openapi_schema(case: Case) -> None:
    api = FakeApi([ok(case.reply)])
    async with make_client(api) as client:
        await case.call(client)
    body = api.sent[0].json()
    errors = list(_request_validator(case.method, case.path).iter_errors(body))
    assert errors == [], [e.message for e in errors]


def test_response_fixture_satisfies_the_openapi_schema() -> None:
    payload = object_payload()
    errors = list(_response_validator("GET", "/object").iter_errors(payload))
    assert errors == [], [e.message for e in errors]


def test_schema_check_is_not_vacuous() -> None:
    # The same validator must reject what the API would reject.
    validator = _request_validator("POST", "/objects/search")
    assert not validator.is_valid({"query": ""})
    assert not validator.is_valid({"query": "x", "limit": 51})
    assert validator.is_valid({"query": "x", "limit": 50})
    obj = _response_validator("GET", "/object")
    assert not obj.is_valid({**object_payload(), "collections": ["nope"]})
