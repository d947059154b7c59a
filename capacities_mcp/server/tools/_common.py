"""Input types several tools share: ids, Markdown, typed blocks, property changes, content rules.

Every shape here is closed and typed so strict function-calling converters accept it: property
values are a small union (text, number, flag, list of names), and blocks are a flat list of typed
items whose `depth` says the nesting (no recursive schema, no free-form objects).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from capacities_mcp.api import CapacitiesApiError, Issue
from capacities_mcp.api.models import (
    HEADING_HIERARCHY,
    LIST_PAGE_SIZE_MAX,
    MARKDOWN_MAX_LENGTH,
    SEARCH_QUERY_MAX_LENGTH,
    ApiObject,
    ObjectSummary,
    is_uuid,
)

from .._errors import ToolInputError
from .._render import expand_object_links, has_compact_links, object_title
from .._state import ServerState, SpaceSnapshot
from ._registry import CompactSchema, StrictModel, ToolOutput

__all__ = [
    "BlockItem",
    "Blocks",
    "Markdown",
    "ObjectId",
    "OptionalObjectId",
    "PropertyChange",
    "PropertyChanges",
    "WriteOutput",
    "check_content",
    "learn_linked_titles",
    "one_or_many",
    "property_ops",
    "remember_title",
    "space_names",
    "structure_name",
    "unlinked_note",
    "with_full_links",
    "writable_blocks",
]


def _check_id(value: str) -> str:
    value = value.strip()
    if not is_uuid(value):
        raise ValueError(
            "must be an object id (a UUID such as 3499820e-7529-560d-ba41-e74773fc5004); "
            "find ids with search_objects or list_objects"
        )
    return value


ObjectId = Annotated[
    str,
    AfterValidator(_check_id),
    Field(
        description="Object id (UUID).",
        min_length=1,
        max_length=100,
    ),
]

OptionalObjectId = Annotated[
    str | None,
    AfterValidator(lambda value: None if value is None else _check_id(value)),
    Field(default=None, description="Object id (UUID).", min_length=1, max_length=100),
]

Markdown = Annotated[
    str | None,
    Field(
        default=None,
        max_length=MARKDOWN_MAX_LENGTH,
        description="Markdown (- [ ] to-dos too); object links: [Title](cap:<id>) or [[Title]].",
    ),
]


def one_or_many(value: Any) -> Any:
    """Before-validator: one name where a list of names is expected is that list of one."""
    return [value] if isinstance(value, str) else value


# --- property changes --------------------------------------------------------------------------

# Not nullable: Gemini reads a null branch in a union of several types as an untyped schema.
PropertyValue = str | float | bool | list[str]


class PropertyChange(StrictModel, CompactSchema):
    property: str = Field(min_length=1, max_length=200, description="Property name or id.")
    value: PropertyValue = Field(
        description='Label name(s), "YYYY-MM-DD" (or "start/end"), number, bool, text, or linked '
        'objects\' ids/titles; "" or [] clears.',
    )
    op: Literal["set", "add", "remove"] = Field(
        default="set",
        description='"set" replaces; "add"/"remove" edit single items of a multi-value property.',
    )


def _from_mapping(value: Any) -> Any:
    """`{"Status": "Done"}` (the older shape some clients still send) as a list of changes."""
    if isinstance(value, dict):
        return [{"property": k, "value": "" if v is None else v} for k, v in value.items()]
    return value


PropertyChanges = Annotated[
    list[PropertyChange] | None,
    BeforeValidator(_from_mapping),
    Field(default=None, description="Property values to set; others stay."),
]


def property_ops(changes: list[PropertyChange] | None) -> list[tuple[str, str, Any]]:
    """The changes as `(property, op, value)`, values in the form `to_wire_properties` takes."""
    out: list[tuple[str, str, Any]] = []
    for change in changes or []:
        value: Any = change.value
        if value in ("", []):
            value = None  # clears, whatever the property's type
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        out.append((change.property, change.op, value))
    return out


# --- typed blocks ------------------------------------------------------------------------------

BlockKind = Literal[
    "text",
    "heading",
    "bullet",
    "numbered",
    "letter",
    "roman",
    "todo",
    "toggle",
    "quote",
    "code",
    "math",
    "object",
    "divider",
]
_LIST_TYPES = {"bullet": "bullet", "numbered": "numerical", "letter": "alphabetical", "roman": "roman"}
_TEXT_KINDS = {"text", "heading", "todo", "toggle", "quote", *_LIST_TYPES}


class BlockItem(StrictModel, CompactSchema):
    kind: BlockKind = Field(description="object: embeds object_id")
    text: str | None = Field(default=None, description="plain text, code or LaTeX")
    depth: int = Field(default=0, ge=0, le=20, description="1 = nested in the previous depth-0 item")
    level: int = Field(default=1, ge=1, le=3, description="heading level")
    done: bool = Field(default=False, description="todo ticked")
    language: str = Field(default="plaintext", description="code language")
    object_id: str | None = None
    color: str | None = Field(default=None, description='e.g. "text-rose", "bg-yellow"')
    align: Literal["left", "center", "right"] | None = None

    @field_validator("text")
    @classmethod
    def _bounded(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 100_000:
            raise ValueError("at most 100000 characters")
        return value

    @model_validator(mode="after")
    def _needs_what_its_kind_needs(self) -> BlockItem:
        if self.kind == "object" and not self.object_id:
            raise ValueError('kind "object" needs object_id')
        if self.kind in ("code", "math") and self.text is None:
            raise ValueError(f'kind "{self.kind}" needs text')
        return self


Blocks = Annotated[
    list[BlockItem] | None,
    Field(
        default=None,
        description="Typed blocks, only for what Markdown cannot say (embeds, toggles, colours).",
    ),
]


def _writable_block(item: BlockItem) -> dict[str, Any]:
    """One item as the API's block (without children)."""
    if item.kind == "divider":
        return {"type": "HorizontalLineBlock"}
    if item.kind == "object":
        return {"type": "EntityBlock", "entityId": item.object_id}
    if item.kind == "code":
        return {"type": "CodeBlock", "lang": item.language, "text": item.text}
    if item.kind == "math":
        math: dict[str, Any] = {"type": "MathBlock", "text": item.text}
        return {**math, "colorTheme": item.color} if item.color else math
    block: dict[str, Any] = {
        "type": "TextBlock",
        "tokens": [{"type": "TextToken", "text": item.text or "", "style": {}}],
    }
    if item.kind == "heading":
        block["hierarchy"] = HEADING_HIERARCHY[item.level].model_dump(mode="json")
    if item.kind in _LIST_TYPES:
        block["list"] = {"type": _LIST_TYPES[item.kind]}
    if item.kind == "todo":
        block["todo"] = {"isDone": item.done}
    if item.kind == "toggle":
        block["toggle"] = {"isOpen": True}
    if item.kind == "quote":
        block["quote"] = {"layout": "normal"}
    if item.color:
        block["colorTheme"] = item.color
    if item.align:
        block["textAlignment"] = item.align
    return block


def writable_blocks(items: list[BlockItem]) -> list[dict[str, Any]]:
    """The flat list as a block tree: an item of depth d+1 nests in the previous item of depth d.

    Only the tree is checked here. The API's rules for each block (a colour it knows, ...) are
    checked once, by the client against the route's body model, before anything is sent: its
    issues name the same `blocks[i].field` paths.
    """
    roots: list[dict[str, Any]] = []
    open_parents: list[tuple[BlockItem, dict[str, Any]]] = []  # the last item at each depth
    for index, item in enumerate(items):
        if item.depth > len(open_parents):
            raise ToolInputError(
                f"blocks[{index}] has depth {item.depth} but no item of depth {item.depth - 1} before it.",
                issues=[Issue.at(f"blocks[{index}].depth", "deeper than the item before it allows")],
            )
        del open_parents[item.depth :]
        block = _writable_block(item)
        if open_parents:
            parent_item, parent = open_parents[-1]
            if parent_item.kind not in _TEXT_KINDS:
                raise ToolInputError(
                    f'blocks[{index}] is nested in a "{parent_item.kind}" block, which cannot hold children.',
                    issues=[Issue.at(f"blocks[{index}].depth", "parent cannot nest blocks")],
                )
            parent.setdefault("blocks", []).append(block)
        else:
            roots.append(block)
        open_parents.append((item, block))
    return roots


def check_content(markdown: str | None, blocks: list[BlockItem] | None, *, required: bool) -> None:
    """Content comes as markdown OR blocks: exactly one when `required`, else at most one.

    The one wording for every tool that takes content.
    """
    if markdown is not None and blocks is not None:
        raise ToolInputError(
            "Give the content as markdown OR blocks, not both.",
            issues=[Issue.at("markdown|blocks", "at most one")],
        )
    if required and markdown is None and blocks is None:
        raise ToolInputError(
            "Give the content as markdown OR blocks (exactly one).",
            issues=[Issue.at("markdown|blocks", "exactly one is required")],
        )


class WriteOutput(ToolOutput):
    id: str
    title: str
    structure_id: str
    structure: str


# --- lookups every object tool shares -----------------------------------------------------------

_LISTING_TTL = 300.0
_MAX_TITLE_LISTINGS = 3


async def with_full_links(state: ServerState, markdown: str | None) -> str | None:
    """Markdown to write, with `[Title](cap:<id>)` object links in the form Capacities imports."""
    if not has_compact_links(markdown):
        return markdown
    assert markdown is not None
    snapshot = await state.space.get()
    return expand_object_links(markdown, snapshot.space.id)


# `[[Title]]` or `[[Title|label]]`, as Capacities (and the sandbox) read them; not in code.
_WIKI_LINK = re.compile(r"\[\[([^\[\]\n]*[^\[\]\n\s][^\[\]\n]*)\]\]")
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.DOTALL)
_MAX_CHECKED_LINKS = 10


async def unlinked_note(state: ServerState, markdown: str | None) -> str:
    """A sentence naming each `[[Title]]` in `markdown` that no object is titled (Capacities
    writes those as plain text), or "". Checked by title search before the write; a failed
    search leaves that link unmentioned (this only informs)."""
    if not markdown or "[[" not in markdown:
        return ""
    names: list[str] = []
    for match in _WIKI_LINK.finditer(_CODE.sub("", markdown)):
        name = match.group(1).partition("|")[0].strip()
        if name and name.casefold() not in (n.casefold() for n in names):
            names.append(name)
    missing = [name for name in names[:_MAX_CHECKED_LINKS] if not await _is_a_title(state, name)]
    if not missing:
        return ""
    shown = ", ".join(f"[[{name}]]" for name in missing)
    return (
        f" Not linked: no object is titled {shown}, so Capacities keeps it as plain text. To link, "
        "create that object first, or link an existing one as [Title](cap:<id>)."
    )


async def _is_a_title(state: ServerState, name: str) -> bool:
    try:
        _, exact = await title_search(state, name)
    except CapacitiesApiError:
        return True  # unknown: say nothing rather than something wrong
    return bool(exact)


async def collection_ids(state: ServerState, refs: list[str], structure_id: str | None = None) -> list[str]:
    """Collections by id or title (within `structure_id`'s collections when given)."""
    if all(is_uuid(r) for r in refs):
        return refs
    structure = await state.space.structure(structure_id) if structure_id else None
    return [r if is_uuid(r) else (await state.space.collection(r, structure)).id for r in refs]


async def title_search(
    state: ServerState, title: str, structure_ids: list[str] | None = None
) -> tuple[list[ObjectSummary], list[ObjectSummary]]:
    """The API's title search for `title` (every hit remembered as a known title), and the hits
    titled exactly `title`, ignoring case and edge spaces: how names become ids everywhere."""
    hits = await state.client.objects.search(
        query=title[:SEARCH_QUERY_MAX_LENGTH], structure_ids=structure_ids, limit=20
    )
    for hit in hits.results:
        state.titles.remember(hit.id, hit.title, hit.structure_id)
    wanted = title.strip().casefold()
    return hits.results, [hit for hit in hits.results if hit.title.strip().casefold() == wanted]


def remember_title(state: ServerState, obj: ApiObject) -> str:
    title = object_title(obj)
    state.titles.remember(obj.id, title, obj.structure_id)
    return title


async def space_names(state: ServerState) -> SpaceSnapshot | None:
    """A snapshot to name structures in results. Names are decoration: any snapshot will do,
    even one past its TTL (no request), and an API failure only leaves ids unnamed."""
    snapshot = state.space.cached
    if snapshot is None:
        try:
            snapshot = await state.space.get()
        except CapacitiesApiError:
            return None
    return snapshot


async def structure_name(state: ServerState, structure_id: str) -> str:
    snapshot = await space_names(state)
    return snapshot.structure_name(structure_id) if snapshot is not None else structure_id


async def learn_linked_titles(state: ServerState, obj: ApiObject) -> None:
    """Best effort: list the structures of linked objects whose titles we do not know yet.

    One listing request names every object of a structure (e.g. all tags), so properties read
    "Research (537d…)" instead of a bare id. Failures are ignored: this is decoration.
    """
    try:
        snapshot = await state.space.get()
    except CapacitiesApiError:
        return
    structure = snapshot.structure(obj.structure_id)
    if structure is None:
        return
    wanted: list[str] = []
    for prop in structure.property_definitions:
        value = obj.properties.get(prop.id)
        if getattr(value, "type", None) != "entity" or not prop.allowed_structures:
            continue
        if len(prop.allowed_structures) != 1:
            continue
        if any(state.titles.title(t.id) is None for t in value.entity):  # type: ignore[union-attr]
            target = prop.allowed_structures[0]
            if target not in wanted and not state.titles.listed_recently(target, _LISTING_TTL):
                wanted.append(target)
    for structure_id in wanted[:_MAX_TITLE_LISTINGS]:
        state.titles.mark_listed(structure_id)
        try:
            page = await state.client.objects.structure(structure_id, page_size=LIST_PAGE_SIZE_MAX)
        except CapacitiesApiError:
            continue
        for hit in page.results:
            state.titles.remember(hit.id, hit.title, hit.structure_id)
