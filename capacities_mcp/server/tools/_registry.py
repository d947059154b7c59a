"""How one tool unit (input model + handler + output model) becomes an MCP tool.

Each tool module declares `ToolSpec`s. `register(server, spec)` gives the SDK a function whose
signature mirrors the input model field by field, so the advertised input schema carries our
descriptions and constraints, while the *validation* is ours:

* The SDK validates arguments against the signature and answers failures with raw pydantic text
  and no structured content. So every parameter is declared as "anything, with this schema"
  (`WithJsonSchema` + a pass-through validator) and the input model validates inside the tool,
  producing a tool error that names each field and rule, in the shape all our errors share.
* String parameters keep the exact annotation `str`: the SDK json-decodes any other string
  argument first, which would turn a title such as `[1, 2]` into a list.
* Nested arguments that a client sends as JSON text (`"blocks": "[{...}]"`) are decoded (the SDK
  does it for top-level parameters, `ToolInput` for everything else).
* The return annotation `Annotated[CallToolResult, OutputModel]` publishes the output schema,
  and the SDK validates each successful result against it.
* Nothing escapes: every exception becomes a tool error (`_errors.tool_error`).
* A call that omits a required argument never reaches the SDK's own check (whose reply is raw
  pydantic text with a docs URL and no structured content): `RequiredArguments`, a server
  middleware (the SDK's public hook), answers it with the same tool error as any other invalid
  input, naming each field and rule.
"""

from __future__ import annotations

import contextlib
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar, get_args, get_origin

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import (
    BaseModel,
    ConfigDict,
    GetJsonSchemaHandler,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticUndefined

from .._errors import ERROR_PAYLOAD_SCHEMA, tool_error
from .._state import ServerState

__all__ = ["CompactSchema", "ToolInput", "ToolOutput", "ToolReply", "ToolSpec", "register_spec", "state_of"]

InputT = TypeVar("InputT", bound="ToolInput")


class ToolInput(BaseModel):
    """Base of every tool's input model: decodes JSON-text values of non-string fields."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _decode_json_text(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        decoded = dict(data)
        for name, value in data.items():
            info = cls.model_fields.get(name)
            if info is None or _is_text(info.annotation):
                continue
            if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
                with contextlib.suppress(ValueError):  # not JSON after all: validation will say why
                    decoded[name] = json.loads(value)
        return decoded


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

    Its published schema is "this model, or `{"error": ...}`": an error result carries the error
    payload as structured content, and strict clients check that against the output schema.
    """

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = super().__get_pydantic_json_schema__(core_schema, handler)
        target = handler.resolve_ref_schema(schema)
        success_required = target.pop("required", [])
        target.setdefault("properties", {})["error"] = ERROR_PAYLOAD_SCHEMA
        target["anyOf"] = [{"required": success_required}, {"required": ["error"]}]
        return schema


@dataclass(frozen=True)
class ToolReply:
    """A handler's success: Markdown for the model, data for programs."""

    text: str
    data: ToolOutput


@dataclass
class ToolCall:
    """What a handler gets besides its input: the shared state and the MCP context."""

    state: ServerState
    ctx: Context[Any, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolSpec(Generic[InputT]):
    """One tool: name, description, annotations, models and the handler."""

    name: str
    title: str
    description: str
    input_model: type[InputT]
    output_model: type[ToolOutput]
    handler: Callable[[ToolCall, InputT], Awaitable[ToolReply]]
    annotations: ToolAnnotations
    # Extra parameters filled by the SDK, not the model (e.g. an elicitation `Resolve`).
    resolved: Mapping[str, Any] = field(default_factory=dict)


def state_of(ctx: Context[Any, Any]) -> ServerState:
    state = ctx.request_context.lifespan_context
    if not isinstance(state, ServerState):
        raise RuntimeError("the server's lifespan did not provide a ServerState")
    return state


def _strip_titles(schema: Any) -> Any:
    """Drop pydantic's auto-generated `title`s: they repeat the field name and cost tokens."""
    if isinstance(schema, dict):
        return {k: _strip_titles(v) for k, v in schema.items() if k != "title" or not isinstance(v, str)}
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


def _compact_field(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` with `default: null` is just an optional X: say so in fewer tokens.

    Optional arguments may still be sent as null (it means "not given").
    """
    schema = dict(schema)
    options = schema.get("anyOf")
    if isinstance(options, list):
        rest = [o for o in options if o != {"type": "null"}]
        if len(rest) == 1 and len(rest) < len(options):
            del schema["anyOf"]
            schema = {**rest[0], **schema}
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    return schema


def _is_text(annotation: Any) -> bool:
    """`str` or `str | None`: free text the SDK must not json-decode."""
    if annotation is str:
        return True
    args = [a for a in get_args(annotation) if a is not type(None)]
    return get_origin(annotation) is not None and args == [str] and type(None) in get_args(annotation)


def _passthrough(value: Any) -> Any:
    return value


def input_schema(model: type[ToolInput]) -> dict[str, Any]:
    schema = _strip_titles(model.model_json_schema())
    if "$defs" in schema or "$ref" in json.dumps(schema):
        raise TypeError(f"{model.__name__}: tool input schemas must be self-contained (no $defs)")
    return dict(schema)


class RequiredArguments:
    """Server middleware: a `tools/call` of one of our tools that lacks a required argument gets
    our tool error (every field and rule, as `invalid_arguments`) instead of the SDK's raw one."""

    def __init__(self) -> None:
        self.specs: dict[str, tuple[ToolSpec[Any], frozenset[str]]] = {}

    @classmethod
    def on(cls, server: MCPServer[Any]) -> RequiredArguments:
        """The one instance on `server`, installed on first use."""
        for middleware in server.middleware:
            if isinstance(middleware, cls):
                return middleware
        created = cls()
        server.middleware.append(created)
        return created

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = ctx.params
        if ctx.method == "tools/call" and isinstance(params, Mapping):
            spec, required = self.specs.get(str(params.get("name")), (None, frozenset()))
            arguments = params.get("arguments")
            if spec is not None and (arguments is None or isinstance(arguments, Mapping)):
                given = {k: v for k, v in (arguments or {}).items() if v is not None}
                if not required <= given.keys():
                    try:
                        spec.input_model.model_validate(given)
                    except Exception as exc:
                        return tool_error(exc, tool=spec.name)
        return await call_next(ctx)


def register_spec(server: MCPServer[Any], spec: ToolSpec[Any]) -> None:
    """Add `spec` to `server` as an MCP tool (see the module docstring for how)."""
    schema = input_schema(spec.input_model)
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    RequiredArguments.on(server).specs[spec.name] = (spec, frozenset(required))

    parameters: list[inspect.Parameter] = []
    annotations: dict[str, Any] = {}
    for name, info in spec.input_model.model_fields.items():
        field_schema = _compact_field(properties[name])
        base: Any = str if _is_text(info.annotation) else Any
        annotation = Annotated[base, PlainValidator(_passthrough), WithJsonSchema(field_schema)]
        # The advertised default is the model's (the SDK would otherwise print `null`).
        default: Any = inspect.Parameter.empty
        if name not in required:
            default = None if info.default is PydanticUndefined else info.default
        parameters.append(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        )
        annotations[name] = annotation
    for name, annotation in spec.resolved.items():
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation))
        annotations[name] = annotation
    parameters.append(inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context))
    annotations["ctx"] = Context
    returns = Annotated[CallToolResult, spec.output_model]
    annotations["return"] = returns

    resolved_names = tuple(spec.resolved)

    async def run_tool(**kwargs: Any) -> CallToolResult:
        ctx = kwargs.pop("ctx")
        extra = {name: kwargs.pop(name) for name in resolved_names}
        given = {k: v for k, v in kwargs.items() if v is not None}
        try:
            arguments = spec.input_model.model_validate(given)
            call = ToolCall(state=state_of(ctx), ctx=ctx, extra=extra)
            reply = await spec.handler(call, arguments)
        except Exception as exc:  # every failure is reported, none escapes
            return tool_error(exc, tool=spec.name)
        return CallToolResult(
            content=[TextContent(type="text", text=reply.text)],
            structured_content=reply.data.model_dump(mode="json"),
        )

    run_tool.__name__ = spec.name
    run_tool.__qualname__ = spec.name
    run_tool.__doc__ = spec.description
    run_tool.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
    run_tool.__annotations__ = annotations
    server.add_tool(
        run_tool,
        name=spec.name,
        title=spec.title,
        description=spec.description,
        annotations=spec.annotations,
    )
