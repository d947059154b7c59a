"""Every tool's spec, by toolset, and the published document generated from them.

Importing this module imports every tool module (and, through them, the API models): it is on
the path of a tool call, never on the path of `tools/list`, which `_published` answers from
`published.json`. After changing a tool's name, description, hints or models, regenerate that
file (a test fails until it matches):

    python -m capacities_mcp.server.tools._specs
"""

from __future__ import annotations

import json
from typing import Any

from . import blocks, daily_notes, files, objects_query, objects_read, objects_write, space
from ._published import PUBLISHED_FILE
from ._registry import ToolSpec, published_tool

__all__ = ["BY_TOOLSET", "SPECS", "published_document", "write_published"]

BY_TOOLSET: dict[str, tuple[ToolSpec[Any], ...]] = {
    "space": space.SPECS,
    "objects": objects_read.SPECS + objects_query.SPECS + objects_write.SPECS,
    "blocks": blocks.SPECS,
    "daily_notes": daily_notes.SPECS,
    "files": files.SPECS,
}

SPECS: dict[str, ToolSpec[Any]] = {spec.name: spec for specs in BY_TOOLSET.values() for spec in specs}


def published_document() -> dict[str, Any]:
    """What `published.json` holds: the toolsets, each tool as served (output schema included,
    for --structured-output) and search_objects' description for a server without the mirror."""
    return {
        "toolsets": {name: [spec.name for spec in specs] for name, specs in BY_TOOLSET.items()},
        "tools": [published_tool(spec) for spec in SPECS.values()],
        "title_search_description": objects_read.TITLE_SEARCH_DESCRIPTION,
    }


def write_published() -> None:
    text = json.dumps(published_document(), indent=1, ensure_ascii=False) + "\n"
    PUBLISHED_FILE.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_published()
