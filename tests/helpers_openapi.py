"""The official OpenAPI document of API 1.0.0 and its one conversion to JSON Schema, for every test area.

* `OPENAPI_PATH` / `DOC`: the one copy of the document in the repository (tests/fixtures),
  found relative to this file so the suite runs from any folder.
* `CONVERTED` / `validator_at` / `resolve`: the document as JSON Schema 2020-12 (OpenAPI 3.0
  `nullable` translated, OpenAPI-only keywords dropped), `$ref`s resolved inside the document.
* `Operation` / `OPERATIONS`: every operation of the document, with its schemas' pointers and
  its documented rate limit; `response_validator` / `request_validator` for one operation.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
from referencing import Registry
from referencing.jsonschema import DRAFT202012

OPENAPI_PATH = Path(__file__).resolve().parent / "fixtures" / "capacities-openapi-1.0.0.json"
SPEC_URI = "urn:capacities:openapi-1.0.0"
DOC: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))

_RATE_LIMIT = re.compile(r"\*\*Rate limit\*\*: (\d+) requests per (\d+) seconds")
_OPENAPI_ONLY = {"discriminator", "example", "examples", "xml", "externalDocs", "readOnly", "writeOnly"}


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema object -> JSON Schema 2020-12 (`nullable`, OpenAPI-only keywords)."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: to_json_schema(value)
        for key, value in node.items()
        if key not in _OPENAPI_ONLY and not key.startswith("x-") and key != "nullable"
    }
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _convert_document(doc: dict[str, Any]) -> dict[str, Any]:
    """Convert only schema objects: examples elsewhere in the document stay as documented."""
    converted = copy.deepcopy(doc)
    converted["components"]["schemas"] = to_json_schema(doc["components"]["schemas"])
    for path_item in converted["paths"].values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                parameter["schema"] = to_json_schema(parameter["schema"])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body and "schema" in body:
                body["schema"] = to_json_schema(body["schema"])
            for response in operation.get("responses", {}).values():
                content = response.get("content", {}).get("application/json")
                if content and "schema" in content:
                    content["schema"] = to_json_schema(content["schema"])
    return converted


CONVERTED: dict[str, Any] = _convert_document(DOC)
REGISTRY: Registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(CONVERTED))


def validator_at(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=REGISTRY)


def resolve(pointer: str) -> Any:
    node: Any = CONVERTED
    for raw in pointer.lstrip("/").split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def pointer(self) -> str:
        return f"/paths/{_escape(self.path)}/{self.method.lower()}"

    @property
    def rate_limit(self) -> tuple[int, int]:
        match = _RATE_LIMIT.search(self.spec.get("description", ""))
        assert match, f"{self.key}: no '**Rate limit**: N requests per W seconds' in the description"
        return int(match.group(1)), int(match.group(2))

    @property
    def response_pointer(self) -> str | None:
        content = self.spec["responses"]["200"].get("content", {})
        if "application/json" not in content:
            return None
        return f"{self.pointer}/responses/200/content/application~1json/schema"

    @property
    def response_example(self) -> Any:
        return self.spec["responses"]["200"].get("content", {}).get("application/json", {}).get("example")

    @property
    def request_pointer(self) -> str | None:
        if "application/json" not in self.spec.get("requestBody", {}).get("content", {}):
            return None
        return f"{self.pointer}/requestBody/content/application~1json/schema"

    @property
    def request_example(self) -> Any:
        return self.spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example")

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return [p for p in resolve(self.pointer).get("parameters", []) if p.get("in") == "query"]

    @property
    def is_write(self) -> bool:
        """Scopes per the docs: reads are GETs and search; everything else needs api:write."""
        return not (self.method == "GET" or self.key == "POST /objects/search")


def _operations() -> tuple[Operation, ...]:
    return tuple(
        Operation(method.upper(), path, spec)
        for path, item in DOC["paths"].items()
        for method, spec in item.items()
    )


OPERATIONS: tuple[Operation, ...] = _operations()
OPERATIONS_BY_KEY: dict[str, Operation] = {op.key: op for op in OPERATIONS}


def response_validator(op: Operation) -> Draft202012Validator | None:
    pointer = op.response_pointer
    return validator_at(pointer) if pointer else None


def request_validator(op: Operation) -> Draft202012Validator | None:
    pointer = op.request_pointer
    return validator_at(pointer) if pointer else None
