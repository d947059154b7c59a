"""The tools one server serves, straight from their `ToolSpec`s.

`ToolServer` overrides the SDK's `list_tools` / `call_tool` (both public in mcp 2.3) so the specs
are served as they are: our schemas are published unchanged, our validation and error texts
answer every call, and nothing is synthesized to fit the SDK's function-based tools. Resolvers
(an elicitation before a permanent delete) still run through the SDK's own resolution, which
speaks both protocol eras.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp.server.lowlevel.server import NotificationOptions
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import (
    Resolve,
    build_resolver_plans,
    find_resolved_parameters,
    resolve_arguments,
)
from mcp.types import CallToolResult, InputRequiredResult, TextContent
from mcp.types import Tool as MCPTool
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from capacities_mcp.api import Issue

from .._connection import WRITE_SCOPE, WRITE_SCOPE_ADVICE, Connection
from .._errors import ErrorInfo, ToolInputError, error_result, tool_error
from .._progress import call_progress
from .._render import bound_result
from .._state import ServerState, active_state
from ._registry import ToolCall, ToolInput, ToolSpec, input_schema, output_schema, state_of

__all__ = ["ToolCatalog", "ToolServer"]

READ_ONLY_REFUSAL = "this server is read-only (started with --read-only)"

_log = logging.getLogger("capacities_mcp.server.tools")


@dataclass(frozen=True)
class _Resolvers:
    """The SDK's resolution plan for a spec's `resolved` parameters."""

    params: dict[str, tuple[Resolve, bool]]
    plans: dict[Hashable, Any]

    @classmethod
    def of(cls, spec: ToolSpec[Any]) -> _Resolvers | None:
        if not spec.resolved:
            return None

        def host(**_: Any) -> None:  # carries the annotations the SDK reads
            return None

        host.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a)
                for n, a in spec.resolved.items()
            ]
        )
        host.__annotations__ = dict(spec.resolved)
        params = find_resolved_parameters(host)
        return cls(params, build_resolver_plans(params, set(spec.input_model.model_fields)))


class ToolCatalog:
    """Selected specs, their published descriptions (built once), and the one call path."""

    def __init__(
        self,
        specs: Iterable[ToolSpec[Any]],
        *,
        withheld: Mapping[str, str] | None = None,
        structured_output: bool = False,
    ) -> None:
        """`withheld`: tools that exist but are not served here, with the reason a caller reads."""
        self.specs = {spec.name: spec for spec in specs}
        self.withheld = dict(withheld or {})
        self.structured_output = structured_output
        self._tools = [self._describe(spec) for spec in self.specs.values()]
        pairs = zip(self._tools, self.specs.values(), strict=True)
        self._read_tools = [tool for tool, spec in pairs if not spec.writes]
        self._resolvers = {name: _Resolvers.of(spec) for name, spec in self.specs.items()}

    def _describe(self, spec: ToolSpec[Any]) -> MCPTool:
        return MCPTool(
            name=spec.name,
            title=spec.title,
            description=spec.description,
            input_schema=input_schema(spec.input_model),
            output_schema=output_schema(spec.output_model) if self.structured_output else None,
            annotations=spec.annotations,
        )

    @property
    def tools(self) -> list[MCPTool]:
        return list(self._tools)

    @property
    def read_tools(self) -> list[MCPTool]:
        """What is served once the credentials turn out to lack api:write."""
        return list(self._read_tools)

    async def call(
        self, name: str, arguments: Mapping[str, Any], context: Context[Any, Any]
    ) -> CallToolResult | InputRequiredResult:
        """Run one tool; while the credentials have a problem, its result says so in one line."""
        state = _state_or_none(context)
        connection = state.connection if state is not None else None
        spec = self.specs.get(name)
        if connection is not None and connection.writes_refused and spec is not None and spec.writes:
            result: CallToolResult | InputRequiredResult = error_result(_writes_refused(connection, name))
        else:
            result = await self._run(spec, name, arguments, context)
        if connection is not None:
            if connection.take_tools_changed():
                await _announce_tools_changed(context)
            if isinstance(result, CallToolResult):
                _add_notice(result, connection)
        return result

    async def _run(
        self, spec: ToolSpec[Any] | None, name: str, arguments: Mapping[str, Any], context: Context[Any, Any]
    ) -> CallToolResult | InputRequiredResult:
        if spec is None:
            return tool_error(self._not_served(name), tool=name)
        try:
            args = _validate(spec, arguments)
        except Exception as exc:
            return tool_error(exc, tool=name)
        extra: dict[str, Any] = {}
        resolvers = self._resolvers[name]
        try:
            if resolvers is not None:
                resolved = await resolve_arguments(resolvers.params, resolvers.plans, dict(args), context)
                if isinstance(resolved, InputRequiredResult):
                    return resolved
                extra = resolved
            with call_progress(context, name):  # rate-limit waits become progress notifications
                reply = await spec.handler(ToolCall(state=state_of(context), ctx=context, extra=extra), args)
        except Exception as exc:  # every failure is reported, none escapes
            if spec.writes:  # it may have changed the object: no cached read of it is trusted now
                _forget_reads(context, getattr(args, "id", None))
            return tool_error(exc, tool=name)
        return CallToolResult(
            content=[TextContent(type="text", text=bound_result(reply.text))],
            structured_content=reply.data.model_dump(mode="json") if self.structured_output else None,
        )

    def _not_served(self, name: str) -> ToolInputError:
        served = ", ".join(self.specs) or "none"
        if name in self.withheld:
            message = f"{name} is not available: {self.withheld[name]}."
            advice = f"It cannot change the space; tell the user. Tools here: {served}."
        else:
            message, advice = f"Unknown tool: {name}.", f"Tools here: {served}."
        issue = Issue.at("name", "not a tool of this server")
        return ToolInputError(message, issues=[issue], code="unknown_tool", next_step=advice)


def _state_or_none(context: Context[Any, Any]) -> ServerState | None:
    try:
        return state_of(context)
    except (RuntimeError, ValueError):  # no session (a direct call in a test) or no ServerState
        return None


def _writes_refused(connection: Connection, name: str) -> ErrorInfo:
    """A write tool called after the write tools were withdrawn: refused here, nothing sent."""
    return ErrorInfo(
        f"{name} is not available: {connection.writes_reason or 'the token lacks ' + WRITE_SCOPE}. "
        "Nothing was sent; the read tools still work.",
        WRITE_SCOPE_ADVICE,
        "cap_scope_insufficient",
        missing_scopes=(WRITE_SCOPE,),
        maybe_applied=False,
    )


def _add_notice(result: CallToolResult, connection: Connection) -> None:
    """Prefix the result with the standing problem, unless its own error already names it."""
    error = (result.structured_content or {}).get("error") if result.is_error else None
    notice = connection.notice(error.get("code") if isinstance(error, dict) else None)
    if notice is None:
        return
    first = next((block for block in result.content if isinstance(block, TextContent)), None)
    if first is None:
        result.content.insert(0, TextContent(type="text", text=notice))
    else:
        first.text = f"{notice}\n\n{first.text}"


async def _announce_tools_changed(context: Context[Any, Any]) -> None:
    """tools/list_changed to this client (2025 era) and to every subscriptions/listen stream."""
    try:
        request = context.request_context
        if request.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            await request.session.send_tool_list_changed()
        await context.notify_tools_changed()
    except Exception:  # the client may have gone; the next tools/list tells it anyway
        _log.debug("could not announce the changed tool list", exc_info=True)


def _forget_reads(context: Context[Any, Any], object_id: Any) -> None:
    if isinstance(object_id, str):
        with contextlib.suppress(RuntimeError):
            state_of(context).content.invalidate(object_id)


def _validate(spec: ToolSpec[Any], arguments: Mapping[str, Any]) -> ToolInput:
    """Our validation: an unknown argument name is an error listing the allowed ones."""
    if not isinstance(arguments, Mapping):
        raise ToolInputError(
            "The arguments must be a JSON object.", issues=[Issue.at("(arguments)", "not an object")]
        )
    model = spec.input_model
    allowed = set(model.model_fields)
    unknown = [key for key in arguments if key not in allowed]
    if unknown:
        names = ", ".join(model.model_fields)
        raise ToolInputError(
            f"Unknown argument(s) for {spec.name}: {', '.join(map(str, unknown))}. It takes: {names}.",
            issues=[Issue.at(str(key), "unknown argument") for key in unknown],
            next_step="Call again with only these arguments.",
        )
    args: ToolInput = model.model_validate(dict(arguments))
    return args


class ToolServer(MCPServer[ServerState]):
    """`MCPServer` that serves a `ToolCatalog` (set by `register_tools`) instead of SDK tools.

    Its tool list can change (write tools withdrawn when the token lacks api:write), so it
    advertises `tools.listChanged` in every era.
    """

    catalog: ToolCatalog | None = None
    # The process-wide state, for requests that carry none (tools/list); None: always all tools.
    state_source: Callable[[], ServerState | None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _advertise_tools_list_changed(self)

    def set_instructions(self, text: str) -> None:
        """Instructions for sessions that start (or discover the server) from now on."""
        self._lowlevel_server.instructions = text

    async def list_tools(self) -> list[MCPTool]:
        if self.catalog is None:
            return await super().list_tools()
        state = active_state() or (self.state_source() if self.state_source is not None else None)
        if state is not None and state.connection.writes_refused:
            return self.catalog.read_tools
        return self.catalog.tools

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[ServerState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        if self.catalog is None:
            return await super().call_tool(name, arguments, context)
        if context is None:
            context = Context(mcp_server=self)
        return await self.catalog.call(name, arguments, context)


def _advertise_tools_list_changed(server: MCPServer[Any]) -> None:
    """`tools.listChanged: true` in the 2025-era `initialize` answer.

    Every SDK runner (stdio, SSE, streamable HTTP, in memory) builds that answer with a bare
    `create_initialization_options()`, and MCPServer takes no NotificationOptions; the 2026 era
    derives the flag from `subscriptions/listen` being served, which it is.
    """
    lowlevel = server._lowlevel_server
    build = lowlevel.create_initialization_options

    def with_tools_changed(
        notification_options: NotificationOptions | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        options = notification_options or NotificationOptions()
        options.tools_changed = True
        return build(options, *args, **kwargs)

    vars(lowlevel)["create_initialization_options"] = with_tools_changed
