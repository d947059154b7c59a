"""Friendly property values ("Status": "Done", "Deadline": "2026-12-01") → the API's wire values.

A model writes properties the way a person would: by property *name*, label options by *name*,
dates as ISO days, linked objects by id or by title. The structure's property definitions say
what each name means; this module turns each value into `{"type": T, T: payload}` and collects
every problem (unknown property, unknown option, bad date, ambiguous title, ...) into one error,
so the model can fix them all in a single retry.

A value that is already in wire form (`{"type": "label", "label": [...]}`) passes through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from capacities_mcp.api import Issue
from capacities_mcp.api.models import (
    SEARCH_STRUCTURES_MAX,
    PropertyDefinition,
    Structure,
    is_uuid,
)

from .._errors import ToolInputError
from .._render import property_value, shorten
from .._state import (
    LookupFailed,
    ServerState,
    SpaceCache,
    find_property,
    property_lookup_failed,
)
from ._common import title_search

__all__ = [
    "changed_values",
    "parse_date",
    "resolve_list_ops",
    "title_value",
    "to_wire_properties",
    "utc_today",
]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FALSE = {"false", "no", "0", "off"}
_TRUE = {"true", "yes", "1", "on"}


class _Bad(ValueError):
    """One value cannot be converted; the message says what was expected."""


def utc_today() -> str:
    """Today in UTC, YYYY-MM-DD: the day "today" names when the account's time zone is unknown."""
    return datetime.now(UTC).date().isoformat()


def title_value(title: str) -> dict[str, Any]:
    return {"type": "title", "title": {"value": title}}


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_date(text: str) -> tuple[str, str]:
    """(ISO value, resolution) from "YYYY-MM-DD" (day, UTC midnight) or an ISO date-time (time)."""
    value = text.strip()
    if _DAY.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise _Bad(f"{value!r} is not a valid date") from exc
        return f"{day.isoformat()}T00:00:00.000Z", "day"
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as exc:
        raise _Bad(f"{value!r} is not an ISO date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM[Z])") from exc
    if value.endswith("T00:00:00.000Z") or value.endswith("T00:00:00Z"):
        return _iso(moment), "day"
    return _iso(moment), "time"


def _date(value: Any) -> dict[str, Any]:
    if value is None or value == "":
        return {"start": None}
    start: Any
    end: Any = None
    if isinstance(value, Mapping):
        start, end = value.get("start"), value.get("end")
    elif isinstance(value, (list, tuple)) and len(value) in (1, 2):
        start, end = value[0], (value[1] if len(value) == 2 else None)
    elif isinstance(value, str) and "/" in value:
        start, end = value.split("/", 1)
    else:
        start = value
    if start is None:
        return {"start": None}
    if not isinstance(start, str) or (end is not None and not isinstance(end, str)):
        raise _Bad('expected "YYYY-MM-DD", an ISO date-time, "start/end", or {"start": ..., "end": ...}')
    start_iso, resolution = parse_date(start)
    payload: dict[str, Any] = {"dateResolution": resolution, "start": start_iso}
    if end:
        end_iso, end_resolution = parse_date(end)
        if end_resolution == "time":
            payload["dateResolution"] = "time"
        payload["end"] = end_iso
    return payload


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Bad(f"expected {what}, got {type(value).__name__}")
    return str(value)


def _number(value: Any) -> int | float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _Bad("expected a number, got a boolean")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError as exc:
            raise _Bad(f"expected a number, got {value!r}") from exc
        return int(number) if number.is_integer() and "." not in value else number
    raise _Bad(f"expected a number, got {type(value).__name__}")


def _boolean(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().casefold() in _TRUE | _FALSE:
        return value.strip().casefold() in _TRUE
    raise _Bad(f"expected true or false, got {value!r}")


def _url(value: Any) -> str | None:
    text = _text(value, "a URL")
    if text is None or text == "":
        return None
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc:
        raise _Bad(f"expected an absolute URL such as https://example.com, got {text!r}")
    return text


def _labels(prop: PropertyDefinition, value: Any) -> list[dict[str, str]]:
    chosen: list[dict[str, str]] = []
    for item in _as_list(value):
        if not isinstance(item, str):
            raise _Bad(f"expected option names, got {type(item).__name__}")
        option = SpaceCache.get_label_option(prop, item)
        if all(c["id"] != option.id for c in chosen):
            chosen.append({"id": option.id, "name": option.name})
    if len(chosen) > 1 and not prop.multiple:
        raise _Bad(
            f'"{prop.name}" takes one option, got {len(chosen)}: ' + ", ".join(c["name"] for c in chosen)
        )
    return chosen


async def _entities(state: ServerState, prop: PropertyDefinition, value: Any) -> list[dict[str, str]]:
    """Linked objects by id, or by exact title (searched within the allowed structures)."""
    targets: list[dict[str, str]] = []
    for item in _as_list(value):
        if isinstance(item, Mapping) and isinstance(item.get("id"), str):
            item = item["id"]
        if not isinstance(item, str) or not item.strip():
            raise _Bad("expected object ids or titles")
        ref = item.strip()
        if is_uuid(ref):
            targets.append({"id": ref})
            continue
        allowed = list(prop.allowed_structures or [])[:SEARCH_STRUCTURES_MAX] or None
        _, exact = await title_search(state, ref, allowed)
        if len(exact) > 1:
            raise _Bad(
                f'several objects are titled "{ref}": ' + ", ".join(h.id for h in exact) + "; give the id"
            )
        if not exact:
            kinds = ", ".join(prop.allowed_structures or []) or "any structure"
            raise _Bad(
                f'no object titled "{ref}" ({kinds}); give its id (search_objects finds it) or '
                "create it first with create_object"
            )
        targets.append({"id": exact[0].id})
    return targets


async def _convert(state: ServerState, prop: PropertyDefinition, value: Any) -> dict[str, Any]:
    kind = str(prop.type)
    if isinstance(value, Mapping) and value.get("type") == kind:
        return dict(value)  # already the wire form
    if kind in ("title", "text"):
        return {"type": kind, kind: {"value": _text(value, "text")}}
    if kind == "url":
        return {"type": "url", "url": {"value": _url(value)}}
    if kind == "number":
        return {"type": "number", "number": {"value": _number(value)}}
    if kind == "boolean":
        return {"type": "boolean", "boolean": {"value": _boolean(value)}}
    if kind == "date":
        return {"type": "date", "date": _date(value)}
    if kind == "label":
        return {"type": "label", "label": _labels(prop, value)}
    if kind == "entity":
        return {"type": "entity", "entity": await _entities(state, prop, value)}
    if kind == "aliases":
        aliases = [str(a) for a in _as_list(value)]
        if len(aliases) > 8:
            raise _Bad(f"at most 8 aliases, got {len(aliases)}")
        return {"type": "aliases", "aliases": {"value": aliases}}
    if kind == "icon":
        if value is None or value == "":
            return {"type": "icon", "icon": {"value": None}}
        text = _text(value, 'an emoji or a Phosphor icon id such as "ph-star"') or ""
        icon_type = "iconify" if text.startswith("ph-") else "emoji"
        return {"type": "icon", "icon": {"value": {"type": icon_type, "val": text}}}
    if kind == "createdAt":
        created = _text(value, "an ISO date or date-time")
        if not created:
            raise _Bad("createdAt cannot be cleared")
        return {"type": "createdAt", "createdAt": {"value": parse_date(created)[0]}}
    if kind == "richText":
        if value is None or value == "":
            return {"type": "richText", "richText": {"value": []}}
        if isinstance(value, list):
            return {"type": "richText", "richText": {"value": value}}
        text = _text(value, "text") or ""
        return {"type": "richText", "richText": {"value": [{"type": "TextToken", "text": text, "style": {}}]}}
    raise _Bad(f"properties of type {kind} cannot be written through this tool")


async def to_wire_properties(
    state: ServerState, structure: Structure, friendly: Mapping[str, Any], *, field: str = "properties"
) -> dict[str, Any]:
    """Convert every entry of `friendly`; raise one `ToolInputError` listing all problems."""
    wire: dict[str, Any] = {}
    issues: list[Issue] = []
    for name, value in friendly.items():
        where = f"{field}.{name}"
        prop = find_property(structure, str(name).strip())
        if prop is None:
            if not structure.property_definitions and str(name).casefold() == "title":
                wire["title"] = title_value(str(value))
                continue
            issues.append(Issue.at(where, property_lookup_failed(structure, str(name)).message))
            continue
        if not prop.writable:
            issues.append(Issue.at(where, f'"{prop.name or prop.id}" is read-only'))
            continue
        try:
            wire[prop.id] = await _convert(state, prop, value)
        except (_Bad, LookupFailed) as exc:
            issues.append(Issue.at(where, str(exc)))
    if issues:
        raise ToolInputError(
            f'Some properties do not fit "{structure.title}" (nothing was changed). '
            "get_space lists each structure's properties and options:",
            issues=issues,
        )
    return wire


# --- add / remove on multi-value properties -------------------------------------------------------

_LIST_TYPES = ("label", "entity", "aliases")


def _current_items(value: Any) -> list[tuple[str, str]]:
    """(id or text, name) of each item of a multi-value property as read: what add/remove edit."""
    kind = getattr(value, "type", None)
    if kind == "label":
        return [(option.id, option.name) for option in value.label]
    if kind == "entity":
        return [(target.id, target.id) for target in value.entity]
    if kind == "aliases":
        return [(alias, alias) for alias in value.aliases.value]
    return []


def _matches(item: tuple[str, str], ref: str, title_of: Callable[[str], str | None]) -> bool:
    wanted = ref.strip().casefold()
    known, name = item
    return wanted in (known.casefold(), name.casefold(), (title_of(known) or "").casefold())


def resolve_list_ops(
    structure: Structure,
    current: Mapping[str, Any],
    changes: Iterable[tuple[str, str, Any]],
    title_of: Callable[[str], str | None],
) -> dict[str, Any]:
    """Changes `(property, op, value)` as plain values to set: "add" and "remove" applied to the
    property's current items (labels, linked objects, aliases), "set" passed through."""
    friendly: dict[str, Any] = {}
    issues: list[Issue] = []
    for name, op, value in changes:
        if op == "set":
            friendly[name] = value
            continue
        prop = find_property(structure, name.strip())
        if prop is None or str(prop.type) not in _LIST_TYPES:
            kind = f"a {prop.type} property" if prop is not None else "not a property here"
            issues.append(
                Issue.at(f"properties.{name}", f'"{op}" works on labels, linked objects and aliases ({kind})')
            )
            continue
        items = _current_items(current.get(prop.id))
        given = [str(v) for v in (value if isinstance(value, list) else [value]) if str(v).strip()]
        if op == "add":
            fresh = [ref for ref in given if not any(_matches(item, ref, title_of) for item in items)]
            friendly[name] = [known for known, _ in items] + fresh
        else:
            friendly[name] = [
                known
                for known, label in items
                if not any(_matches((known, label), r, title_of) for r in given)
            ]
    if issues:
        raise ToolInputError("Some changes cannot be applied (nothing was changed):", issues=issues)
    return friendly


ECHO_TOKENS = 300
"""The most of an old or new value a write echoes (get_object reads a long one whole)."""


def changed_values(
    structure: Structure,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    names: Iterable[str],
    title_of: Callable[[str], str | None],
) -> list[str]:
    """`- Name: old → new` for each property named, as the model reads property values."""
    lines: list[str] = []
    for name in names:
        prop = find_property(structure, name.strip())
        if prop is None:
            continue
        old = property_value(before[prop.id], prop, title_of)[1] if prop.id in before else ""
        new = property_value(after[prop.id], prop, title_of)[1] if prop.id in after else ""
        old, new = shorten(old, ECHO_TOKENS), shorten(new, ECHO_TOKENS)  # a long text is not echoed whole
        lines.append(f"- {prop.name or prop.id}: {old or '(empty)'} → {new or '(empty)'}")
    return lines
