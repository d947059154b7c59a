"""query_objects, and what the other read tools show from the local mirror (sizes, key values).

"Open tasks due this week by priority" is one call: the mirror holds every object's properties,
so filtering and sorting cost no request. Values are given the way a model writes them (label
names, "today", "+7d", "2026-12-01..2026-12-07", "true") and prepared here against the
structure's definitions; the mirror compares.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import Field

from capacities_mcp.api import Issue
from capacities_mcp.api.models import Structure

from .._errors import ToolInputError
from .._render import TitleOf, size_note
from .._state import ServerState, find_property, property_lookup_failed
from ._properties import utc_today
from ._registry import CompactSchema, StrictModel, ToolCall, ToolInput, ToolOutput, ToolReply, ToolSpec, hints

__all__ = ["SPECS", "index_line", "key_properties"]

_KEY_KINDS = ("label", "date", "number", "boolean")
_DATE_KINDS = ("date", "createdAt", "lastUpdatedAt")
_RELATIVE = re.compile(r"^([+-])(\d{1,4})d$")
Op = Literal["is", "not", "has", "contains", "<", ">", "between", "empty", "set"]


async def index_line(state: ServerState) -> str:
    """How complete and fresh the mirror is ("content index: 412 of 530 objects, ...")."""
    from capacities_mcp.mirror import describe

    mirror = state.mirror
    stats = await mirror.stats() if mirror is not None else None
    return describe(stats) if stats is not None else "content index: starting"


def _format(kind: str, value: Any, title_of: TitleOf) -> str:
    if kind == "label":
        return ", ".join(str(name) for _, name in value)
    if kind == "date":
        start, end = [*value, None][:2]
        return str(start)[:10] + (f" to {str(end)[:10]}" if end else "")
    if kind in ("createdAt", "lastUpdatedAt"):
        return str(value)[:10]
    if kind == "boolean":
        return "yes" if value else "no"
    if kind == "number":
        return str(int(value)) if float(value).is_integer() else str(value)
    if kind == "entity":
        names = [title_of(t) or t for t in value[:3]]
        return ", ".join(names) + (f" +{len(value) - 3}" if len(value) > 3 else "")
    text = " ".join(value) if isinstance(value, list) else str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def key_properties(
    keys: dict[str, list[Any]],
    structure: Structure | None,
    title_of: TitleOf,
    first: tuple[str, ...] = (),
    most: int = 4,
) -> list[str]:
    """ "Name: value" of the properties asked about, then labels, dates, numbers and checkboxes."""
    definitions = {p.id: p for p in structure.property_definitions} if structure else {}
    order = [pid for pid in first if pid in keys]
    order += [p for p, d in definitions.items() if d.type in _KEY_KINDS and p in keys and p not in order]
    out = []
    for pid in order[:most]:
        kind, value = keys[pid][:2]
        name = definitions[pid].name if pid in definitions and definitions[pid].name else pid
        out.append(f"{name}: {_format(kind, value, title_of)}")
    return out


# --- query_objects -----------------------------------------------------------------------------


class Filter(StrictModel):
    property: str
    op: Op
    value: str | None = None


class QueryObjectsInput(ToolInput):
    structure: str = Field(description="Name or id.")
    filters: list[Filter] | None = Field(
        default=None,
        description='All must hold. Dates: "YYYY-MM-DD", "today", "+7d", "A..B".',
    )
    sort: str | None = Field(default=None, description='Property; "-" prefix: descending.')
    limit: int = Field(default=25, ge=1, le=100, description="Most rows.")


class QueryRowOut(CompactSchema):
    id: str
    title: str
    properties: list[str]
    tokens: int | None


class QueryObjectsOutput(ToolOutput):
    results: list[QueryRowOut]
    total: int
    index: str


def _day(text: str, where: str) -> str:
    raw = text.strip().casefold()
    today = date.fromisoformat(utc_today())
    named = {"today": 0, "tomorrow": 1, "yesterday": -1}
    relative = _RELATIVE.match(raw)
    if raw in named:
        return (today + timedelta(days=named[raw])).isoformat()
    if relative:
        days = int(relative.group(2)) * (1 if relative.group(1) == "+" else -1)
        return (today + timedelta(days=days)).isoformat()
    try:
        return date.fromisoformat(raw[:10]).isoformat()
    except ValueError:
        raise ToolInputError(
            f'"{text}" is not a date: use YYYY-MM-DD, "today", "+7d" or "-7d".',
            issues=[Issue.at(where, "not a date")],
        ) from None


def _prepared(kind: str, f: Filter, where: str) -> Any:
    """The filter's value as the mirror compares it."""
    raw = (f.value or "").strip()
    if f.op in ("empty", "set"):
        return None
    if not raw:
        raise ToolInputError(f'op "{f.op}" needs a value.', issues=[Issue.at(where, "value missing")])
    if kind in _DATE_KINDS:
        if f.op == "between":
            low, _, high = raw.partition("..")
            return (_day(low, where), _day(high or low, where))
        return _day(raw, where)
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            issue = Issue.at(where, "not a number")
            raise ToolInputError(f'"{raw}" is not a number.', issues=[issue]) from None
    if kind == "boolean":
        return raw.casefold() in ("true", "yes", "1", "checked", "done")
    return raw


async def query_objects(call: ToolCall, args: QueryObjectsInput) -> ToolReply:
    from capacities_mcp.mirror import Condition, Sort

    state = call.state
    mirror = state.mirror
    if mirror is None:
        raise ToolInputError(
            "query_objects needs the local mirror, and this server runs without it (--no-mirror).",
            next_step="Use list_objects and get_object instead.",
        )
    mirror.kick()
    structure = await state.space.structure(args.structure)
    conditions, asked = [], []
    for i, f in enumerate(args.filters or []):
        pid, kind = _property(structure, f.property)
        conditions.append(Condition(pid, f.op, _prepared(kind, f, f"filters[{i}].value")))
        asked.append(pid)
    sort = None
    if args.sort and args.sort.strip("- "):
        pid, kind = _property(structure, args.sort.strip().lstrip("-").strip())
        labels = next((p.label_set or [] for p in structure.property_definitions if p.id == pid), [])
        order = {option.id: n for n, option in enumerate(labels)}
        sort = Sort(pid, descending=args.sort.strip().startswith("-"), label_order=order)
        asked.append(pid)
    found = await mirror.query(structure.id, conditions, sort, args.limit)
    index = await index_line(state)
    rows, total = found if found is not None else ([], 0)
    out = [
        QueryRowOut(
            id=r.id,
            title=r.title,
            properties=key_properties(r.keys, structure, state.titles.title, tuple(asked)),
            tokens=r.tokens,
        )
        for r in rows
    ]
    head = f"{len(out)} of {total} {structure.plural_name} match ({index})"
    lines = [head + (":" if out else ".")]
    for r in out:
        extra = "".join(f" · {p}" for p in r.properties) + size_note(r.tokens)
        lines.append(f"- {r.title or '(untitled)'} `{r.id}`{extra}")
    return ToolReply("\n".join(lines), QueryObjectsOutput(results=out, total=total, index=index))


def _property(structure: Structure, ref: str) -> tuple[str, str]:
    if ref.strip().casefold() in ("title", "name"):
        return "title", "title"
    found = find_property(structure, ref.strip())
    if found is None:
        raise property_lookup_failed(structure, ref)
    return found.id, found.type


QUERY_OBJECTS = ToolSpec(
    name="query_objects",
    title="Query objects",
    description=(
        "Objects of one structure filtered by property values (labels, dates, numbers, checkboxes, "
        "links, text), sorted, with key values and sizes."
    ),
    input_model=QueryObjectsInput,
    output_model=QueryObjectsOutput,
    handler=query_objects,
    annotations=hints(read_only=True, idempotent=True),
)

SPECS = (QUERY_OBJECTS,)
