"""How a tool call runs: validation, resolvers, progress, the handler, errors, notices.

Our validation and error texts answer every call, and nothing is synthesized to fit the SDK's
function-based tools. Resolvers (an elicitation before a permanent delete) still run through the
SDK's own resolution, which speaks both protocol eras.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import (
    Resolve,
    build_resolver_plans,
    find_resolved_parameters,
    resolve_arguments,
)
from mcp.types import CallToolResult, InputRequiredResult, TextContent
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from capacities_mcp.api import Issue

from .._connection import WRITE_SCOPE, WRITE_SCOPE_ADVICE, Connection
from .._errors import ErrorInfo, ToolInputError, error_result, tool_error
from .._progress import call_progress
from .._render import bound_result
from .._serving import ServerUnavailable, StateHolder, active_state
from .._state import ServerState
from ._registry import ToolCall, ToolInput, ToolSpec, state_of

__all__ = ["ToolCatalog"]

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
    """The selected specs and the one path every tool call takes."""

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
        self._resolvers = {name: _Resolvers.of(spec) for name, spec in self.specs.items()}

    async def call(
        self, name: str, arguments: Mapping[str, Any], context: Context[Any, Any]
    ) -> CallToolResult | InputRequiredResult:
        """Run one tool; while the credentials have a problem, its result says so in one line."""
        try:
            await _opened(context)
        except ServerUnavailable as exc:  # the sandbox or the client could not be started
            return tool_error(exc, tool=name)
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


async def _opened(context: Context[Any, Any]) -> None:
    """The lifespan's state opens after the handshake or on first use: an early call waits here."""
    if active_state() is not None:
        return
    try:
        holder = context.request_context.lifespan_context
    except (RuntimeError, ValueError):  # no session (a direct call in a test)
        return
    if isinstance(holder, StateHolder):
        await holder.opened()


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
