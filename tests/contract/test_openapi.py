"""Schema-driven contract test: the sandbox against the official OpenAPI document of API 1.0.0.

For every operation of `tests/fixtures/capacities-openapi-1.0.0.json` (a copy of the official
document) this sends to a running sandbox

* the documented request example, adapted to real ids of the seeded space;
* bodies / query parameters generated from the request schema with `hypothesis-jsonschema`
  (bounded, derandomized), with object ids pinned to real objects;
* invalid variants derived from the schema (a required field missing, a field of the wrong JSON
  type, a bound or pattern violated);
* requests without a token and with a read-only token;

and validates every answer: a documented status (200, or one of the documented error statuses),
the content type, the `RateLimit` header (with the operation's documented limit), and the body
against the documented response schema with `jsonschema` ($refs resolved, `additionalProperties:
false` honoured) or, for errors, against the documented error body. It also checks that the
route table `capacities_mcp.api.ROUTES` covers every operation with the same method, path,
query parameters, body fields and rate limit.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

from capacities_mcp.api import ROUTES
from capacities_mcp.sandbox import SandboxConfig, SandboxServer
from tests.helpers_openapi import (
    DOC,
    OPERATIONS,
    OPERATIONS_BY_KEY,
    Operation,
    request_validator,
    resolve,
    response_validator,
    validator_at,
)

from .helpers import (
    ERROR_SCHEMA,
    RATELIMIT_HEADER,
    SCOPE_ERROR_SCHEMA,
    STATUS_CODES,
    generation_schema,
    schema_errors,
    wrong_type_value,
    zod_refinements_hold,
)

# Ids used by the document's examples, replaced by real ones of the seeded space.
EX_OBJECT = "7d2e7f8a-4c3b-4e1d-9f0a-123456789abc"
EX_BLOCK = "0742d198-776c-4329-8524-9f320908d425"
EX_STRUCTURE = "4ba6e5c6-3f31-45f2-93a0-27a8b2d91551"
EX_COLLECTION = "9f20f3d7-7df6-4b4a-8f82-123456789abc"
EX_BLOCKS_KEY = "2b460909-3c4b-443e-91eb-315c1baf419c"
RANDOM_UUID = "3f1c2b7e-9d4a-4c61-8e2f-5a6b7c8d9e0f"

OP_IDS = [op.key for op in OPERATIONS]
BODY_OPS = [op for op in OPERATIONS if op.request_pointer]
QUERY_OPS = [op for op in OPERATIONS if op.parameters]
MAX_EXAMPLES = 12
JSON = Any


def _short(value: Any, limit: int = 700) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[:limit]}…({len(text)} chars)"


# --- the sandbox and a small HTTP helper ----------------------------------------------------------


@dataclass
class World:
    """Real ids of the seeded space that the examples and generated requests are pinned to."""

    sandbox: SandboxServer
    api: Api
    custom_structure: str
    collection: str | None
    blocks_key: str
    description_structure: str


@dataclass(frozen=True)
class Target:
    object_id: str
    block_id: str


class Api:
    """Sends requests; on a 429 it validates the answer, waits for the window and retries."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx2.Client(base_url=base_url, timeout=15.0)
        self.waited_for_rate_limit = 0

    def close(self) -> None:
        self.http.close()

    def send(
        self,
        op: Operation,
        token: str | None,
        *,
        query: dict[str, str] | None = None,
        body: JSON = None,
    ) -> httpx2.Response:
        all_headers = {"x-capacities-api-version": "1.0.0"}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        content: bytes | None = None
        if body is not None:
            content = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        for _ in range(8):
            resp = self.http.request(op.method, op.path, params=query, content=content, headers=all_headers)
            if resp.status_code != 429:
                return resp
            assert_conforms(op, resp, {429})
            match = RATELIMIT_HEADER.match(resp.headers.get("ratelimit", ""))
            self.waited_for_rate_limit += 1
            time.sleep(min(float(match.group(3)) if match else 1.0, 5.0) + 0.05)
        return resp


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    config = SandboxConfig(port=0, rate_limit_window=2.0, daily_note_delay=0.0)
    with SandboxServer(config) as sandbox:
        api = Api(sandbox.base_url.rstrip("/"))
        try:
            yield _discover(sandbox, api)
        finally:
            api.close()


def _discover(sandbox: SandboxServer, api: Api) -> World:
    token = sandbox.api_token
    structures = assert_conforms(
        OPERATIONS_BY_KEY["GET /space/structures"],
        api.send(OPERATIONS_BY_KEY["GET /space/structures"], token),
        {200},
    )["structures"]
    customs = [s for s in structures if s["id"] not in _BUILT_IN]
    assert customs, "the seeded space has no custom structure"
    custom = next((s for s in customs if s["collections"]), customs[0])
    search = OPERATIONS_BY_KEY["POST /objects/search"]
    hits = assert_conforms(
        search,
        api.send(search, token, body={"query": "e", "structureIds": [custom["id"]], "limit": 5}),
        {200},
    )
    blocks_key: str | None = None
    for hit in hits["results"]:
        obj = assert_conforms(
            OPERATIONS_BY_KEY["GET /object"],
            api.send(OPERATIONS_BY_KEY["GET /object"], token, query={"id": hit["id"]}),
            {200},
        )
        if obj.get("blocks"):
            blocks_key = next(iter(obj["blocks"]))
            break
    assert blocks_key, f"no seeded object of {custom['id']} with blocks to learn its block property"
    description = next(
        (
            s["id"]
            for s in structures
            if s["id"] in ("RootPage", custom["id"])  # the structures new_target() can create
            for d in s["propertyDefinitions"]
            if d["id"] == "description" and d["writable"] and d["type"] in ("text", "richText")
        ),
        "RootPage",
    )
    return World(
        sandbox=sandbox,
        api=api,
        custom_structure=custom["id"],
        collection=custom["collections"][0]["id"] if custom["collections"] else None,
        blocks_key=blocks_key,
        description_structure=description,
    )


# The built-in structure ids: the enum branch of `structureId` in the document.
_BUILT_IN: frozenset[str] = frozenset(
    next(
        branch["enum"]
        for branch in resolve(f"{OPERATIONS_BY_KEY['POST /object'].request_pointer}/properties/structureId")[
            "anyOf"
        ]
        if "enum" in branch
    )
)


def new_target(world: World, token: str, structure: str | None = None) -> Target:
    """A fresh object (custom structure unless told) with one TextBlock, for one test to mutate."""
    structure = structure or world.custom_structure
    key = world.blocks_key if structure == world.custom_structure else "content"
    body = {
        "structureId": structure,
        "properties": {"title": {"type": "title", "title": {"value": "contract target"}}},
        "blocks": {
            key: [
                {"type": "TextBlock", "tokens": [{"type": "TextToken", "text": "target block", "style": {}}]}
            ]
        },
    }
    op = OPERATIONS_BY_KEY["POST /object"]
    obj = assert_conforms(op, world.api.send(op, token, body=body), {200})
    blocks = obj.get("blocks", {}).get(key) or []
    assert blocks, f"POST /object did not echo the created block under {key}: {_short(obj)}"
    return Target(obj["id"], blocks[0]["id"])


@pytest.fixture
def token(world: World) -> str:
    """A fresh read+write token per test: its own rate-limit buckets."""
    return world.sandbox.mint_token(scopes=("api:read", "api:write"))


# --- conformance of one answer ------------------------------------------------------------------

_VALIDATORS: dict[str, Draft202012Validator | None] = {}


def _response_validator(op: Operation) -> Draft202012Validator | None:
    if op.key not in _VALIDATORS:
        _VALIDATORS[op.key] = response_validator(op)
    return _VALIDATORS[op.key]


def assert_conforms(
    op: Operation, resp: httpx2.Response, expected: Collection[int] | None = None, context: str = ""
) -> Any:
    """The answer is documented: status, content type, RateLimit header, body schema."""
    status = resp.status_code
    where = f"{op.key} -> HTTP {status}{f' [{context}]' if context else ''}"
    if expected is not None:
        assert status in expected, f"{where}: expected {sorted(expected)}; body: {_short(resp.text)}"
    header = resp.headers.get("ratelimit")
    assert header is not None, f"{where}: no RateLimit header"
    match = RATELIMIT_HEADER.match(header)
    assert match, f"{where}: RateLimit header {header!r} is not 'limit=N, remaining=M, reset=S'"
    assert int(match.group(1)) == op.rate_limit[0], (
        f"{where}: RateLimit {header!r}, documented limit {op.rate_limit[0]}"
    )
    assert 0 <= float(match.group(3)) <= op.rate_limit[1], (
        f"{where}: RateLimit reset in {header!r} beyond the window"
    )
    if status == 429:
        assert int(match.group(2)) == 0, f"{where}: 429 with RateLimit {header!r} (remaining must be 0)"
    if status == 200:
        validator = _response_validator(op)
        if validator is None:
            assert resp.content == b"", f"{where}: documented 200 has no body, got {_short(resp.text)}"
            return None
        ctype = resp.headers.get("content-type", "")
        assert ctype.startswith("application/json"), f"{where}: content-type {ctype!r}"
        body = resp.json()
        errors = schema_errors(validator, body)
        assert not errors, (
            f"{where}: body violates the documented response schema:\n  "
            + "\n  ".join(errors)
            + f"\nbody: {_short(body, 1500)}"
        )
        return body
    assert status in STATUS_CODES, f"{where}: undocumented status; body: {_short(resp.text)}"
    ctype = resp.headers.get("content-type", "")
    assert ctype.startswith("application/json"), (
        f"{where}: error content-type {ctype!r}; body {_short(resp.text)}"
    )
    body = resp.json()
    scope_error = status == 403 and isinstance(body, dict) and body.get("code") == "cap_scope_insufficient"
    errors = schema_errors(Draft202012Validator(SCOPE_ERROR_SCHEMA if scope_error else ERROR_SCHEMA), body)
    assert not errors, (
        f"{where}: error body violates the documented error shape: {errors}; body {_short(body)}"
    )
    assert body["code"] in STATUS_CODES[status], (
        f"{where}: code {body['code']} does not go with HTTP {status}"
    )
    return body


def assert_invalid_input(op: Operation, resp: httpx2.Response, path: str | None, context: str) -> None:
    """400 cap_invalid_input, no details, zod-style message naming the field."""
    body = assert_conforms(op, resp, {400}, context)
    assert body["code"] == "cap_invalid_input", f"{op.key} [{context}]: {body}"
    assert "details" not in body, f"{op.key} [{context}]: validation errors carry no details: {body}"
    message = body["message"]
    assert message.startswith("✖ "), f"{op.key} [{context}]: not a zod-style message: {message!r}"
    if path is not None:
        lines = message.split("\n")
        assert any(
            line == f"  → at {path}"
            or line.startswith(f"  → at {path}.")
            or line.startswith(f"  → at {path}[")
            for line in lines
        ), f"{op.key} [{context}]: message does not point at {path!r}: {message!r}"


# --- documented examples, adapted to the seeded space -------------------------------------------


def _replace_ids(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {mapping.get(k, k): _replace_ids(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_ids(v, mapping) for v in value]
    if isinstance(value, str):
        return mapping.get(value, value)
    return value


def documented_request(op: Operation, world: World, token: str) -> tuple[dict[str, str] | None, JSON]:
    """(query, body) of the documented example with real ids (a fresh object where one is named)."""
    structure = world.description_structure if op.key == "PATCH /object/markdown" else None
    target = (
        new_target(world, token, structure)
        if op.key
        not in (
            "GET /space",
            "GET /space/structures",
            "POST /object",
            "POST /object/url",
            "POST /object/markdown",
            "POST /objects/search",
            "POST /blocks/daily-note/append",
        )
        else None
    )
    mapping = {EX_STRUCTURE: world.custom_structure, EX_BLOCKS_KEY: world.blocks_key}
    if world.collection:
        mapping[EX_COLLECTION] = world.collection
    if target:
        mapping[EX_OBJECT] = target.object_id
        mapping[EX_BLOCK] = target.block_id
    body = _replace_ids(copy.deepcopy(op.request_example), mapping) if op.request_pointer else None
    if isinstance(body, dict) and not world.collection:
        body.pop("collections", None)
    query: dict[str, str] | None = None
    if op.parameters:
        # The document gives query examples only in its SDK code samples; these are those values.
        samples = {"id": EX_OBJECT, "objectId": EX_OBJECT, "blockId": EX_BLOCK, "hardDelete": "false"}
        query = {p["name"]: mapping.get(samples[p["name"]], samples[p["name"]]) for p in op.parameters}
    return query, body


def _title(obj: dict[str, Any]) -> Any:
    return obj.get("properties", {}).get("title", {}).get("title", {}).get("value")


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_documented_example(world: World, token: str, op: Operation) -> None:
    """The documented request (adapted ids) succeeds and its answer matches the schema."""
    query, body = documented_request(op, world, token)
    if body is not None:
        validator = request_validator(op)
        assert validator is not None
        errors = schema_errors(validator, body)
        assert not errors, f"TEST BUG: adapted example violates the request schema: {errors}"
    resp = world.api.send(op, token, query=query, body=body)
    answer = assert_conforms(op, resp, {200}, f"documented example {_short(body or query)}")
    # What the example promises beyond the schema:
    if op.key == "POST /object":
        assert _title(answer) == "New object" and answer["structureId"] == world.custom_structure
        assert answer.get("blocks", {}).get(world.blocks_key), f"blocks not echoed: {_short(answer)}"
        if world.collection:
            assert answer["collections"] == [world.collection], f"collections {answer['collections']}"
    elif op.key == "PATCH /object":
        assert _title(answer) == "New title"
    elif op.key == "POST /object/url":
        assert _title(answer) == "Example article"
    elif op.key == "POST /object/markdown":
        assert _title(answer) == "New object" and answer["structureId"] == world.custom_structure
    elif op.key == "PATCH /blocks/block":
        texts = [
            t.get("text")
            for blocks in answer.get("blocks", {}).values()
            for b in blocks
            if b["id"] == query_or(body, "blockId")
            for t in b.get("tokens", [])
        ]
        assert texts == ["Updated text"], f"block not updated in place: {_short(answer)}"
    elif op.key == "DELETE /block":
        assert query is not None
        ids = [b["id"] for blocks in answer.get("blocks", {}).values() for b in blocks]
        assert query["blockId"] not in ids, f"block still present: {_short(answer)}"
    elif op.key == "DELETE /object":
        assert query is not None
        again = world.api.send(OPERATIONS_BY_KEY["GET /object"], token, query={"id": query["id"]})
        assert_conforms(OPERATIONS_BY_KEY["GET /object"], again, {404}, "GET after DELETE")
    elif op.key == "PATCH /object/markdown":
        description = answer["properties"].get("description")
        assert description is not None, f"front matter `description` not applied: {_short(answer)}"


def query_or(body: Any, key: str) -> Any:
    return body.get(key) if isinstance(body, dict) else None


# --- generated valid requests ---------------------------------------------------------------------

_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {}


def _body_strategy(op: Operation) -> st.SearchStrategy[Any]:
    if op.key not in _STRATEGIES:
        assert op.request_pointer
        schema = generation_schema(op.request_pointer)
        strategy = from_schema(schema)
        if op.key == "PATCH /blocks/block":
            # The target block is a TextBlock and a replacement must keep the type: mostly
            # generate TextBlocks, sometimes any block (then a 400 is a documented answer too).
            text_block = {
                **schema,
                "properties": {
                    **schema["properties"],
                    "block": generation_schema("/components/schemas/WritableApiTextBlock"),
                },
            }
            strategy = st.one_of(from_schema(text_block), from_schema(text_block), strategy)
        _STRATEGIES[op.key] = strategy
    return _STRATEGIES[op.key]


def _property_strategy(world: World) -> st.SearchStrategy[dict[str, Any]]:
    """Writable values of the custom structure's simple properties, from the Writable*Property schemas."""
    key = f"properties:{world.custom_structure}"
    if key not in _STRATEGIES:
        structures = world.api.send(
            OPERATIONS_BY_KEY["GET /space/structures"], world.sandbox.api_token
        ).json()["structures"]
        definitions = next(s for s in structures if s["id"] == world.custom_structure)["propertyDefinitions"]
        schema_of = {
            "title": "WritableApiTitleProperty",
            "text": "WritableApiTextProperty",
            "number": "WritableApiNumberProperty",
            "boolean": "WritableApiBooleanProperty",
            "richText": "WritableApiRichTextProperty",
        }
        optional = {
            d["id"]: from_schema(generation_schema(f"/components/schemas/{schema_of[d['type']]}"))
            for d in definitions
            if d["writable"] and d["type"] in schema_of
        }
        _STRATEGIES[key] = st.fixed_dictionaries({}, optional=optional)
    return _STRATEGIES[key]


_CREATABLE = {"RootPage", "RootTag", "RootTask"}


def repair_refinements(op: Operation, body: dict[str, Any]) -> dict[str, Any]:
    """Make a generated body satisfy the SDK's refinements (which the JSON Schema cannot say)."""
    body = copy.deepcopy(body)
    for node in _nodes(body):
        kind = node.get("type")
        if kind == "LinkToken":
            targets = [k for k in ("url", "entityId", "date") if k in node]
            for extra in targets[1:]:
                del node[extra]
            if not targets:
                node["url"] = "https://example.com/link"
        elif kind == "GridBlock" and "columns" in node:
            node["columns"] = (node["columns"] + [[], []])[: max(2, len(node["columns"]))]
        elif kind == "EntityBlock":
            node.pop("date", None)
    if op.key in ("POST /blocks/append", "POST /blocks/daily-note/append"):
        if "blocks" in body and "markdown" in body:
            del body["markdown"]
        elif "blocks" not in body and "markdown" not in body:
            body["markdown"] = "generated *markdown*"
    elif op.key == "POST /object/url" and "blocks" in body and "markdown" in body:
        del body["markdown"]
    elif op.key == "PATCH /object" and not any(
        k in body for k in ("properties", "collections", "blocks", "deleteRequested")
    ):
        body["deleteRequested"] = False
    elif op.key == "POST /objects/search" and not body["query"].strip():
        body["query"] = f"q{body['query']}"
    return body


def pin(
    op: Operation, body: dict[str, Any], world: World, target: Target | None, properties: dict[str, Any]
) -> dict[str, Any]:
    """Point a generated body at real things: ids, block property keys, creatable structures."""
    body = copy.deepcopy(body)
    for node in _nodes(body):
        if "entityId" in node and isinstance(node["entityId"], str) and target is not None:
            node["entityId"] = target.object_id
        if (
            node.get("type") == "after_block"
            and isinstance(node.get("after_block"), dict)
            and target is not None
        ):
            node["after_block"]["id"] = target.block_id

    def merged_blocks(key: str) -> None:
        if isinstance(body.get("blocks"), dict):
            body["blocks"] = {key: [b for blocks in body["blocks"].values() for b in blocks]}

    key = op.key
    if key in ("POST /object", "PATCH /object"):
        if key == "POST /object":
            body["structureId"] = world.custom_structure
        else:
            assert target is not None
            body["id"] = target.object_id
            if body.get("deleteRequested") is True:
                body["deleteRequested"] = False  # keep the target alive for the next example
        if "collections" in body:
            body["collections"] = [world.collection] if world.collection and body["collections"] else []
        if "properties" in body:
            body["properties"] = properties
        merged_blocks(world.blocks_key)
    elif key == "POST /object/url":
        merged_blocks("media_notes")
    elif key == "POST /object/markdown":
        if body.get("structureId") not in _CREATABLE:
            body["structureId"] = world.custom_structure
    elif key == "PATCH /object/markdown":
        assert target is not None
        body["id"] = target.object_id
    elif key == "POST /blocks/append":
        assert target is not None
        body["id"] = target.object_id
        body.pop("parentBlockId", None)
        if "propertyId" in body:
            body["propertyId"] = world.blocks_key
    elif key == "POST /blocks/daily-note/append":
        if "date" in body:
            body["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT00:00:00.000Z")
    elif key == "PATCH /blocks/block":
        assert target is not None
        body["id"] = target.object_id
        body["blockId"] = target.block_id
        if "propertyId" in body:
            body["propertyId"] = world.blocks_key
    return body


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)


# Generated, schema-valid bodies that must succeed once pinned (their zod refinements holding).
# PATCH /blocks/block: only when the replacement has the block's own type (TextBlock); changing
# the type is refused by the live API (capacities-api.md §7.6). PATCH /object/markdown: a random
# text may open a YAML front matter that does not parse, so any documented answer is accepted.
_MUST_SUCCEED = {
    "POST /object",
    "PATCH /object",
    "POST /object/url",
    "POST /object/markdown",
    "POST /objects/search",
    "POST /blocks/append",
    "POST /blocks/daily-note/append",
    "PATCH /blocks/block",
}
_NEEDS_TARGET = {"PATCH /object", "PATCH /object/markdown", "POST /blocks/append", "PATCH /blocks/block"}

_GEN_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("op", BODY_OPS, ids=[op.key for op in BODY_OPS])
def test_generated_bodies(world: World, token: str, op: Operation) -> None:
    """Bodies generated from the request schema: a documented answer, 200 whenever the SDK's
    schema accepts the body, a zod-style 400 when only its refinements reject it."""
    target = new_target(world, token) if op.key in _NEEDS_TARGET else None
    validator = request_validator(op)
    assert validator is not None

    @_GEN_SETTINGS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        raw = data.draw(_body_strategy(op), label="generated")
        properties = (
            data.draw(_property_strategy(world), label="properties")
            if isinstance(raw, dict) and "properties" in raw and op.key in ("POST /object", "PATCH /object")
            else {}
        )
        body = pin(op, raw, world, target, properties)
        # Mostly bodies the SDK accepts; sometimes the raw draw, whose refinements may fail.
        if data.draw(st.sampled_from((True, True, True, False)), label="repair refinements"):
            body = repair_refinements(op, body)
        errors = schema_errors(validator, body)
        assert not errors, f"TEST BUG: pinned body violates the request schema: {errors}"
        resp = world.api.send(op, token, body=body)
        context = f"generated body {_short(body)}"
        if not zod_refinements_hold(op, body):
            assert_invalid_input(op, resp, None, context)
            return
        must = op.key in _MUST_SUCCEED and not (
            op.key == "PATCH /blocks/block" and body["block"].get("type") != "TextBlock"
        )
        answer = assert_conforms(op, resp, {200} if must else {200, 400}, context)
        if op.key == "POST /objects/search" and resp.status_code == 200:
            assert len(answer["results"]) <= body.get("limit", 20), f"more results than limit: {context}"
            if "structureIds" in body:
                assert all(r["structureId"] in body["structureIds"] for r in answer["results"]), context

    run()


@pytest.mark.parametrize("op", QUERY_OPS, ids=[op.key for op in QUERY_OPS])
def test_generated_query_parameters(world: World, token: str, op: Operation) -> None:
    """Query parameters generated from their schemas: random (unknown) ids give a documented 404."""
    strategies = {
        p["name"]: from_schema(generation_schema(f"{op.pointer}/parameters/{i}/schema"))
        for i, p in enumerate(op.parameters)
    }
    target = new_target(world, token) if op.key == "DELETE /block" else None

    @_GEN_SETTINGS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        query: dict[str, str] = {}
        for name, strategy in strategies.items():
            value = data.draw(strategy, label=name)
            query[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if target is not None and data.draw(st.booleans(), label="real object"):
            query["objectId"] = target.object_id  # then only the block is unknown
        resp = world.api.send(op, token, query=query)
        body = assert_conforms(op, resp, {404}, f"query {query}")
        assert body["code"] == "cap_not_found"

    run()


# --- invalid variants derived from the schemas ----------------------------------------------------


@dataclass(frozen=True)
class Variant:
    op: Operation
    name: str
    path: str | None  # the field the 400 message must point at
    mutate: Callable[[dict[str, Any]], dict[str, Any]]

    @property
    def id(self) -> str:
        return f"{self.op.key} {self.name}"


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda d: {**d, key: value}


def _drop(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda d: {k: v for k, v in d.items() if k != key}


def _bound_violations(schema: dict[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    kind = schema.get("type")
    if kind == "string":
        if "minLength" in schema and schema["minLength"] > 0:
            out.append(("shorter than minLength", ""))
        if "maxLength" in schema:
            out.append(("longer than maxLength", "x" * (schema["maxLength"] + 1)))
        if "pattern" in schema:
            out.append(("pattern mismatch", "not-a-uuid"))
        if "enum" in schema:
            out.append(("not in enum", "NoSuchValue"))
    elif kind in ("integer", "number"):
        if "minimum" in schema:
            out.append(("below minimum", schema["minimum"] - 1))
        if "maximum" in schema:
            out.append(("above maximum", schema["maximum"] + 1))
        if kind == "integer":
            out.append(("not an integer", 1.5))
    elif kind == "array":
        if schema.get("minItems", 0) > 0:
            out.append(("fewer than minItems", []))
        if "maxItems" in schema:
            item = "RootPage"
            out.append(("more than maxItems", [item] * (schema["maxItems"] + 1)))
    return out


# The document marks `hardDelete` required, the SDK's (= the server's) schema makes it optional
# (`z.boolean().optional()` after preprocessing): leaving it out is valid, so it is no variant.
_OPTIONAL_IN_SDK = {("DELETE /object", "hardDelete")}


def _variants() -> list[Variant]:
    out: list[Variant] = []
    for op in OPERATIONS:
        if op.request_pointer:
            schema = resolve(op.request_pointer)
            base = f"{op.request_pointer}/properties"
            for name in schema.get("required", []):
                out.append(Variant(op, f"missing {name}", name, _drop(name)))
            for name, sub in schema.get("properties", {}).items():
                escaped = name.replace("~", "~0").replace("/", "~1")
                out.append(
                    Variant(op, f"wrong type {name}", name, _set(name, wrong_type_value(f"{base}/{escaped}")))
                )
                for label, value in _bound_violations(sub):
                    out.append(Variant(op, f"{name} {label}", name, _set(name, value)))
        for _index, parameter in enumerate(op.parameters):
            name = parameter["name"]
            if parameter.get("required") and (op.key, name) not in _OPTIONAL_IN_SDK:
                out.append(Variant(op, f"missing query {name}", name, _drop(name)))
            sub = parameter["schema"]
            if sub.get("type") == "boolean":
                out.append(Variant(op, f"query {name} not a boolean", name, _set(name, "yes")))
            for label, value in _bound_violations(sub):
                out.append(Variant(op, f"query {name} {label}", name, _set(name, value)))
    return out


VARIANTS = _variants()


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_invalid_variant(world: World, token: str, variant: Variant) -> None:
    """A body / query the schema rejects gets 400 cap_invalid_input pointing at the field."""
    op = variant.op
    query, body = documented_request(op, world, token)
    if op.request_pointer:
        assert isinstance(body, dict)
        mutated = variant.mutate(body)
        validator = request_validator(op)
        assert validator is not None and not validator.is_valid(mutated), (
            f"TEST BUG: variant is valid: {mutated}"
        )
        resp = world.api.send(op, token, query=query, body=mutated)
        context = f"body {_short(mutated)}"
    else:
        assert query is not None
        mutated_query = variant.mutate(query)
        resp = world.api.send(op, token, query=mutated_query)
        context = f"query {mutated_query}"
    assert_invalid_input(op, resp, variant.path, context)


def test_unknown_request_keys_are_ignored(world: World, token: str) -> None:
    """The SDK's schemas are non-strict zod objects: unknown keys are stripped, not rejected."""
    search = OPERATIONS_BY_KEY["POST /objects/search"]
    body = {"query": "project", "somethingNew": {"x": 1}, "structureIds": ["RootPage"]}
    assert_conforms(search, world.api.send(search, token, body=body), {200}, _short(body))
    create = OPERATIONS_BY_KEY["POST /object"]
    body = {
        "structureId": "RootPage",
        "origin": "commandPalette",
        "properties": {"title": {"type": "title", "title": {"value": "extra keys"}, "extra": True}},
        "blocks": {
            "content": [{"type": "CodeBlock", "lang": "py", "text": "x", "id": "client-id", "future": 1}]
        },
    }
    answer = assert_conforms(create, world.api.send(create, token, body=body), {200}, _short(body))
    assert _title(answer) == "extra keys"


def test_every_seeded_object_conforms(world: World) -> None:
    """GET /object and GET /object/markdown of every object of the seeded space match the schemas.

    The objects are enumerated with the listing route (`GET /objects/structure`, outside the
    1.0.0 document but in ROUTES) for every structure, plus a title search as a cross-check.
    """
    read = world.sandbox.mint_token(scopes=("api:read",))
    structures = assert_conforms(
        OPERATIONS_BY_KEY["GET /space/structures"],
        world.api.send(OPERATIONS_BY_KEY["GET /space/structures"], read),
        {200},
    )
    ids: dict[str, str] = {}
    for structure in structures["structures"]:
        cursor: str | None = None
        while True:
            query = {"id": structure["id"], "pageSize": "100", **({"cursor": cursor} if cursor else {})}
            resp = world.api.http.get(
                "/objects/structure", params=query, headers={"Authorization": f"Bearer {read}"}
            )
            assert resp.status_code == 200, (
                f"GET /objects/structure {query}: {resp.status_code} {_short(resp.text)}"
            )
            page = resp.json()
            for item in page["results"]:
                assert item["structureId"] == structure["id"], item
                ids[item["id"]] = item["structureId"]
            cursor = page.get("nextCursor")
            if not page.get("hasMore") or not cursor:
                break
    assert len(ids) >= 30, f"the seeded space should have 30+ objects, listed {len(ids)}"
    get_op, md_op = OPERATIONS_BY_KEY["GET /object"], OPERATIONS_BY_KEY["GET /object/markdown"]
    kinds: set[str] = set()
    for index, (object_id, structure_id) in enumerate(sorted(ids.items())):
        if index % 25 == 0:
            read = world.sandbox.mint_token(scopes=("api:read",))  # stay inside the quota
        obj = assert_conforms(
            get_op,
            world.api.send(get_op, read, query={"id": object_id}),
            {200},
            f"seeded {structure_id} {object_id}",
        )
        assert obj["id"] == object_id and obj["structureId"] == structure_id, _short(obj)
        kinds.update(b["type"] for blocks in obj.get("blocks", {}).values() for b in blocks)
        kinds.update(v["type"] for v in obj["properties"].values())
        md = assert_conforms(
            md_op,
            world.api.send(md_op, read, query={"id": object_id}),
            {200},
            f"seeded {structure_id} {object_id}",
        )
        assert md["id"] == object_id and md["structureId"] == structure_id, _short(md)
    assert {"TextBlock", "title"} <= kinds, f"seeded content is too thin to be a test: {sorted(kinds)}"


def test_integral_float_is_an_integer(world: World, token: str) -> None:
    """`limit` is `type: integer`; in JSON Schema (and in JavaScript) 5.0 is the integer 5."""
    op = OPERATIONS_BY_KEY["POST /objects/search"]
    body = {"query": "e", "limit": 5.0}
    validator = request_validator(op)
    assert validator is not None and validator.is_valid(body)
    answer = assert_conforms(op, world.api.send(op, token, body=body), {200}, "limit 5.0")
    assert len(answer["results"]) <= 5


def test_non_finite_number_is_invalid_input(world: World, token: str) -> None:
    """`1e400` parses to Infinity, which the schema's number rules reject: 400, never a 5xx."""
    op = OPERATIONS_BY_KEY["POST /objects/search"]
    resp = world.api.http.post(
        op.path,
        content=b'{"query": "x", "limit": 1e400}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert_invalid_input(op, resp, "limit", "limit 1e400")


def test_oversized_body_is_413(world: World, token: str) -> None:
    """A body above the size limit is refused with 413 cap_invalid_input (documented status/code)."""
    op = OPERATIONS_BY_KEY["POST /object/markdown"]
    body = {"structureId": "RootPage", "markdown": "# Big\n\n" + "x" * 2_000_000}
    answer = assert_conforms(op, world.api.send(op, token, body=body), {413}, "2 MB markdown")
    assert answer["code"] == "cap_invalid_input"


# --- authentication, scopes, rate limits ----------------------------------------------------------


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_requires_a_valid_token(world: World, token: str, op: Operation) -> None:
    query, body = documented_request(op, world, token)
    for label, bearer in (("no token", None), ("unknown token", "cap-api-unknown-token-0000")):
        body_401 = assert_conforms(op, world.api.send(op, bearer, query=query, body=body), {401}, label)
        assert body_401["code"] == "cap_not_authenticated"


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_read_only_token(world: World, token: str, op: Operation) -> None:
    """Writes need api:write (403 with details.missingScopes); reads work with api:read alone."""
    query, body = documented_request(op, world, token)
    read_token = world.sandbox.mint_token(scopes=("api:read",))
    resp = world.api.send(op, read_token, query=query, body=body)
    if op.is_write:
        answer = assert_conforms(op, resp, {403}, "read-only token")
        assert answer["details"] == {"missingScopes": ["api:write"]}, answer
    else:
        assert_conforms(op, resp, {200}, "read-only token")


def test_rate_limit_exhaustion() -> None:
    """The documented quota of GET /space (10 per 60 s) is enforced with a documented 429."""
    op = OPERATIONS_BY_KEY["GET /space"]
    limit, window = op.rate_limit
    with SandboxServer(
        SandboxConfig(port=0, rate_limit_window=float(window), daily_note_delay=0.0)
    ) as sandbox:
        api = Api(sandbox.base_url.rstrip("/"))
        try:
            token = sandbox.mint_token(scopes=("api:read",))
            remaining: list[int] = []
            for _ in range(limit):
                resp = api.http.get("/space", headers={"Authorization": f"Bearer {token}"})
                assert_conforms(op, resp, {200})
                match = RATELIMIT_HEADER.match(resp.headers["ratelimit"])
                assert match
                remaining.append(int(match.group(2)))
            assert remaining == list(range(limit - 1, -1, -1)), f"remaining counts {remaining}"
            resp = api.http.get("/space", headers={"Authorization": f"Bearer {token}"})
            body = assert_conforms(op, resp, {429})
            assert body["code"] == "cap_rate_limit_exceeded"
            match = RATELIMIT_HEADER.match(resp.headers["ratelimit"])
            assert match and 0 < float(match.group(3)) <= window, resp.headers["ratelimit"]
            # other tokens and other routes have their own quota
            other = sandbox.mint_token(scopes=("api:read",))
            assert_conforms(op, api.http.get("/space", headers={"Authorization": f"Bearer {other}"}), {200})
            structures = OPERATIONS_BY_KEY["GET /space/structures"]
            assert_conforms(
                structures,
                api.http.get("/space/structures", headers={"Authorization": f"Bearer {token}"}),
                {200},
            )
        finally:
            api.close()


# --- the document itself, and the route table ------------------------------------------------------


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_documented_examples_match_their_schemas(op: Operation) -> None:
    """Sanity of the fixture and of the validators built from it."""
    validator = _response_validator(op)
    if validator is not None:
        assert not schema_errors(validator, op.response_example)
    if op.request_pointer:
        request = request_validator(op)
        assert request is not None
        assert not schema_errors(request, op.request_example)


def test_validators_reject_what_the_document_forbids() -> None:
    """The response validation can fail: unknown keys (additionalProperties false), bad types."""
    op = OPERATIONS_BY_KEY["GET /object"]
    validator = _response_validator(op)
    assert validator is not None
    example = op.response_example
    broken: list[dict[str, Any]] = []
    mutations: tuple[Callable[[dict[str, Any]], object], ...] = (
        lambda o: o.update(extra=1),
        lambda o: o["properties"]["title"]["title"].update(extra=1),
        lambda o: o["blocks"]["notes"][0].update(bogus=1),
        lambda o: o["blocks"]["notes"][0].update(type="Paragraph"),
        lambda o: o.update(id="not-a-uuid"),
        lambda o: o.pop("collections"),
        lambda o: o["properties"]["title"]["title"].update(value=3),
    )
    for mutate in mutations:
        candidate = copy.deepcopy(example)
        mutate(candidate)
        broken.append(candidate)
    accepted = [b for b in broken if validator.is_valid(b)]
    assert not accepted, f"validator accepted invalid bodies: {accepted}"
    nullable = copy.deepcopy(example)
    nullable["properties"]["title"]["title"]["value"] = None  # `nullable: true` in the document
    assert validator.is_valid(nullable)
    assert not Draft202012Validator(ERROR_SCHEMA).is_valid({"code": "cap_nope", "message": "x"})
    assert validator_at(f"{OPERATIONS_BY_KEY['GET /space'].response_pointer}").is_valid(
        {"id": RANDOM_UUID, "title": "x"}
    )


def test_document_is_the_1_0_0_contract() -> None:
    assert DOC["info"]["version"] == "1.0.0"
    assert len(OPERATIONS) == 15, OP_IDS


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_route_table_covers_operation(op: Operation) -> None:
    """`capacities_mcp.api.ROUTES` has the operation: method, path, rate limit, params, body."""
    routes = [r for r in ROUTES if r.method == op.method and r.path == op.path]
    assert len(routes) == 1, f"{op.key}: {len(routes)} routes in ROUTES"
    route = routes[0]
    limit, window = op.rate_limit
    assert (route.rate_limit, route.window_seconds) == (limit, window), (
        f"{op.key}: ROUTES says {route.rate_limit}/{route.window_seconds}s, the document {limit}/{window}s"
    )
    documented = {p["name"]: bool(p.get("required")) for p in op.parameters}
    if documented:
        assert route.params is not None, (
            f"{op.key}: documented query parameters {documented}, no params model"
        )
        schema = route.params.model_json_schema(by_alias=True)
        ours = {name: name in schema.get("required", []) for name in schema["properties"]}
        assert set(ours) == set(documented), (
            f"{op.key}: query parameters {sorted(ours)} vs documented {sorted(documented)}"
        )
        for name, required in ours.items():
            if (op.key, name) in _OPTIONAL_IN_SDK:
                continue  # optional in the SDK although the document marks it required
            assert required == documented[name], (
                f"{op.key}: {name} required={required}, documented {documented[name]}"
            )
    else:
        assert route.params is None, f"{op.key}: no documented query parameters"
    if op.request_pointer:
        assert route.body is not None, f"{op.key}: documented body, no body model"
        documented_fields = resolve(op.request_pointer)
        ours_schema = route.body.model_json_schema(by_alias=True)
        assert set(ours_schema["properties"]) == set(documented_fields["properties"]), (
            f"{op.key}: body fields {sorted(ours_schema['properties'])} "
            f"vs documented {sorted(documented_fields['properties'])}"
        )
        assert set(ours_schema.get("required", [])) == set(documented_fields.get("required", [])), (
            f"{op.key}: required {sorted(ours_schema.get('required', []))} "
            f"vs documented {sorted(documented_fields.get('required', []))}"
        )
    else:
        assert route.body is None, f"{op.key}: no documented body"
    assert (route.response is None) == (op.response_pointer is None), (
        f"{op.key}: response model {route.response} but documented body: {op.response_pointer is not None}"
    )


def test_route_table_has_no_undocumented_contract_route() -> None:
    documented = {op.key for op in OPERATIONS}
    extra = [r.key for r in ROUTES if r.in_contract and r.key not in documented]
    assert not extra, f"ROUTES marks {extra} as 1.0.0 contract routes, the document has no such operation"
