"""The MCP tools, grouped in toolsets, and the one function that puts a selection on a server.

    server = ToolServer("capacities", lifespan=...)
    register_tools(server)                                   # all tools
    register_tools(server, read_only=True)                   # get_space, get_object, search, list
    register_tools(server, toolsets=["space", "objects"])    # some groups
    register_tools(server, tools=["get_object"])             # some tools
    register_tools(server, structured_output=True)           # outputSchema + structuredContent

Tools reach the shared `ServerState` (client + caches) through the lifespan context. Serving the
tool list needs none of the tool modules (see `_published`); `SPECS` and `ToolCatalog`, which
import them all, load on first use.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from capacities_mcp._lazy import lazy_attributes

from ._published import ALL_TOOLS, READ_ONLY_TOOLS, TOOLSETS, published_tools, select_tools
from ._server import READ_ONLY_REFUSAL, ToolSelection, ToolServer

if TYPE_CHECKING:
    from ._catalog import ToolCatalog
    from ._specs import SPECS

__all__ = [
    "ALL_TOOLS",
    "READ_ONLY_TOOLS",
    "SPECS",
    "TOOLSETS",
    "ToolCatalog",
    "ToolSelection",
    "ToolServer",
    "register_tools",
    "select_tools",
]

_HOMES = {"SPECS": "._specs", "ToolCatalog": "._catalog"}


__getattr__ = lazy_attributes(__name__, _HOMES)


def register_tools(
    server: ToolServer,
    *,
    read_only: bool = False,
    tools: Collection[str] | None = None,
    toolsets: Collection[str] | None = None,
    structured_output: bool = False,
    mirror: bool = True,
) -> list[str]:
    """Serve the tools `select_tools` picks on `server` and return their names.

    `mirror`: whether search has the local mirror; without it search_objects says it matches
    titles only, so the model does not expect content hits.
    """
    selected = select_tools(read_only=read_only, tools=tools, toolsets=toolsets)
    withheld = {name: READ_ONLY_REFUSAL for name in ALL_TOOLS if read_only and name not in READ_ONLY_TOOLS}
    served = published_tools(selected, structured_output=structured_output, mirror=mirror)
    server.selection = ToolSelection(tuple(served), withheld=withheld, structured_output=structured_output)
    return selected
