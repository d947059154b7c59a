"""The route table and the models against the official OpenAPI document of API 1.0.0."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from capacities_mcp.api import RATE_LIMIT_WINDOW_SECONDS, ROUTES, ROUTES_BY_NAME, Route
from capacities_mcp.api.models import ApiModel

from .helpers import FakeApi, make_client, object_payload, ok
from .test_client_requests import CASES, Case

pytestmark = pytest.mark.anyio

# The official document, kept with the tests (one copy, tests/fixtures) so they run wherever the
# repository does.
OPENAPI_PATH = Path(__file__).parents[1] / "fixtures" / "capacities-openapi-1.0.0.json"
OPENAPI: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
OPERATIONS: list[tuple[str, str, dict[str, Any]]] = [
    (method.upper(), path, op) for path, ops in OPENAPI["paths"].items() for method, op in ops.items()
]
ROUTES_BY_KEY: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in ROUTES}
NOT_IN_CONTRACT = {("PATCH", "/object/markdown")}


def _op_id(op: tuple[str, str, dict[str, Any]]) -> str:
    return f"{op[0]} {op[1]}"


def _route(method: str, path: str) -> Route:
    route = ROUTES_BY_KEY.get((method, path))
    assert route is not None, f"{method} {path} is missing from ROUTES"
    return route


def test_openapi_document_is_there() -> None:
    assert OPENAPI.get("info", {}).get("version") == "1.0.0"
    assert len(OPERATIONS) == 15


@pytest.mark.parametrize("op", OPERATIONS, ids=[_op_id(o) for o in OPERATIONS])
def test_every_operation_is_routed(op: tuple[str, str, dict[str, Any]]) -> None:
    method, path, _spec = op
    route = _route(method, path)
    assert route.in_contract is ((method, path) not in NOT_IN_CONTRACT)


def test_contract_routes_are_exactly_the_openapi_ones() -> None:
    in_contract = {(r.method, r.path) for r in ROUTES if r.in_contract}
    documented = {(m, p) for m, p, _ in OPERATIONS}
    assert in_contract == documented - NOT_IN_CONTRACT
    assert len(in_contract) == 14
    assert len({r.name for r in ROUTES}) == len(ROUTES) == len(ROUTES_BY_NAME)
    assert len({r.key for r in ROUTES}) == len(ROUTES)


_RATE = re.compile(r"\*\*Rate limit\*\*: (\d+) requests per (\d+) seconds")


@pytest.mark.parametrize("op", OPERATIONS, ids=[_op_id(o) for o in OPERATIONS])
def test_rate_limits_match_the_descriptions(op: tuple[str, str, dict[str, Any]]) -> None:
    method, path, spec = op
    match = _RATE.search(spec["description"])
    assert match, spec["description"]
    route = _route(method, path)
    assert route.rate_limit == int(match.group(1))
    assert route.window_seconds == int(match.group(2)) == RATE_LIMIT_WINDOW_SECONDS


@pytest.mark.parametrize("op", OPERATIONS, ids=[_op_id(o) for o in OPERATIONS])
def test_shapes_match(op: tuple[str, str, dict[str, Any]]) -> None:
    method, path, spec = op
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
    for method, path, spec in OPERATIONS:
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


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` -> JSON Schema `null` alternatives."""
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    root = _to_json_schema(copy.deepcopy(schema))
    root["components"] = _to_json_schema(OPENAPI["components"])
    return Draft202012Validator(root)


def _request_schema(method: str, path: str) -> dict[str, Any]:
    spec = OPENAPI["paths"][path][method.lower()]
    schema: dict[str, Any] = spec["requestBody"]["content"]["application/json"]["schema"]
    return schema


def _response_schema(method: str, path: str) -> dict[str, Any]:
    spec = OPENAPI["paths"][path][method.lower()]
    schema: dict[str, Any] = spec["responses"]["200"]["content"]["application/json"]["schema"]
    return schema


BODY_CASES = [c for c in CASES if c.body is not None and (c.method, c.path) not in NOT_IN_CONTRACT]


@pytest.mark.parametrize("case", BODY_CASES, ids=[c.name for c in BODY_CASES])
async def test_bodies_the_client_sends_satisfy_the_openapi_schema(case: Case) -> None:
    api = FakeApi([ok(case.reply)])
    async with make_client(api) as client:
        await case.call(client)
    body = api.sent[0].json()
    errors = list(_validator(_request_schema(case.method, case.path)).iter_errors(body))
    assert errors == [], [e.message for e in errors]


def test_response_fixture_satisfies_the_openapi_schema() -> None:
    payload = object_payload()
    errors = list(_validator(_response_schema("GET", "/object")).iter_errors(payload))
    assert errors == [], [e.message for e in errors]


def test_schema_check_is_not_vacuous() -> None:
    # The same validator must reject what the API would reject.
    validator = _validator(_request_schema("POST", "/objects/search"))
    assert not validator.is_valid({"query": ""})
    assert not validator.is_valid({"query": "x", "limit": 51})
    assert validator.is_valid({"query": "x", "limit": 50})
    obj = _validator(_response_schema("GET", "/object"))
    assert not obj.is_valid({**object_payload(), "collections": ["nope"]})
