"""Block and token trees in wire form: writable -> readable, and edits inside a tree.

The sandbox keeps every object exactly as `GET /object` returns it (readable wire form), so a
write is converted once, here, and reads need no conversion. Ids are uuid4, assigned recursively.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DATE_ONLY",
    "PARENT_BLOCK_TYPES",
    "BlockLocation",
    "day_iso",
    "find_block",
    "new_id",
    "parse_iso",
    "readable_block",
    "readable_blocks",
    "readable_date",
    "readable_tokens",
]

Block = dict[str, Any]
PARENT_BLOCK_TYPES = ("TextBlock", "GroupBlock")

# Optional readable fields per block type (the OpenAPI schema is additionalProperties:false, so
# anything else a writable block may carry, such as `textAlignment`, is dropped).
_TEXT_OPTIONAL = ("list", "todo", "toggle", "quote", "colorTheme", "highlight")
_GROUP_OPTIONAL = ("list", "todo", "toggle", "colorTheme")
_GRID_OPTIONAL = ("gridLayout", "colorTheme")
_BASE = {"key": "Base", "val": 0}
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def new_id() -> str:
    return str(uuid.uuid4())


def day_iso(day: dt.date) -> str:
    """A day as the API writes it: UTC midnight, milliseconds, `Z`."""
    return f"{day.isoformat()}T00:00:00.000Z"


def parse_iso(value: str) -> dt.datetime | None:
    """An ISO 8601 date or timestamp (naive means UTC), or None."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def readable_date(payload: dict[str, Any]) -> dict[str, Any]:
    """A written date (property or LinkToken) as read back: resolution defaults to day, day
    dates become UTC midnight ISO strings, and `start: null` clears the end too."""
    resolution = payload.get("dateResolution") or "day"
    out: dict[str, Any] = {"dateResolution": resolution}
    for key in ("start", "end"):
        value = payload.get(key)
        if isinstance(value, str) and resolution == "day":
            if DATE_ONLY.match(value):
                value = f"{value}T00:00:00.000Z"
            else:
                parsed = parse_iso(value)
                if parsed is not None:
                    value = day_iso(parsed.astimezone(dt.UTC).date())
        out[key] = value
    if out["start"] is None:
        out["end"] = None
    return out


def readable_tokens(tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for token in tokens:
        kind = token.get("type")
        if kind == "TextToken":
            text_token: dict[str, Any] = {
                "type": "TextToken",
                "text": token.get("text", ""),
                "style": {k: v for k, v in (token.get("style") or {}).items() if v is not None},
            }
            if token.get("color") is not None:
                text_token["color"] = token["color"]
            out.append(text_token)
        elif kind == "LinkToken":
            link: dict[str, Any] = {"type": "LinkToken", "text": token.get("text", "")}
            if token.get("url") is not None:
                link["url"] = token["url"]
            elif token.get("entityId") is not None:
                link["entityId"] = token["entityId"]
            elif token.get("date") is not None:
                link["date"] = readable_date(token["date"])
            out.append(link)
        elif kind in ("MathToken", "CodeToken"):
            out.append({"type": kind, "text": token.get("text", "")})
    return out


def _copy_optional(source: Block, target: Block, names: tuple[str, ...]) -> None:
    for name in names:
        if name in source and not (source[name] is None and name not in ("list", "toggle")):
            target[name] = source[name]


def readable_block(block: Block, *, keep: Block | None = None) -> Block:
    """A writable block (no id) as the API returns it, with fresh ids all the way down.

    `keep` is the block being replaced in place: its id is kept, and so are its children
    (or grid columns) when the replacement does not name any.
    """
    kind = block["type"]
    out: Block = {"id": keep["id"] if keep is not None else new_id(), "type": kind}
    if kind == "TextBlock":
        out["tokens"] = readable_tokens(block.get("tokens") or [])
        if block.get("blocks") is not None:
            out["blocks"] = readable_blocks(block["blocks"])
        else:
            out["blocks"] = keep.get("blocks", []) if keep is not None else []
        out["hierarchy"] = dict(block.get("hierarchy") or _BASE)
        _copy_optional(block, out, _TEXT_OPTIONAL)
    elif kind == "GroupBlock":
        if block.get("blocks") is not None:
            out["blocks"] = readable_blocks(block["blocks"])
        else:
            out["blocks"] = keep.get("blocks", []) if keep is not None else []
        _copy_optional(block, out, _GROUP_OPTIONAL)
    elif kind == "GridBlock":
        if block.get("columns") is not None:
            out["columns"] = [readable_blocks(column) for column in block["columns"]]
        elif keep is not None:
            out["columns"] = keep.get("columns", [[], []])
        else:
            out["columns"] = [[], []]
        out["dividers"] = list(block.get("dividers") or [])
        _copy_optional(block, out, _GRID_OPTIONAL)
    elif kind in ("CodeBlock",):
        out["lang"] = block.get("lang", "")
        out["text"] = block.get("text", "")
    elif kind == "MathBlock":
        out["text"] = block.get("text", "")
        _copy_optional(block, out, ("colorTheme",))
    elif kind == "EntityBlock":
        out["entityId"] = block.get("entityId")
    elif kind == "HorizontalLineBlock":
        pass
    else:  # not writable; the models never let one through
        raise ValueError(f"Unsupported block type {kind!r}")
    return out


def readable_blocks(blocks: list[Block]) -> list[Block]:
    return [readable_block(block) for block in blocks]


def _children_lists(block: Block) -> Iterator[list[Block]]:
    if isinstance(block.get("blocks"), list):
        yield block["blocks"]
    for column in block.get("columns") or []:
        if isinstance(column, list):
            yield column


@dataclass
class BlockLocation:
    """Where a block sits: the list that holds it and its index in that list."""

    siblings: list[Block]
    index: int

    @property
    def block(self) -> Block:
        return self.siblings[self.index]


def find_block(blocks: list[Block], block_id: str) -> BlockLocation | None:
    for index, block in enumerate(blocks):
        if block.get("id") == block_id:
            return BlockLocation(blocks, index)
        for children in _children_lists(block):
            found = find_block(children, block_id)
            if found is not None:
                return found
    return None
