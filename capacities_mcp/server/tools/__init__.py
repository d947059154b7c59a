"""The MCP tools, grouped in toolsets, and the one function that puts a selection on a server.

    server = ToolServer("capacities", lifespan=...)
    register_tools(server)                                   # all tools
    register_tools(server, read_only=True)                   # get_space, get_object, search, list
    register_tools(server, toolsets=["space", "objects"])    # some groups
    register_tools(server, tools=["get_object"])             # some tools
    register_tools(server, structured_output=True)           # outputSchema + structuredContent

Tools reach the shared `ServerState` (client + caches) through the lifespan context.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

from . import blocks, daily_notes, files, objects_query, objects_read, objects_write, space
from ._catalog import READ_ONLY_REFUSAL, ToolCatalog, ToolServer
from ._registry import ToolSpec

__all__ = [
    "ALL_TOOLS",
    "READ_ONLY_TOOLS",
    "SPECS",
    "TOOLSETS",
    "ToolCatalog",
    "ToolServer",
    "register_tools",
    "select_tools",
]

_BY_TOOLSET: dict[str, tuple[ToolSpec[Any], ...]] = {
    "space": space.SPECS,
    "objects": objects_read.SPECS + objects_query.SPECS + objects_write.SPECS,
    "blocks": blocks.SPECS,
    "daily_notes": daily_notes.SPECS,
    "files": files.SPECS,
}

SPECS: dict[str, ToolSpec[Any]] = {spec.name: spec for specs in _BY_TOOLSET.values() for spec in specs}

TOOLSETS: dict[str, tuple[str, ...]] = {
    name: tuple(s.name for s in specs) for name, specs in _BY_TOOLSET.items()
}

ALL_TOOLS: tuple[str, ...] = tuple(SPECS)

# Derived from the annotations, so a tool can never be "read-only" here and writing there.
READ_ONLY_TOOLS: frozenset[str] = frozenset(name for name, spec in SPECS.items() if not spec.writes)


def _unknown(kind: str, given: Collection[str], valid: Collection[str]) -> None:
    bad = [name for name in given if name not in valid]
    if bad:
        raise ValueError(f"Unknown {kind}: {', '.join(bad)}. Valid {kind}: {', '.join(valid)}")


def select_tools(
    *,
    read_only: bool = False,
    tools: Collection[str] | None = None,
    toolsets: Collection[str] | None = None,
) -> list[str]:
    """The names `register_tools` would serve, in a stable order (nothing is registered).

    `tools` and `toolsets` both narrow the selection (a tool must pass both filters when both
    are given); `read_only` then drops every tool that can write. Unknown names raise
    ValueError listing the valid ones, so a typo in a config fails loudly at start-up.
    """
    if isinstance(tools, str):
        tools = [tools]
    if isinstance(toolsets, str):
        toolsets = [toolsets]
    selected = list(ALL_TOOLS)
    if toolsets is not None:
        _unknown("toolsets", toolsets, TOOLSETS)
        in_sets = {name for ts in toolsets for name in TOOLSETS[ts]}
        selected = [name for name in selected if name in in_sets]
    if tools is not None:
        _unknown("tools", tools, ALL_TOOLS)
        selected = [name for name in selected if name in set(tools)]
    if read_only:
        selected = [name for name in selected if name in READ_ONLY_TOOLS]
    return selected


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
    specs = [SPECS[name] for name in selected]
    if not mirror:
        specs = [
            dataclasses.replace(spec, description=objects_read.TITLE_SEARCH_DESCRIPTION)
            if spec.name == "search_objects"
            else spec
            for spec in specs
        ]
    server.catalog = ToolCatalog(specs, withheld=withheld, structured_output=structured_output)
    return selected
