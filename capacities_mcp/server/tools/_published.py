"""The tool list as clients see it, read from `published.json` (generated from the specs).

Why a file: building the list from the specs means importing every tool module and the API
models and generating fourteen JSON schemas, about a fifth of the server's start-up, paid at every
session a host starts before it sees a single tool. `_specs.write_published` writes the file and a
test fails whenever it no longer matches the specs.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from mcp.types import Tool as MCPTool

__all__ = [
    "ALL_TOOLS",
    "PUBLISHED_FILE",
    "READ_ONLY_TOOLS",
    "TOOLSETS",
    "published_tools",
    "select_tools",
]

PUBLISHED_FILE = Path(__file__).with_name("published.json")

_DOCUMENT: dict[str, Any] = json.loads(PUBLISHED_FILE.read_text(encoding="utf-8"))
_TOOLS: dict[str, dict[str, Any]] = {tool["name"]: tool for tool in _DOCUMENT["tools"]}

TOOLSETS: dict[str, tuple[str, ...]] = {name: tuple(names) for name, names in _DOCUMENT["toolsets"].items()}

ALL_TOOLS: tuple[str, ...] = tuple(_TOOLS)

# Derived from the annotations, so a tool can never be "read-only" here and writing there.
READ_ONLY_TOOLS: frozenset[str] = frozenset(
    name for name, tool in _TOOLS.items() if tool["annotations"].get("readOnlyHint") is True
)


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


def published_tools(names: Iterable[str], *, structured_output: bool, mirror: bool) -> list[MCPTool]:
    """The named tools as served. `mirror`: without it search_objects says it matches titles only,
    so the model does not expect content hits; `structured_output`: output schemas included."""
    tools = []
    for name in names:
        fields = dict(_TOOLS[name])
        if not structured_output:
            fields.pop("outputSchema", None)
        if name == "search_objects" and not mirror:
            fields["description"] = _DOCUMENT["title_search_description"]
        tools.append(MCPTool.model_validate(fields))
    return tools
