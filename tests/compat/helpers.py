"""Helpers for the agent-framework tests (no tests here): server configurations, schema checks,
the stdio server command, and the call sequence every framework runs.

The configurations, the tool listing and the token measure come from `bench/tools_list_tokens.py`
(loaded by path): one definition for the budget test, the bench and these tests.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
from mcp import Client
from mcp.types import CallToolResult, TextContent

from capacities_mcp.cli import build_parser
from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server import build_app, resolve_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load_bench_module() -> ModuleType:
    path = REPO_ROOT / "bench" / "tools_list_tokens.py"
    spec = importlib.util.spec_from_file_location("bench_tools_list_tokens", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_bench = _load_bench_module()
CONFIGURATIONS: dict[str, tuple[str, ...]] = _bench.CONFIGURATIONS
BUDGETS: dict[str, int] = _bench.BUDGETS
list_tools = _bench.list_tools
tool_tokens = _bench.tool_tokens

# An id no object has (the sandbox answers 404 for it, as the API would).
MISSING_ID = "00000000-0000-4000-8000-000000000000"
TASK_TITLE = "Draft Q3 planning agenda"  # a seeded task of the demo space


# --- schema checks ------------------------------------------------------------------------------


def _subschemas(schema: Mapping[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    for key in ("properties", "$defs", "definitions"):
        for name, sub in (schema.get(key) or {}).items():
            yield f"{path}.{name}", sub
    for key in ("anyOf", "oneOf", "allOf", "any_of", "one_of"):
        for index, sub in enumerate(schema.get(key) or []):
            yield f"{path}|{index}", sub
    if isinstance(schema.get("items"), Mapping):
        yield f"{path}[]", schema["items"]


def _is_object(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return "object" in kinds or "OBJECT" in kinds or "properties" in schema


def _is_untyped(schema: Mapping[str, Any]) -> bool:
    """Accepts any value (objects included): no type, no union, no reference, no fixed values."""
    shaping = ("type", "anyOf", "oneOf", "allOf", "any_of", "one_of", "$ref", "enum", "const")
    return not any(key in schema for key in shaping)


def open_objects(schema: Any, path: str = "$") -> list[str]:
    """Paths of every place `schema` admits properties nobody declared.

    That is: `additionalProperties` true or a schema (a free map), an object without declared
    properties (the root of a tool without parameters excepted), `patternProperties`, or a
    subschema with no type at all. Works on JSON Schema and on google-genai's `Schema` dumps.
    """
    if not isinstance(schema, Mapping):
        return [] if schema is not True else [path]
    found: list[str] = []
    extra = schema.get("additionalProperties", schema.get("additional_properties"))
    if extra is True or isinstance(extra, Mapping):
        found.append(f"{path} (additionalProperties)")
    if "patternProperties" in schema:
        found.append(f"{path} (patternProperties)")
    if _is_object(schema) and not schema.get("properties") and path != "$":
        found.append(f"{path} (object without properties)")
    if _is_untyped(schema) and path != "$":
        found.append(f"{path} (no type)")
    for sub_path, sub in _subschemas(schema, path):
        found.extend(open_objects(sub, sub_path))
    return found


def optional_parameters(schema: Mapping[str, Any]) -> list[str]:
    required = set(schema.get("required") or [])
    return [name for name in schema.get("properties") or {} if name not in required]


def accepts_null(prop: Mapping[str, Any], root: Mapping[str, Any]) -> bool:
    """Does this property schema (references resolved against `root`) accept JSON null?"""
    if prop.get("nullable") is True:
        return True
    document = {**prop, **{key: root[key] for key in ("$defs", "definitions") if key in root}}
    return bool(jsonschema.Draft202012Validator(document).is_valid(None))


def gemini_accepts_null(schema: Mapping[str, Any]) -> bool:
    """The same question for a google-genai `Schema` dump (nullable flag or a NULL branch)."""
    if schema.get("nullable") is True or schema.get("type") == "NULL":
        return True
    return any(gemini_accepts_null(branch) for branch in schema.get("any_of") or [])


def property_paths(schema: Any, path: str = "") -> Iterator[str]:
    """Dotted names of every declared property, at any depth (union branches merged)."""
    if not isinstance(schema, Mapping):
        return
    for name, sub in (schema.get("properties") or {}).items():
        yield f"{path}.{name}"
        yield from property_paths(sub, f"{path}.{name}")
    for key in ("anyOf", "oneOf", "allOf", "any_of", "one_of"):
        for branch in schema.get(key) or []:
            yield from property_paths(branch, path)
    yield from property_paths(schema.get("items"), f"{path}[]")


def check_converted(original: Mapping[str, Any], converted: Mapping[str, Any]) -> list[str]:
    """What a strict converter's output must keep: properties, closed objects, nullable optionals."""
    problems = [f"open: {where}" for where in open_objects(converted)]
    lost = set(property_paths(original)) - set(property_paths(converted))
    if lost:
        problems.append(f"properties lost: {sorted(lost)}")
    for name in optional_parameters(original):
        prop = (converted.get("properties") or {}).get(name)
        if prop is None or not accepts_null(prop, converted):
            problems.append(f"optional '{name}' does not accept null")
    return problems


# --- servers ------------------------------------------------------------------------------------


def server_env(sandbox: SandboxServer, token_store: Path, **extra: str) -> dict[str, str]:
    """The environment of a `capacities-mcp serve` subprocess pointed at `sandbox`.

    The current environment minus any Capacities settings (a developer's own token must never
    reach a test server), an empty token store, and our package importable.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAPACITIES_")}
    python_path = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env.update(
        CAPACITIES_API_URL=sandbox.base_url,
        CAPACITIES_API_TOKEN=sandbox.api_token,
        CAPACITIES_MCP_TOKEN_STORE=str(token_store),
        PYTHONPATH=os.pathsep.join(python_path),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


SERVER_COMMAND = sys.executable


def server_args(*options: str) -> list[str]:
    """Arguments of `SERVER_COMMAND` that start the server over stdio, as a host does."""
    return ["-m", "capacities_mcp", "serve", *options]


async def call_in_process(
    env: Mapping[str, str], calls: Sequence[tuple[str, dict[str, Any]]], *options: str
) -> list[CallToolResult]:
    """Our own results for `calls`, through the plain MCP SDK client (the reference)."""
    namespace = build_parser().parse_args(["serve", *options])
    app = build_app(resolve_settings(namespace, env))
    async with Client(app.server) as client:
        return [await client.call_tool(name, arguments) for name, arguments in calls]


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


# --- the sequence every framework runs ----------------------------------------------------------


@dataclass(frozen=True)
class Step:
    tool: str
    arguments: dict[str, Any]


def agent_script(task_id: str, marker: str) -> list[Step]:
    """get_space → search_objects → get_object → append_blocks → one call that fails."""
    return [
        Step("get_space", {}),
        Step("search_objects", {"query": TASK_TITLE}),
        Step("get_object", {"id": task_id}),
        Step("append_blocks", {"id": task_id, "markdown": f"- [ ] {marker}"}),
        Step("get_object", {"id": MISSING_ID}),
    ]


@dataclass(frozen=True)
class Reference:
    """What our server answers to the read steps, and the advice of the failing step."""

    texts: dict[str, str]  # tool name → Markdown text (get_space, search_objects, get_object)
    error_text: str
    error_next_step: str
    task_id: str


async def reference(env: Mapping[str, str]) -> Reference:
    """Our Markdown for the read steps and the error of the failing one, in the default config."""
    found = await call_in_process(env, [("search_objects", {"query": TASK_TITLE})])
    task_id = _first_uuid(text_of(found[0]))
    reads = [("get_space", {}), ("search_objects", {"query": TASK_TITLE}), ("get_object", {"id": task_id})]
    results = await call_in_process(env, [*reads, ("get_object", {"id": MISSING_ID})])
    error = results[-1]
    assert error.is_error and error.structured_content is not None, text_of(error)
    return Reference(
        texts={name: text_of(result) for (name, _), result in zip(reads, results, strict=False)},
        error_text=text_of(error),
        error_next_step=error.structured_content["error"]["next_step"],
        task_id=task_id,
    )


async def object_text(env: Mapping[str, str], object_id: str) -> str:
    """The object's Markdown as it is now (to see that a framework's write arrived)."""
    (result,) = await call_in_process(env, [("get_object", {"id": object_id})])
    return text_of(result)


def _first_uuid(text: str) -> str:
    match = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)
    assert match, f"no object id in:\n{text}"
    return match.group(0)
