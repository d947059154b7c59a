"""Reading the mirror: full-text search (BM25, title matches first, snippets) and property queries.

Search takes the words of the query in any order (all must occur; each is also a prefix, so
"plan" finds "planning"); CJK and Hangul words are phrases of characters. Snippets and block ids
come from the stored text of the best block: the one holding most of the query's words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ._extract import PROPERTIES_BLOCK, fold, fts_text
from ._store import MirrorStore

__all__ = ["Condition", "QueryRow", "SearchHit", "Sort", "query", "rows_by_id", "search"]

_WORD = re.compile(r"\w+")
_SNIPPET_BEFORE, _SNIPPET_AFTER = 60, 140


@dataclass(frozen=True)
class SearchHit:
    id: str
    structure_id: str
    title: str
    title_match: bool
    block_id: str | None  # None: the match is in the title or the properties
    snippet: str | None
    tokens: int | None  # approximate size of the object's text; None until its content is mirrored


def words(query: str) -> list[str]:
    return _WORD.findall(query)


def _fts_query(terms: list[str], titles_only: bool) -> str:
    phrases = []
    for term in terms:
        spaced = fts_text(term).split()
        phrases.append(f'"{" ".join(spaced)}"' + ("" if len(spaced) > 1 else "*"))
    expression = " ".join(phrases)
    return f"title : ({expression})" if titles_only else expression


def search(
    store: MirrorStore,
    query: str,
    *,
    titles_only: bool = False,
    structure_ids: list[str] | None = None,
    limit: int = 10,
) -> list[SearchHit]:
    """Best first: objects with every word in the title, then the rest, each by BM25."""
    terms = words(query)
    if not terms:
        return []
    rows = _matches(store, terms, True, structure_ids, limit)
    if not titles_only and len(rows) < limit:
        seen = {row[0] for row in rows}
        rows += [r for r in _matches(store, terms, False, structure_ids, limit) if r[0] not in seen]
    folded = [fold(t) for t in terms]
    return [_hit(row, folded) for row in rows[:limit]]


def _matches(
    store: MirrorStore, terms: list[str], titles_only: bool, structure_ids: list[str] | None, limit: int
) -> list[tuple[Any, ...]]:
    where, args = ["o.trashed = 0"], []
    if structure_ids:
        where.append(f"o.structure_id IN ({','.join('?' * len(structure_ids))})")
        args.extend(structure_ids)
    columns = "o.id, o.structure_id, o.title, o.blocks, o.tokens, o.fetched_at"
    if store.has_fts:
        sql = (
            f"SELECT {columns} FROM fts JOIN objects o ON o.rowid = fts.rowid "
            f"WHERE fts MATCH ? AND {' AND '.join(where)} ORDER BY bm25(fts, 4.0, 1.0) LIMIT ?"
        )
        return store.read(sql, (_fts_query(terms, titles_only), *args, limit))
    for term in terms:  # no FTS5: every word somewhere in the text, unranked
        pattern = f"%{term}%"
        where.append("(o.title LIKE ?" + ("" if titles_only else " OR o.blocks LIKE ?") + ")")
        args.extend([pattern] if titles_only else [pattern, pattern])
    return store.read(f"SELECT {columns} FROM objects o WHERE {' AND '.join(where)} LIMIT ?", (*args, limit))


def _hit(row: tuple[Any, ...], folded_terms: list[str]) -> SearchHit:
    object_id, structure_id, title, blocks_json, tokens, fetched_at = row
    in_title = all(t in fold(title) for t in folded_terms)
    block_id, snippet = _best_block(json.loads(blocks_json) if blocks_json else [], folded_terms)
    return SearchHit(
        id=object_id,
        structure_id=structure_id,
        title=title,
        title_match=in_title,
        block_id=block_id or None,
        snippet=snippet,
        tokens=int(tokens) if fetched_at is not None and tokens is not None else None,
    )


def _best_block(blocks: list[list[str]], folded_terms: list[str]) -> tuple[str | None, str | None]:
    best: tuple[int, str, str] | None = None
    for block_id, text in blocks:
        folded = fold(text)
        score = sum(t in folded for t in folded_terms)
        if score and (best is None or score > best[0]):
            best = (score, block_id, text)
            if score == len(folded_terms):
                break
    if best is None:
        return None, None
    return (best[1] if best[1] != PROPERTIES_BLOCK else None), _snippet(best[2], folded_terms)


def _snippet(text: str, folded_terms: list[str]) -> str:
    """About 200 characters of `text` around the first query word found, on one line."""
    folded, origin = _fold_with_positions(text)
    at = origin[_densest(folded, folded_terms)]
    start, end = max(0, at - _SNIPPET_BEFORE), min(len(text), at + _SNIPPET_AFTER)
    if start > 0:
        space = text.find(" ", start, at)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", at, end)
        end = space if space > at else end
    piece = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + piece + ("…" if end < len(text) else "")


def _densest(folded: str, terms: list[str]) -> int:
    """Where most of the query's words occur close together (first such place)."""
    starts = sorted({m.start() for t in set(terms) for m in re.finditer(re.escape(t), folded)})[:200]
    best, best_at = -1, 0
    for start in starts:
        window = folded[start : start + _SNIPPET_AFTER]
        found = sum(t in window for t in set(terms))
        if found > best:
            best, best_at = found, start
    return best_at


def _fold_with_positions(text: str) -> tuple[str, list[int]]:
    """`fold(text)` and, for each of its characters, the index of the character it came from."""
    folded = fold(text)
    if len(folded) == len(text):  # nothing expanded or dropped: positions are the same
        return folded, list(range(len(text) + 1))
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = fold(char)
        out.append(piece)
        origin.extend([index] * len(piece))
    origin.append(len(text))
    return "".join(out), origin


# --- property queries --------------------------------------------------------------------------

Op = Literal["is", "not", "has", "contains", "<", ">", "between", "empty", "set"]


@dataclass(frozen=True)
class Condition:
    """One filter on a property (by id; "title" is the title). Values come prepared by the caller:
    dates as "YYYY-MM-DD" (`between`: a pair), numbers as floats, checkboxes as bools, labels
    and linked objects as a name or id."""

    property_id: str
    op: Op
    value: Any = None


@dataclass(frozen=True)
class Sort:
    property_id: str
    descending: bool = False
    # Label options in the structure's order (id -> position), so "priority" sorts High, Medium,
    # Low rather than alphabetically.
    label_order: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryRow:
    id: str
    structure_id: str
    title: str
    keys: dict[str, list[Any]]
    tokens: int | None
    fetched: bool


def _rows(store: MirrorStore, sql_where: str, args: tuple[Any, ...]) -> list[QueryRow]:
    return [
        QueryRow(
            id=r[0],
            structure_id=r[1],
            title=r[2],
            keys=json.loads(r[3]) if r[3] else {},
            tokens=int(r[4]) if r[5] is not None and r[4] is not None else None,
            fetched=r[5] is not None,
        )
        for r in store.read(
            f"SELECT id, structure_id, title, keys, tokens, fetched_at FROM objects WHERE {sql_where}", args
        )
    ]


def rows_by_id(store: MirrorStore, ids: Iterable[str]) -> dict[str, QueryRow]:
    wanted = list(ids)
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    return {row.id: row for row in _rows(store, f"trashed=0 AND id IN ({marks})", tuple(wanted))}


def query(
    store: MirrorStore,
    structure_id: str,
    conditions: list[Condition],
    sort: Sort | None = None,
    limit: int = 25,
) -> tuple[list[QueryRow], int]:
    """Objects of a structure meeting every condition, sorted; with the count of all matches."""
    rows = [r for r in _rows(store, "trashed=0 AND structure_id=?", (structure_id,)) if r.fetched]
    titles = _linked_titles(store, rows, conditions)
    matching = [r for r in rows if all(_meets(r, c, titles) for c in conditions)]
    if sort is not None:
        present = [r for r in matching if _sort_key(r, sort) is not None]
        absent = [r for r in matching if _sort_key(r, sort) is None]
        present.sort(key=lambda r: _sort_key(r, sort), reverse=sort.descending)
        matching = present + absent  # objects without the value last, either way
    else:
        matching.sort(key=lambda r: fold(r.title))
    return matching[:limit], len(matching)


def _linked_titles(store: MirrorStore, rows: list[QueryRow], conditions: list[Condition]) -> dict[str, str]:
    """Titles of the objects that `has` conditions may name, folded, by id."""
    linked = {
        target
        for c in conditions
        if c.op == "has"
        for r in rows
        for target in (r.keys.get(c.property_id, [None, []])[1] or [])
        if isinstance(target, str)
    }
    return {object_id: fold(row.title) for object_id, row in rows_by_id(store, linked).items()}


def _value(row: QueryRow, property_id: str) -> tuple[str | None, Any]:
    if property_id == "title":
        return "title", row.title
    kind, value = (row.keys.get(property_id) or [None, None])[:2]
    return kind, value


def _meets(row: QueryRow, c: Condition, titles: dict[str, str]) -> bool:
    kind, value = _value(row, c.property_id)
    if c.op == "empty":
        return value in (None, "", [], False)
    if c.op == "set":
        return value not in (None, "", [], False)
    if kind == "boolean" or isinstance(c.value, bool):
        same = bool(value) == bool(c.value)
        return same if c.op == "is" else not same if c.op == "not" else False
    if kind == "label":
        wanted = fold(str(c.value))
        found = any(wanted in (fold(str(i)), fold(str(n))) for i, n in value or [])
        return not found if c.op == "not" else found
    if kind == "entity" or c.op == "has":
        wanted = fold(str(c.value))
        found = any(t == c.value or titles.get(t) == wanted for t in value or [] if isinstance(t, str))
        return not found if c.op == "not" else found
    return _compare(kind, value, c)


def _compare(kind: str | None, value: Any, c: Condition) -> bool:
    if value is None:
        return c.op == "not"
    if kind == "date":
        value = (value[0] or "")[:10]
    elif kind in ("createdAt", "lastUpdatedAt"):
        value = str(value)[:10]
    if c.op == "between":
        low, high = c.value
        return bool(low <= value <= high)
    if c.op == "<":
        return bool(value < c.value)
    if c.op == ">":
        return bool(value > c.value)
    if c.op == "contains":
        return fold(str(c.value)) in fold(_text(value))
    same = fold(_text(value)) == fold(str(c.value)) if isinstance(c.value, str) else value == c.value
    return same if c.op == "is" else not same


def _text(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _sort_key(row: QueryRow, sort: Sort) -> Any:
    kind, value = _value(row, sort.property_id)
    if value in (None, "", []):
        return None
    if kind == "label":
        first = value[0]
        return (sort.label_order.get(first[0], len(sort.label_order)), fold(str(first[1])))
    if kind == "date":
        return value[0] or ""
    if kind in ("number",):
        return float(value)
    if kind == "boolean":
        return bool(value)
    return fold(_text(value))
