"""`ToolServer`: the published tool list for tools/list, the specs' call path for tools/call.

It overrides the SDK's `list_tools` / `call_tool` (both public in mcp 2.3) so our schemas are
published unchanged and our validation answers every call. tools/list is answered from
`published.json` without importing a tool module; the first call imports them and builds the
`ToolCatalog`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp.server.lowlevel.server import NotificationOptions
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, InputRequiredResult
from mcp.types import Tool as MCPTool

from .._serving import active_state
from ._published import READ_ONLY_TOOLS

if TYPE_CHECKING:
    from .._state import ServerState
    from ._catalog import ToolCatalog

__all__ = ["READ_ONLY_REFUSAL", "ToolSelection", "ToolServer"]

READ_ONLY_REFUSAL = "this server is read-only (started with --read-only)"


@dataclass(frozen=True)
class ToolSelection:
    """The tools one server serves (as published), and those it knows but withholds, with why."""

    tools: tuple[MCPTool, ...]
    withheld: Mapping[str, str] = field(default_factory=dict)
    structured_output: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(tool.name for tool in self.tools)

    @property
    def read_tools(self) -> list[MCPTool]:
        """What is served once the credentials turn out to lack api:write."""
        return [tool for tool in self.tools if tool.name in READ_ONLY_TOOLS]


class ToolServer(MCPServer["ServerState"]):
    """`MCPServer` that serves a `ToolSelection` (set by `register_tools`) instead of SDK tools.

    Its tool list can change (write tools withdrawn when the token lacks api:write), so it
    advertises `tools.listChanged` in every era.
    """

    selection: ToolSelection | None = None
    # The process-wide state, for requests that carry none (tools/list); None: always all tools.
    state_source: Callable[[], ServerState | None] | None = None
    # Known before the state opens: a stored sign-in that was granted no api:write.
    writes_refused_at_start: bool = False
    _catalog: ToolCatalog | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _advertise_tools_list_changed(self)

    def set_instructions(self, text: str) -> None:
        """Instructions for sessions that start (or discover the server) from now on."""
        self._lowlevel_server.instructions = text

    @property
    def catalog(self) -> ToolCatalog | None:
        """The call path of the selection, built (every tool module imported) on first use."""
        if self._catalog is None and self.selection is not None:
            from ._catalog import ToolCatalog
            from ._specs import SPECS

            selection = self.selection
            specs = [SPECS[name] for name in selection.names]
            self._catalog = ToolCatalog(
                specs, withheld=selection.withheld, structured_output=selection.structured_output
            )
        return self._catalog

    @catalog.setter
    def catalog(self, catalog: ToolCatalog | None) -> None:
        self._catalog = catalog

    def _writes_refused(self) -> bool:
        state = active_state() or (self.state_source() if self.state_source is not None else None)
        return state.connection.writes_refused if state is not None else self.writes_refused_at_start

    async def list_tools(self) -> list[MCPTool]:
        if self.selection is None:
            return await super().list_tools()
        return self.selection.read_tools if self._writes_refused() else list(self.selection.tools)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[ServerState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        catalog = self.catalog
        if catalog is None:
            return await super().call_tool(name, arguments, context)
        if context is None:
            context = Context(mcp_server=self)
        return await catalog.call(name, arguments, context)


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
