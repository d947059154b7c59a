"""What the mirror keeps of an object: title, query values, text per block, size.

Properties are read in their wire form (plain JSON), blocks as parsed, with a block or token of a
type newer than this client read from its kept fields: either way such a type is still read for
whatever text it carries, instead of being dropped. (Blocks are not serialized back to JSON
first: for a 25,000-block object that alone took longer than everything else here.)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from capacities_mcp._tokens import estimate_tokens
from capacities_mcp.api.models import ApiObject, wire

__all__ = [
    "PROPERTIES_BLOCK",
    "Record",
    "fold",
    "fts_text",
    "record_of",
]

# The pseudo block id of the text found in properties (descriptions, rich text, aliases).
PROPERTIES_BLOCK = ""

# Scripts written without spaces between words: each character is indexed as its own token, so a
# word of any length is found as a phrase of characters (tests/mirror/test_store.py).
_UNSPACED = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u3131-\u318e])")
_UNSPACED_CHAR = re.compile(_UNSPACED.pattern)
# Combining marks (what NFKD splits off accented letters), removed like remove_diacritics does.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fts_text(text: str) -> str:
    """Text as the full-text index sees it: CJK and Hangul characters one token each."""
    return _UNSPACED.sub(r" \1 ", text) if _UNSPACED_CHAR.search(text) else text


def fold(text: str) -> str:
    """Case and diacritics folded, as the index compares (for snippets and title checks)."""
    if text.isascii():  # the common case, and the same length: positions stay valid
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))


@dataclass(frozen=True)
class Record:
    """One object as the mirror stores it."""

    id: str
    structure_id: str
    title: str
    keys: dict[str, list[Any]]  # property id -> [type, value] for queries (tags, dates, ... too)
    blocks: list[tuple[str, str]]  # (block id, text), in document order

    @property
    def body(self) -> str:
        return "\n".join(text for _, text in self.blocks)

    @property
    def tokens(self) -> int:
        """About what the object's text costs a model: the estimate the server sizes results by."""
        return estimate_tokens("\n".join([self.title, *(text for _, text in self.blocks)]))


def record_of(obj: ApiObject) -> Record:
    properties: dict[str, Any] = {pid: wire(prop) for pid, prop in obj.properties.items()}
    keys: dict[str, list[Any]] = {}
    prop_texts: list[str] = []
    title = ""
    for pid, prop in properties.items():
        if not isinstance(prop, dict):
            continue
        kind = str(prop.get("type", ""))
        value = _value(kind, prop)
        if kind == "title":
            title = value or ""
            continue
        if value not in (None, "", []):
            keys[pid] = [kind, value]
        if kind in ("text", "richText") and value:
            prop_texts.append(str(value))
        elif kind == "aliases" and value:
            prop_texts.append(" · ".join(value))
    blocks = [(PROPERTIES_BLOCK, "\n".join(prop_texts))] if prop_texts else []
    for items in (obj.blocks or {}).values():
        blocks.extend(_block_texts(items))
    return Record(id=obj.id, structure_id=obj.structure_id, title=title, keys=keys, blocks=blocks)


def _inner(prop: dict[str, Any], kind: str) -> Any:
    payload = prop.get(kind)
    return payload.get("value") if isinstance(payload, dict) and "value" in payload else payload


def _value(kind: str, prop: dict[str, Any]) -> Any:
    """A property's value reduced to what queries compare: text, number, flag, dates, names, ids."""
    raw = _inner(prop, kind)
    if kind == "date":
        date = prop.get("date") or {}
        return [date.get("start"), date.get("end")] if date.get("start") else None
    if kind == "label":
        return [[o.get("id"), o.get("name")] for o in raw or [] if isinstance(o, dict)]
    if kind == "entity":
        return [o.get("id") for o in raw or [] if isinstance(o, dict)]
    if kind == "richText":
        return _tokens_text(raw or [])
    if kind == "icon":
        return None
    return raw


def _field(item: Any, name: str) -> Any:
    """A field of a block or token: parsed (a model, whose newer types keep their fields as
    extras) or raw JSON (inside such a newer type)."""
    if isinstance(item, dict):
        return item.get(name)
    value = item.__dict__.get(name)
    if value is None and item.__pydantic_extra__:
        value = item.__pydantic_extra__.get(name)
    return value


def _tokens_text(tokens: list[Any]) -> str:
    return "".join(str(_field(t, "text") or "") for t in tokens if isinstance(t, dict | BaseModel))


def _block_texts(items: list[Any]) -> list[tuple[str, str]]:
    """(id, text) of every block with text, depth first, children after their parent."""
    out: list[tuple[str, str]] = []
    for block in items:
        if not isinstance(block, dict | BaseModel):
            continue
        tokens = _field(block, "tokens")
        text = _tokens_text(tokens) if isinstance(tokens, list) else ""
        if not text and isinstance(code := _field(block, "text"), str):  # code and math blocks
            text = code
        block_id = _field(block, "id")
        if text.strip() and block_id:
            out.append((str(block_id), text))
        children = _field(block, "blocks")
        if isinstance(children, list):
            out.extend(_block_texts(children))
        for column in _field(block, "columns") or []:
            if isinstance(column, list):
                out.extend(_block_texts(column))
    return out
