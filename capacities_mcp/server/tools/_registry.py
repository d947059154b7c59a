"""What one tool unit is: an input model, a handler, an output model, and its hints.

Each tool module declares `ToolSpec`s; `_catalog.ToolCatalog` serves them. The schemas published
here are built for every agent framework's strict converter (OpenAI strict mode, Gemini):

* no open objects: every object lists its properties (and, for google-genai's sake, carries no
  `additionalProperties` keyword: the strict converters close objects themselves);
* every optional parameter is nullable, and null means "not given" (the handler sees the default);
* no pydantic `title`s and no `$defs`: each schema is self-contained and costs few tokens.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, get_args, get_origin

from mcp.server.mcpserver import Context
from mcp.types import Tool as MCPTool
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from .._errors import ERROR_PAYLOAD_SCHEMA
from .._serving import StateHolder, active_state
from .._state import ServerState

__all__ = [
    "CompactSchema",
    "ToolCall",
    "ToolInput",
    "ToolOutput",
    "ToolReply",
    "ToolSpec",
    "hints",
    "input_schema",
    "output_schema",
    "published_tool",
    "state_of",
]

InputT = TypeVar("InputT", bound="ToolInput")


def _drop_nulls(value: dict[str, Any]) -> dict[str, Any]:
    """Null means "not given": drop it so the model's default applies (nested models do the same
    for their own keys)."""
    return {k: v for k, v in value.items() if v is not None}


class StrictModel(BaseModel):
    """A model whose unknown keys are errors (a misspelt argument must not vanish silently)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _nulls_mean_not_given(cls, data: Any) -> Any:
        return _drop_nulls(data) if isinstance(data, dict) else data


class ToolInput(StrictModel):
    """Base of every tool's input model; also decodes JSON-text values of non-string fields.

    Some clients send nested arguments as JSON text (`"blocks": "[{...}]"`).
    """

    @model_validator(mode="before")
    @classmethod
    def _nulls_mean_not_given(cls, data: Any) -> Any:  # replaces StrictModel's: decode, then drop
        if not isinstance(data, dict):
            return data
        decoded = dict(data)
        for name, value in data.items():
            info = cls.model_fields.get(name)
            if info is None or _is_text(info.annotation):
                continue
            if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
                # Not JSON after all (or nested past any sense): validation will say why.
                with contextlib.suppress(ValueError, RecursionError):
                    decoded[name] = json.loads(value)
        return _drop_nulls(decoded)


def _is_text(annotation: Any) -> bool:
    """`str` or `str | None`: free text that must never be json-decoded (a title "[1, 2]")."""
    if annotation is str:
        return True
    args = [a for a in get_args(annotation) if a is not type(None)]
    return get_origin(annotation) is not None and args == [str]


class CompactSchema(BaseModel):
    """A model whose JSON schema leaves out pydantic's generated titles (tokens, no meaning)."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        target.pop("title", None)
        for prop in target.get("properties", {}).values():
            if isinstance(prop, dict):
                prop.pop("title", None)
        return schema


class ToolOutput(CompactSchema):
    """Base of every output model (snake_case on the wire, no aliases).

    Built on first use: without --structured-output tools/list never needs their schemas, and a
    host starts the server for every session (start-up time counts).
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)


@dataclass(frozen=True)
class ToolReply:
    """A handler's success: Markdown for the model, data for programs (`--structured-output`)."""

    text: str
    data: ToolOutput


@dataclass
class ToolCall:
    """What a handler gets besides its input: the shared state and the MCP context."""

    state: ServerState
    ctx: Context[Any, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def hints(
    *, read_only: bool, idempotent: bool, destructive: bool = False, open_world: bool = False
) -> ToolAnnotations:
    """The four behaviour hints of a tool (its title is the spec's own, not repeated here)."""
    return ToolAnnotations(
        read_only_hint=read_only,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=open_world,
    )


@dataclass(frozen=True)
class ToolSpec(Generic[InputT]):
    """One tool: name, title, description, hints, models and the handler."""

    name: str
    title: str
    description: str
    input_model: type[InputT]
    output_model: type[ToolOutput]
    handler: Callable[[ToolCall, InputT], Awaitable[ToolReply]]
    annotations: ToolAnnotations
    # Values the SDK resolves before the handler runs (e.g. an elicitation), by parameter name:
    # `Annotated[T, Resolve(fn)]` as for a decorated SDK tool.
    resolved: Mapping[str, Any] = field(default_factory=dict)

    @property
    def writes(self) -> bool:
        return self.annotations.read_only_hint is not True


def state_of(ctx: Context[Any, Any]) -> ServerState:
    """The caller's state: the one `serving` set (multi-user), else the lifespan's (whose holder
    the tool call path has opened)."""
    active = active_state()
    if active is not None:
        return active
    state = ctx.request_context.lifespan_context
    if isinstance(state, StateHolder):
        state = state.current_state()
    if not isinstance(state, ServerState):
        raise RuntimeError("the server's lifespan did not provide a ServerState")
    return state


# --- schemas -----------------------------------------------------------------------------------


def _strip_titles(schema: Any) -> Any:
    """Drop pydantic's auto-generated `title`s: they repeat the field name and cost tokens."""
    if isinstance(schema, dict):
        return {k: _strip_titles(v) for k, v in schema.items() if k != "title" or not isinstance(v, str)}
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


_NULL = {"type": "null"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null, as `anyOf` branches of one `type` each: the spelling every converter
    reads (a type list such as ["string", "null"] is lost on single-type dialects like Gemini's)."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        return schema if _NULL in options else {**schema, "anyOf": [*options, _NULL]}
    outer = ("description", "default")  # about the parameter, not about one of its shapes
    nullable: dict[str, Any] = {"anyOf": [{k: v for k, v in schema.items() if k not in outer}, _NULL]}
    nullable.update({k: schema[k] for k in outer if k in schema})
    return nullable


def _subschemas(schema: dict[str, Any], change: Callable[[Any], Any]) -> dict[str, Any]:
    """`schema` with `change` applied to each direct subschema (not to keywords' other values:
    a property may well be called "type" or "properties")."""
    out = dict(schema)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {name: change(sub) for name, sub in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = change(out["items"])
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(out.get(key), list):
            out[key] = [change(sub) for sub in out[key]]
    return out


def _close_objects(schema: Any) -> Any:
    """Every object with its properties only, and every optional property nullable, at every depth."""
    if not isinstance(schema, dict):
        return schema
    closed = _subschemas(schema, _close_objects)
    if closed.get("type") == "object" or "properties" in closed:
        # No `additionalProperties` at all: strict converters close each object themselves, and
        # google-genai crashes on the keyword whatever its value (it walks a boolean as a schema).
        if closed.pop("additionalProperties", False) is not False:
            raise TypeError("tool input schemas must not contain open objects (additionalProperties)")
        required = set(closed.get("required", []))
        properties = closed.setdefault("properties", {})
        for name, prop in list(properties.items()):
            if name not in required:
                properties[name] = _nullable({k: v for k, v in prop.items() if (k, v) != ("default", None)})
    return closed


def _single_null_branch(schema: Any) -> Any:
    """`anyOf: [X, null]` that pydantic wrote for `X | None` becomes X: `_nullable` adds null back
    once, in its compact form (a type list for scalars)."""
    if not isinstance(schema, dict):
        return schema
    schema = _subschemas(schema, _single_null_branch)
    options = schema.get("anyOf")
    if isinstance(options, list) and _NULL in options:
        rest = [o for o in options if o != _NULL]
        if len(rest) == 1:
            del schema["anyOf"]
            schema = {**rest[0], **schema}
    if schema.get("default", 0) is None:
        del schema["default"]
    return schema


def _inline_refs(schema: Any, definitions: Mapping[str, Any]) -> Any:
    """Nested models in place of `$ref`s: some converters (Gemini's) cannot follow references."""
    if isinstance(schema, list):
        return [_inline_refs(item, definitions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = definitions[schema["$ref"].rsplit("/", 1)[-1]]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return {**_inline_refs(target, definitions), **rest}
    return {k: _inline_refs(v, definitions) for k, v in schema.items()}


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The published input schema: self-contained, closed, optional means nullable."""
    schema = _strip_titles(model.model_json_schema())
    definitions = schema.pop("$defs", {})
    schema = _inline_refs(schema, definitions)
    if "$ref" in json.dumps(schema):
        raise TypeError(f"{model.__name__}: tool input schemas cannot be recursive")
    return dict(_close_objects(_single_null_branch(schema)))


def output_schema(model: type[ToolOutput]) -> dict[str, Any]:
    """The success shape, or `{"error": ...}`: strict clients check error payloads against it."""
    schema = _strip_titles(model.model_json_schema())
    success_required = schema.pop("required", [])
    schema.setdefault("properties", {})["error"] = ERROR_PAYLOAD_SCHEMA
    schema["anyOf"] = [{"required": success_required}, {"required": ["error"]}]
    return dict(schema)


def published_tool(spec: ToolSpec[Any]) -> dict[str, Any]:
    """The tool as clients see it (MCP field names), output schema included."""
    tool = MCPTool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=input_schema(spec.input_model),
        output_schema=output_schema(spec.output_model),
        annotations=spec.annotations,
    )
    return tool.model_dump(mode="json", by_alias=True, exclude_none=True)
