"""Helpers for the schema-driven contract test (the document itself: tests/helpers_openapi.py).

* `generation_schema`: a self-contained copy of a request schema for `hypothesis-jsonschema`
  (refs inlined, recursion cut off at a fixed depth, OpenAPI-only keywords removed).
* `zod_refinements_hold`: the SDK's `.refine()` rules, which a JSON Schema cannot express.
* `ERROR_SCHEMA`: the documented error body `{code, message, details?}`. Its codes are the
  client's `api.ERROR_CODES`: the OpenAPI document names none, and test_official_sdk.py checks
  that table against the official SDK's own enum.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

from capacities_mcp.api import ERROR_CODES
from tests.helpers_openapi import Operation, resolve, validator_at

# The error body (developers.capacities.io/api/overview/errors + the SDK's error parser).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "additionalProperties": False,
    "properties": {
        "code": {"enum": list(ERROR_CODES)},
        "message": {"type": "string", "minLength": 1},
        "details": {},
    },
}
SCOPE_ERROR_SCHEMA: dict[str, Any] = {
    **ERROR_SCHEMA,
    "required": ["code", "message", "details"],
    "properties": {
        **ERROR_SCHEMA["properties"],
        "code": {"const": "cap_scope_insufficient"},
        "details": {
            "type": "object",
            "required": ["missingScopes"],
            "properties": {
                "missingScopes": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"enum": ["api:read", "api:write"]},
                }
            },
        },
    },
}
# Which error code goes with which status (SDK `inferCodeFromStatus`, docs' error table).
STATUS_CODES: dict[int, set[str]] = {
    400: {"cap_invalid_input"},
    401: {"cap_not_authenticated"},
    403: {"cap_scope_insufficient", "cap_object_creation_quota_reached"},
    404: {"cap_not_found"},
    413: {"cap_invalid_input"},
    429: {"cap_rate_limit_exceeded"},
}
RATELIMIT_HEADER = re.compile(r"^limit=(\d+), remaining=(\d+), reset=(\d+(?:\.\d+)?)$")


def schema_errors(validator: Draft202012Validator, instance: Any, limit: int = 8) -> list[str]:
    """Readable errors, deepest first (best_match-like), with JSON paths."""
    errors = sorted(validator.iter_errors(instance), key=lambda e: -len(list(e.absolute_path)))
    out: list[str] = []
    for error in errors[:limit]:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        detail = error.message
        if error.context:
            # oneOf/anyOf: report the branch that was meant (its `type` discriminator matched)
            branches: dict[Any, list[Any]] = {}
            for sub_error in error.context:
                branches.setdefault(sub_error.schema_path[0], []).append(sub_error)

            def discriminator_mismatch(errs: list[Any]) -> bool:
                return any(
                    e.validator in ("enum", "const") and list(e.relative_path)[-1:] == ["type"] for e in errs
                )

            candidates = [errs for errs in branches.values() if not discriminator_mismatch(errs)]
            best = min(candidates or list(branches.values()), key=len)[0]
            sub = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in best.absolute_path)
            detail = f"{detail[:200]} -> {sub or '$'}: {best.message[:300]}"
        out.append(f"${path}: {detail[:600]}")
    return out


# --- generation ------------------------------------------------------------------------------


MAP_KEY = "generated-key"


def generation_schema(pointer: str, recursion_limit: int = 1, closed: bool = True) -> dict[str, Any]:
    """A self-contained schema for `hypothesis-jsonschema`.

    Refs are inlined; a ref seen more than `recursion_limit` times on the current path becomes
    `{"not": {}}` (so recursive `blocks` arrays end up empty). `closed` adds
    `additionalProperties: false` where the document leaves objects open (request bodies), so the
    generated bodies hold only known keys (unknown keys get their own deterministic test). A
    pattern's final `$` becomes `\\Z`: Python's `$` also matches before a trailing newline, which
    JavaScript's (zod's) does not.
    """

    def inline(node: Any, seen: dict[str, int]) -> Any:
        if isinstance(node, list):
            return [inline(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            target = resolve(ref.split("#", 1)[1])
            if seen.get(ref, 0) >= recursion_limit:
                return {"not": {}}
            merged = {**{k: v for k, v in node.items() if k != "$ref"}, **target}
            return inline(merged, {**seen, ref: seen.get(ref, 0) + 1})
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("description", "title", "$schema"):
                continue
            if key == "format" and "pattern" in node:
                continue  # the pattern says it all (uuid), and is what zod checks
            if key == "pattern" and isinstance(value, str) and value.endswith("$"):
                out[key] = value[:-1] + "\\Z"
                continue
            out[key] = inline(value, seen)
        if closed and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        if "properties" not in out and isinstance(out.get("additionalProperties"), dict):
            # A map (block property id -> blocks, property id -> value): generate one fixed key
            # (the tests re-key it to a real id); open key names make generation very slow.
            out = {**out, "properties": {MAP_KEY: out["additionalProperties"]}, "additionalProperties": False}
        return out

    schema = inline(resolve(pointer), {})
    assert isinstance(schema, dict)
    return schema


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def zod_refinements_hold(op: Operation, body: Any) -> bool:
    """The SDK's refinements that the OpenAPI schema cannot express (see capacities-api.md §3.3)."""
    if not isinstance(body, dict):
        return True
    key = op.key
    if key in ("POST /blocks/append", "POST /blocks/daily-note/append") and (
        ("blocks" in body) == ("markdown" in body)
    ):
        return False
    if key == "POST /object/url" and "blocks" in body and "markdown" in body:
        return False
    if key == "PATCH /object" and not any(
        k in body for k in ("properties", "collections", "blocks", "deleteRequested")
    ):
        return False
    if key == "POST /objects/search" and isinstance(body.get("query"), str):
        stripped = body["query"].strip()
        if not 1 <= len(stripped) <= 512:
            return False
    for node in _walk(body):
        kind = node.get("type")
        if kind == "LinkToken" and sum(k in node for k in ("url", "entityId", "date")) != 1:
            return False
        if kind == "GridBlock" and "columns" in node and len(node["columns"]) < 2:
            return False
        if kind == "EntityBlock" and "date" in node:
            return False
    return True


def wrong_type_value(pointer: str) -> Any:
    """A JSON value that the schema at `pointer` rejects whatever its content (wrong JSON type)."""
    validator = validator_at(pointer)
    for candidate in (12345, "not-the-right-type", True, [1, 2], {"unexpected": 1}):
        if not validator.is_valid(candidate):
            return candidate
    raise AssertionError(f"no wrong-typed value for the schema at {pointer}")
