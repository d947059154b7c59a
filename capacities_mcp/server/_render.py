"""What the model reads: compact Markdown, readable property values, and paged long content.

Principles: every id the model may need for a next call is printed in full, nothing else that
costs tokens without helping (no raw JSON, no colours, no empty properties). Labels appear by
name, dates as ISO days, linked objects as "Title (id)" when the title is known.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from capacities_mcp.api.models import (
    ApiObject,
    CodeBlock,
    CodeToken,
    DatePayload,
    EntityBlock,
    GridBlock,
    GroupBlock,
    HorizontalLineBlock,
    LinkToken,
    MathBlock,
    MathToken,
    ObjectMarkdown,
    PropertyDefinition,
    Space,
    Structure,
    TextBlock,
    TextToken,
    UnsupportedBlock,
)

from ._tokens import PAGE_TOKENS, RESULT_TOKENS_MAX, estimate_tokens, token_end, token_span

__all__ = [
    "LINE_TOKENS",
    "LISTING_TOKENS",
    "Page",
    "block_ids",
    "block_outline",
    "bound_lines",
    "bound_result",
    "compact_object_links",
    "date_text",
    "expand_object_links",
    "has_compact_links",
    "page_text",
    "plain_text",
    "property_value",
    "render_object_markdown",
    "render_properties",
    "render_space",
    "shorten",
    "structure_lines",
]

TitleOf = Callable[[str], "str | None"]

LISTING_TOKENS = RESULT_TOKENS_MAX - 1_000
"""What a listing's lines may cost together: the rest of the result (head line, hints) fits."""


# --- text pieces -------------------------------------------------------------------------------


def plain_text(tokens: Iterable[Any]) -> str:
    """Tokens as inline Markdown: bold/italic kept, links as [text](target)."""
    out: list[str] = []
    for token in tokens:
        if isinstance(token, TextToken):
            text = token.text
            style = token.style
            if style.bold and text.strip():
                text = f"**{text}**"
            if style.italic and text.strip():
                text = f"*{text}*"
            if style.strikethrough and text.strip():
                text = f"~~{text}~~"
            out.append(text)
        elif isinstance(token, LinkToken):
            target = token.url or (f"object {token.entity_id}" if token.entity_id else None)
            if token.date is not None:
                target = date_text(token.date)
            out.append(f"[{token.text}]({target})" if target else token.text)
        elif isinstance(token, CodeToken):
            out.append(f"`{token.text}`")
        elif isinstance(token, MathToken):
            out.append(f"${token.text}$")
        else:
            out.append(str(getattr(token, "text", "")))
    return "".join(out)


def _day_or_time(value: str | None, resolution: str) -> str | None:
    if value is None:
        return None
    if resolution == "day" and value.endswith("T00:00:00.000Z"):
        return value[:10]
    return value.replace(".000Z", "Z")


def date_text(date: DatePayload) -> str:
    start = _day_or_time(date.start, date.date_resolution)
    end = _day_or_time(date.end, date.date_resolution)
    if start is None:
        return ""
    return f"{start} → {end}" if end and end != start else start


def property_value(value: Any, definition: PropertyDefinition | None, title_of: TitleOf) -> tuple[Any, str]:
    """(JSON-friendly readable value, one-line text) of one property value."""
    kind = getattr(value, "type", None)
    if kind in ("title", "text", "url", "number", "boolean"):
        inner = getattr(value, kind).value
        if kind == "boolean":
            return inner, "" if inner is None else ("yes" if inner else "no")
        return inner, "" if inner is None else str(inner)
    if kind == "date":
        date = value.date
        data = {
            "start": _day_or_time(date.start, date.date_resolution),
            "end": _day_or_time(date.end, date.date_resolution),
        }
        return (data if date.start else None), date_text(date)
    if kind == "label":
        names = [option.name for option in value.label]
        return names, ", ".join(names)
    if kind == "entity":
        linked = []
        for target in value.entity:
            title = title_of(target.id)
            linked.append({"id": target.id, "title": title})
        text = ", ".join(f"{x['title']} ({x['id']})" if x["title"] else str(x["id"]) for x in linked)
        return linked, text
    if kind == "aliases":
        return list(value.aliases.value), ", ".join(value.aliases.value)
    if kind == "icon":
        icon = value.icon.value
        return (icon.val if icon else None), (icon.val if icon else "")
    if kind == "createdAt":
        return value.created_at.value, value.created_at.value.replace(".000Z", "Z")
    if kind == "lastUpdatedAt":
        return value.last_updated_at.value, value.last_updated_at.value.replace(".000Z", "Z")
    if kind == "richText":
        text = plain_text(value.rich_text.value)
        return text, text
    extra = value.model_dump(mode="json", by_alias=True) if hasattr(value, "model_dump") else value
    return extra, json.dumps(extra, ensure_ascii=False)[:300]


def render_properties(
    obj: ApiObject, structure: Structure | None, title_of: TitleOf
) -> tuple[list[dict[str, Any]], list[str]]:
    """Readable properties (structured, and as Markdown bullet lines), title excluded, empty skipped.

    Ordered as the structure defines them; properties the structure does not list come last.
    """
    definitions = {p.id: p for p in structure.property_definitions} if structure else {}
    order = list(definitions) + [k for k in obj.properties if k not in definitions]
    data: list[dict[str, Any]] = []
    lines: list[str] = []
    for key in order:
        value = obj.properties.get(key)
        if value is None or getattr(value, "type", None) == "title":
            continue
        definition = definitions.get(key)
        readable, text = property_value(value, definition, title_of)
        if readable in (None, "", []):
            continue
        name = (definition.name if definition else "") or key
        data.append({"id": key, "name": name, "type": str(getattr(value, "type", "")), "value": readable})
        lines.append(f"- {name}: {text}")
    return data, lines


def object_title(obj: ApiObject) -> str:
    title = obj.properties.get("title")
    value = getattr(getattr(title, "title", None), "value", None)
    return value if isinstance(value, str) else ""


# --- blocks ------------------------------------------------------------------------------------


def _block_kind(block: Any) -> str:
    if isinstance(block, TextBlock):
        parts: list[str] = []
        key = block.hierarchy.key
        if key != "Base":
            parts.append(key.lower())
        if block.list_ is not None:
            parts.append(block.list_.type)
        if block.todo is not None:
            parts.append("todo[x]" if block.todo.is_done else "todo[ ]")
        if block.quote is not None:
            parts.append("quote")
        if block.toggle is not None:
            parts.append("toggle")
        return "text" + (f" {' '.join(parts)}" if parts else "")
    if isinstance(block, GroupBlock):
        return "group"
    if isinstance(block, GridBlock):
        return f"grid {len(block.columns)} columns"
    if isinstance(block, CodeBlock):
        return f"code {block.lang}".rstrip()
    if isinstance(block, MathBlock):
        return "math"
    if isinstance(block, EntityBlock):
        return "embed"
    if isinstance(block, HorizontalLineBlock):
        return "divider"
    if isinstance(block, UnsupportedBlock):
        return f"unsupported {block.block_type}"
    return str(getattr(block, "type", "block"))


def _block_text(block: Any, title_of: TitleOf) -> str:
    if isinstance(block, TextBlock):
        return plain_text(block.tokens)
    if isinstance(block, (CodeBlock, MathBlock)):
        first = block.text.splitlines()[0] if block.text else ""
        more = " …" if "\n" in block.text else ""
        return first + more
    if isinstance(block, EntityBlock):
        if block.entity_id is None:
            return "(empty)"
        title = title_of(block.entity_id)
        return f"{title} ({block.entity_id})" if title else block.entity_id
    return ""


def block_children(block: Any) -> list[Any]:
    """The blocks nested in `block` (a grid's columns flattened)."""
    if isinstance(block, (TextBlock, GroupBlock)):
        return list(block.blocks)
    if isinstance(block, GridBlock):
        return [child for column in block.columns for child in column]
    return []


def _depth_first(items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    """(depth, block) in document order, without recursion (a tree may be very deep)."""
    stack: list[tuple[int, Any]] = [(0, block) for block in reversed(items)]
    while stack:
        depth, block = stack.pop()
        yield depth, block
        stack.extend((depth + 1, child) for child in reversed(block_children(block)))


def block_outline(blocks: dict[str, list[Any]] | None, title_of: TitleOf) -> str:
    """One line per block: `- <id> <kind>: <text>`, children indented, per block property."""
    lines: list[str] = []
    for property_id, items in (blocks or {}).items():
        lines.append(f"[property {property_id}]")
        for depth, block in _depth_first(items):
            text = _block_text(block, title_of)
            lines.append(
                f"{'  ' * depth}- {getattr(block, 'id', '?')} {_block_kind(block)}"
                + (f": {text}" if text else "")
            )
    return "\n".join(lines) + ("\n" if lines else "")


def block_ids(blocks: dict[str, list[Any]] | None) -> list[tuple[str, str, Any]]:
    """Every block as (property id, block id, block), depth first, in document order."""
    return [
        (property_id, block.id, block)
        for property_id, items in (blocks or {}).items()
        for _, block in _depth_first(items)
        if getattr(block, "id", None)
    ]


def block_summary(block: Any, title_of: TitleOf) -> str:
    text = _block_text(block, title_of)
    return f"{_block_kind(block)}" + (f": {text[:80]}{'…' if len(text) > 80 else ''}" if text else "")


# --- paging ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """`text[offset:end]` of a text of `total` characters; `end == total` on the last page.

    Offsets count characters (they stay valid whatever a page's size); pages are sized in
    estimated tokens (see `_tokens`).
    """

    chunk: str
    offset: int
    end: int
    total: int
    # Estimated tokens per character where the page was cut: sizes the rest in `page_hint`.
    density: float = 0.0

    @property
    def next_offset(self) -> int | None:
        return self.end if self.end < self.total else None

    @property
    def remaining(self) -> int:
        return self.total - self.end


def page_text(text: str, offset: int, max_tokens: int) -> Page:
    """Cut `text` from `offset`, at most `max_tokens` (estimated), preferring a paragraph, line,
    then word end.

    The boundary is searched only in the second half of the window, so a page is never tiny.
    Concatenating the pages of successive `next_offset`s gives back `text` exactly.
    """
    total = len(text)
    offset = min(max(offset, 0), total)
    hard_end, tokens = token_span(text, offset, max_tokens)
    density = tokens / max(hard_end - offset, 1)
    if hard_end >= total:
        return Page(text[offset:], offset, total, total, density)
    floor = offset + (hard_end - offset) // 2
    end = hard_end
    for separator in ("\n\n", "\n", " "):
        at = text.rfind(separator, floor, hard_end)
        if at != -1:
            end = at + len(separator)
            break
    return Page(text[offset:end], offset, end, total, density)


def size_note(tokens: int | None) -> str:
    """How long an object is, for listings: " · ~7,600 tokens", with the pages get_object needs."""
    if not tokens:
        return ""
    pages = -(-tokens // PAGE_TOKENS)
    return f" · ~{tokens:,} tokens" + (f" ({pages} pages)" if pages > 1 else "")


def page_hint(page: Page, call: str, unit: str = "") -> str:
    """How to read on: the rest's size (estimated at this page's density) and the call.

    `call` is the tool call without its closing parenthesis (the offset goes last).
    """
    if page.next_offset is None:
        return ""
    tokens = max(int(page.remaining * page.density), 1)
    return f"\n… about {_thousands(tokens)} more tokens{unit}: call {call}, offset={page.next_offset})"


def _thousands(number: int) -> str:
    return f"{number:,}" if number < 1000 else f"{round(number, -2):,}"


def shorten(text: str, max_tokens: int) -> str:
    """`text`, or its start and end around "…" when it costs more than `max_tokens` (a title)."""
    if estimate_tokens(text) <= max_tokens:
        return text
    head = token_end(text, 0, max_tokens * 2 // 3)
    tail = len(text) - token_end(text[::-1], 0, max_tokens // 3)
    return text[:head].rstrip() + " … " + text[max(tail, head) :].lstrip()


LINE_TOKENS = 150
"""The most one line of a listing costs: a long title is shortened, its id (at the end) kept."""


def bound_lines(
    lines: Sequence[str], budget: int = LISTING_TOKENS, line_tokens: int = LINE_TOKENS
) -> tuple[list[str], int]:
    """A listing's lines cut to fit `budget` tokens: long lines shortened in the middle (their
    end, with the id, stays), then as many lines as fit. Returns the lines and how many were
    left out, for the caller's continuation hint."""
    kept: list[str] = []
    spent = 0
    for line in lines:
        cost = estimate_tokens(line)
        if cost > line_tokens:  # rare: only a shortened line is measured twice
            line = shorten(line, line_tokens)
            cost = estimate_tokens(line)
        cost += 1  # its newline
        if spent + cost > budget:
            break
        kept.append(line)
        spent += cost
    return kept, len(lines) - len(kept)


def bound_result(text: str) -> str:
    """The last guard on every tool result: text beyond the ceiling is cut, saying so.

    Tools size their own results (pages, listings, property values), so this should never cut;
    it is there so that no result, whatever a tool missed, costs a model more than the ceiling.
    A text of at most 20,000 UTF-8 bytes is under it for sure (a token is at least one byte).
    """
    if len(text) <= RESULT_BYTES_SURE and len(text.encode("utf-8")) <= RESULT_BYTES_SURE:
        return text
    if estimate_tokens(text) <= RESULT_TOKENS_MAX:
        return text
    end = token_end(text, 0, RESULT_TOKENS_MAX - 100)
    return text[:end] + "\n… (result cut at the size limit: ask for less, e.g. a smaller page)"


RESULT_BYTES_SURE = 20_000


# --- space -------------------------------------------------------------------------------------


def _property_line(prop: PropertyDefinition) -> str:
    name = prop.name or prop.id
    parts = [str(prop.type)]
    if prop.type == "label":
        parts.append(
            ("multi" if prop.multiple else "single") + ": " + " | ".join(o.name for o in prop.label_set or [])
        )
    if prop.type == "entity" and prop.allowed_structures:
        parts.append("→ " + ", ".join(prop.allowed_structures))
    if not prop.writable:
        parts.append("read-only")
    return f"  - {name} [{prop.id}] ({'; '.join(parts)})"


SPACE_LINE_TOKENS = 600
"""A property line of get_space may list many label options: shortened only beyond this."""


def structure_lines(structure: Structure) -> list[str]:
    head = f"- **{structure.title}** (plural {structure.plural_name}) id `{structure.id}`"
    lines = [head]
    for prop in structure.property_definitions:
        if prop.type == "title":
            continue
        lines.append(_property_line(prop))
    if structure.collections:
        lines.append("  - collections: " + ", ".join(f"{c.title} [{c.id}]" for c in structure.collections))
    return lines


def render_space(space: Any, structures: Sequence[Structure] | None = None) -> str:
    """The space and its structures as Markdown (what get_space and capacities://space show).

    Accepts `(space, structures)` or a single snapshot with `.space` and `.structures`.
    """
    if structures is None and hasattr(space, "structures"):
        structures = list(space.structures)
        space = space.space
    assert isinstance(space, Space)
    lines = [
        f"# Space: {space.title} (id `{space.id}`)",
        "",
        "Structures (object types). Properties: name [id] (type; options). Use names or ids in "
        "create_object / update_object; every object also has a title.",
    ]
    body = [line for structure in structures or [] for line in structure_lines(structure)]
    kept, left = bound_lines(body, line_tokens=SPACE_LINE_TOKENS)
    lines.extend(kept)
    if left:
        lines.append(
            f"… {left} more lines not shown (size limit). create_object and update_object name a "
            "type's properties and options when a name does not match."
        )
    return "\n".join(lines) + "\n"


def render_object_markdown(
    markdown: ObjectMarkdown | str, *, note: str | None = None, offset: int = 0
) -> str:
    """One page of an object's exported Markdown for the capacities://object/{id} resource.

    The footer names the object and, when more follows, the URI of the next page.
    """
    if isinstance(markdown, str):
        return markdown
    page = page_text(markdown.markdown, offset, PAGE_TOKENS)
    where = f"capacities object {markdown.id} ({markdown.structure_id})"
    if page.offset > 0 or page.next_offset is not None:
        where += f", characters {page.offset}-{page.end} of {page.total}"
    if page.next_offset is not None:
        where += f"; next page: capacities://object/{markdown.id}?offset={page.next_offset}"
    head = f"> {note}\n\n" if note and page.offset == 0 else ""
    return head + page.chunk + f"\n\n<!-- {where} -->\n"  # the chunk as is: pages join exactly


# --- object links ------------------------------------------------------------------------------

_APP = "https://app.capacities.io/"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_COMPACT_LINK = re.compile(rf"\]\(cap:({_UUID})\)")


def compact_object_links(markdown: str, space_id: str) -> str:
    """`[Title](https://app.capacities.io/<space>/<id>)` as `[Title](cap:<id>)`: half the tokens.

    The long form is how Capacities exports a link to an object; `expand_object_links` turns the
    short one back before anything is written, so the agent can paste what it read.
    """
    return markdown.replace(f"]({_APP}{space_id}/", "](cap:")


def expand_object_links(markdown: str, space_id: str) -> str:
    """The inverse of `compact_object_links`, for Markdown an agent writes."""
    return _COMPACT_LINK.sub(lambda m: f"]({_APP}{space_id}/{m.group(1)})", markdown)


def has_compact_links(markdown: str | None) -> bool:
    return markdown is not None and "](cap:" in markdown
