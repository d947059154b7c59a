"""Object tools that read: get_object, search_objects, list_objects.

get_object runs one way: `load_object` makes every request and fills the caches, then
`render_object` cuts the page and writes what the model reads, from what was loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from capacities_mcp.api import Issue
from capacities_mcp.api.models import (
    LIST_PAGE_SIZE_MAX,
    SEARCH_LIMIT_MAX,
    SEARCH_QUERY_MAX_LENGTH,
    ApiObject,
    Structure,
    is_uuid,
)

from .._errors import ToolInputError
from .._render import (
    TitleOf,
    block_outline,
    compact_object_links,
    object_title,
    page_hint,
    page_text,
    render_properties,
)
from .._state import ServerState, SpaceSnapshot
from ._common import OptionalObjectId, learn_linked_titles, one_or_many, remember_title, space_names
from ._properties import parse_date, utc_today
from ._registry import CompactSchema, ToolCall, ToolInput, ToolOutput, ToolReply, ToolSpec, hints

__all__ = ["SPECS"]

# --- get_object --------------------------------------------------------------------------------


class GetObjectInput(ToolInput):
    id: OptionalObjectId
    daily_note: str | None = Field(
        default=None,
        max_length=40,
        description='Instead of id: the daily note of a day, "YYYY-MM-DD" or "today".',
    )
    format: Literal["markdown", "blocks"] = Field(
        default="markdown",
        description='"markdown" (default), or "blocks": an outline with each block\'s id and kind, for '
        "append_blocks, update_block, delete_block.",
    )
    offset: int = Field(
        default=0, ge=0, description="Character offset of the next page (from the last result)."
    )
    max_chars: int = Field(
        default=20_000, ge=500, le=60_000, description="Most content characters this call."
    )


# What a readable property value can be: text, number, flag, a list (labels, linked objects,
# aliases) or an object (a date range, an icon); declared so clients know it is JSON, not "any".
PropertyJson = (
    str | int | float | bool | list[str | int | float | bool | dict[str, Any]] | dict[str, Any] | None
)


class PropertyValueOut(CompactSchema):
    id: str
    name: str
    type: str
    value: PropertyJson


class GetObjectOutput(ToolOutput):
    id: str
    title: str
    structure_id: str | None
    structure: str | None
    collections: list[str] | None
    properties: list[PropertyValueOut] | None = Field(description="Only on the first page (offset 0).")
    format: str
    content: str
    offset: int
    next_offset: int | None
    total_chars: int


@dataclass(frozen=True)
class LoadedObject:
    """Everything get_object shows, fetched: the content in the asked format, and on a first page
    (or for blocks) the object itself with its structure's definition."""

    id: str
    format: str
    title: str
    text: str
    obj: ApiObject | None = None
    structure: Structure | None = None
    structure_name: str | None = None


async def load_object(state: ServerState, object_id: str, args: GetObjectInput) -> LoadedObject:
    """Every request get_object makes: a later page comes from the cache when it is fresh."""
    cached = state.content.get(object_id, args.format) if args.offset > 0 else None
    if cached is not None:
        return LoadedObject(object_id, args.format, title=cached[0], text=cached[1])
    client = state.client
    names = await space_names(state)  # link compaction and the structure's name, both from one snapshot
    obj: ApiObject | None = None
    if args.format == "blocks" or args.offset == 0:
        obj = await client.object.get(object_id)
        remember_title(state, obj)
        state.content.put_block_ids(obj)
        if args.offset == 0:  # linked titles only show in the properties of the first page
            await learn_linked_titles(state, obj)
    if args.format == "markdown":
        text = (await client.object.markdown.get(object_id)).markdown
        if names is not None:
            text = compact_object_links(text, names.space.id)
        title = (
            object_title(obj) if obj is not None else _title_of_export(text, state.titles.title(object_id))
        )
    else:
        assert obj is not None
        text, title = block_outline(obj.blocks, state.titles.title), object_title(obj)
    state.content.put(object_id, args.format, title, text)
    if obj is None:
        return LoadedObject(object_id, args.format, title, text)
    structure = names.structure(obj.structure_id) if names is not None else None
    name = names.structure_name(obj.structure_id) if names is not None else obj.structure_id
    return LoadedObject(object_id, args.format, title, text, obj, structure, name)


def _title_of_export(markdown: str, known: str | None) -> str:
    first = markdown.split("\n", 1)[0]
    return first[2:].strip() if first.startswith("# ") else (known or "")


def render_object(loaded: LoadedObject, args: GetObjectInput, title_of: TitleOf) -> ToolReply:
    """The page the model reads, with the object's header on the first page."""
    page = page_text(loaded.text, args.offset, args.max_chars)
    again = f'get_object(id="{loaded.id}"' + (', format="blocks"' if args.format == "blocks" else "")
    obj, properties = loaded.obj, None
    if obj is not None and args.offset == 0:
        data, lines = render_properties(obj, loaded.structure, title_of)
        properties = [PropertyValueOut(**d) for d in data]
        header = [_header_line(loaded, obj), *lines]
        if args.format == "blocks" or not loaded.text.startswith("# "):
            header.append(f"\n# {loaded.title}")
        header.append("")
    else:
        header = [f"# {loaded.title} (continued: characters {page.offset}-{page.end} of {page.total})\n"]
    if page.total == 0:
        header.append("(no content)")
    body = "\n".join(header) + "\n" + page.chunk + page_hint(page, again)
    data_out = GetObjectOutput(
        id=loaded.id,
        title=loaded.title,
        structure_id=obj.structure_id if obj else None,
        structure=loaded.structure_name,
        collections=obj.collections if obj else None,
        properties=properties,
        format=args.format,
        content=page.chunk,
        offset=page.offset,
        next_offset=page.next_offset,
        total_chars=page.total,
    )
    return ToolReply(body, data_out)


def _header_line(loaded: LoadedObject, obj: ApiObject) -> str:
    names = {c.id: c.title for c in loaded.structure.collections} if loaded.structure else {}
    where = ""
    if obj.collections:
        where = " · in collections " + ", ".join(
            f"{names[c]} [{c}]" if c in names else c for c in obj.collections
        )
    return f"{loaded.structure_name} `{obj.id}`{where}"


async def _daily_note_id(state: ServerState, day: str) -> str:
    """The id of the daily note of `day` (its title is the day as an ISO timestamp at midnight)."""
    try:
        title = (
            parse_date(utc_today() if day.strip().casefold() == "today" else day)[0][:10] + "T00:00:00.000Z"
        )
    except ValueError as exc:
        raise ToolInputError(
            "The daily_note day is not valid:", issues=[Issue.at("daily_note", str(exc))]
        ) from exc
    hits = await state.client.objects.search(query=title, structure_ids=["RootDailyNote"], limit=5)
    for hit in hits.results:
        if hit.title == title:
            return hit.id
    raise ToolInputError(
        f"No daily note for {title[:10]}: nothing was written that day.",
        code="not_found_in_space",
        next_step=f'append_to_daily_note(date="{title[:10]}") starts one.',
    )


async def get_object(call: ToolCall, args: GetObjectInput) -> ToolReply:
    if (args.id is None) == (args.daily_note is None):
        raise ToolInputError(
            "Give id (or daily_note instead), not both.",
            issues=[Issue.at("id", "required, missing" if args.id is None else "not with daily_note")],
        )
    object_id = args.id if args.daily_note is None else await _daily_note_id(call.state, args.daily_note)
    assert object_id is not None
    loaded = await load_object(call.state, object_id, args)
    return render_object(loaded, args, call.state.titles.title)


GET_OBJECT = ToolSpec(
    name="get_object",
    title="Read an object",
    description=(
        "Read one object by id (or a day's daily note): type, properties in readable form (labels, "
        'dates, linked objects as title + id) and content as Markdown, or with format="blocks" an '
        "outline of block ids. Long content comes in pages; the result ends with the next offset."
    ),
    input_model=GetObjectInput,
    output_model=GetObjectOutput,
    handler=get_object,
    annotations=hints(read_only=True, idempotent=True),
)


# --- search_objects / list_objects -------------------------------------------------------------


class ObjectRef(CompactSchema):
    id: str
    title: str
    structure_id: str
    structure: str


def _refs(state: ServerState, hits: list[Any], names: SpaceSnapshot | None) -> list[ObjectRef]:
    out = []
    for hit in hits:
        state.titles.remember(hit.id, hit.title, hit.structure_id)
        name = names.structure_name(hit.structure_id) if names is not None else hit.structure_id
        out.append(ObjectRef(id=hit.id, title=hit.title, structure_id=hit.structure_id, structure=name))
    return out


def _ref_lines(refs: list[ObjectRef]) -> list[str]:
    return [f"- {r.title or '(untitled)'} — {r.structure} `{r.id}`" for r in refs]


class SearchObjectsInput(ToolInput):
    query: str = Field(
        min_length=1,
        max_length=SEARCH_QUERY_MAX_LENGTH,
        description="A phrase from the title (titles only, matched as one contiguous phrase).",
    )
    structure: Annotated[list[str] | None, BeforeValidator(one_or_many)] = Field(
        default=None, description='Only these structures: names ("Task", "Books") or ids.'
    )
    limit: int = Field(default=10, ge=1, le=SEARCH_LIMIT_MAX, description="Most results (1-50).")


class SearchObjectsOutput(ToolOutput):
    results: list[ObjectRef]


async def search_objects(call: ToolCall, args: SearchObjectsInput) -> ToolReply:
    state = call.state
    structure_ids = [(await state.space.structure(ref)).id for ref in args.structure or []] or None
    hits = await state.client.objects.search(query=args.query, structure_ids=structure_ids, limit=args.limit)
    results = _refs(state, hits.results, await space_names(state))
    if results:
        text = f'{len(results)} object(s) with "{args.query}" in the title:\n' + "\n".join(
            _ref_lines(results)
        )
    else:
        text = (
            f'No object has "{args.query}" in its title. Search matches titles only, as one phrase: try '
            "fewer or other words, or list_objects to browse a structure or tag."
        )
    return ToolReply(text, SearchObjectsOutput(results=results))


SEARCH_OBJECTS = ToolSpec(
    name="search_objects",
    title="Search objects by title",
    description=(
        "Find objects whose TITLE contains the query as one phrase (content is not searched), best "
        "match first, optionally only in some structures. Returns title, type and id of each."
    ),
    input_model=SearchObjectsInput,
    output_model=SearchObjectsOutput,
    handler=search_objects,
    annotations=hints(read_only=True, idempotent=True),
)


class ListObjectsInput(ToolInput):
    structure: str | None = Field(
        default=None, description='All objects of this structure: name ("Tasks") or id.'
    )
    tag: str | None = Field(default=None, description="All objects with this tag: its id or title.")
    collection: str | None = Field(
        default=None, description="All objects in this collection: its id or title."
    )
    page_size: int = Field(default=25, ge=1, le=LIST_PAGE_SIZE_MAX, description="Objects per page (1-100).")
    cursor: str | None = Field(default=None, max_length=2000, description="next_cursor of the previous page.")


class ListObjectsOutput(ToolOutput):
    results: list[ObjectRef]
    has_more: bool
    next_cursor: str | None


async def _tag_id(state: ServerState, ref: str) -> str:
    if is_uuid(ref):
        return ref
    hits = await state.client.objects.search(
        query=ref[:SEARCH_QUERY_MAX_LENGTH], structure_ids=["RootTag"], limit=20
    )
    for hit in hits.results:
        state.titles.remember(hit.id, hit.title, hit.structure_id)
        if hit.title.casefold().strip() == ref.casefold().strip():
            return hit.id
    near = ", ".join(h.title for h in hits.results[:5])
    raise ToolInputError(
        f'No tag titled "{ref}".'
        + (f" Similar tags: {near}." if near else "")
        + ' list_objects(structure="Tag") lists all tags.',
        issues=[Issue.at("tag", "unknown tag")],
    )


def _one_filter(args: ListObjectsInput) -> tuple[str, str]:
    given = [
        (k, v.strip())
        for k, v in (("structure", args.structure), ("tag", args.tag), ("collection", args.collection))
        if v and v.strip()
    ]
    if len(given) != 1:
        raise ToolInputError(
            "Give exactly one of structure, tag or collection"
            + (f" (got {', '.join(k for k, _ in given)})." if given else "."),
            issues=[Issue.at("structure|tag|collection", "exactly one is required")],
        )
    return given[0]


async def list_objects(call: ToolCall, args: ListObjectsInput) -> ToolReply:
    state, client = call.state, call.state.client
    kind, ref = _one_filter(args)
    if kind == "structure":
        structure = await state.space.structure(ref)
        label = structure.plural_name
        page = await client.objects.structure(structure.id, args.page_size, args.cursor)
        state.titles.mark_listed(structure.id)
    elif kind == "tag":
        tag_id = await _tag_id(state, ref)
        label = f"objects tagged {state.titles.title(tag_id) or tag_id}"
        page = await client.objects.tag(tag_id, args.page_size, args.cursor)
    else:
        collection_id = ref if is_uuid(ref) else (await state.space.collection(ref)).id
        label = f"objects in collection {ref}"
        page = await client.objects.collection(collection_id, args.page_size, args.cursor)
    results = _refs(state, page.results, await space_names(state))
    next_cursor = page.next_cursor if page.has_more else None
    lines = [f"{len(results)} {label}:" if results else f"No {label} (on this page)."]
    lines.extend(_ref_lines(results))
    if next_cursor:
        lines.append(f'More: call list_objects with the same filter and cursor="{next_cursor}".')
    return ToolReply(
        "\n".join(lines),
        ListObjectsOutput(results=results, has_more=bool(next_cursor), next_cursor=next_cursor),
    )


LIST_OBJECTS = ToolSpec(
    name="list_objects",
    title="List objects",
    description=(
        "Browse the objects of ONE structure (e.g. all Tasks), tag or collection (each by id or "
        "title), a page at a time; pass next_cursor to continue. Returns title, type and id of each."
    ),
    input_model=ListObjectsInput,
    output_model=ListObjectsOutput,
    handler=list_objects,
    annotations=hints(read_only=True, idempotent=True),
)

SPECS = (GET_OBJECT, SEARCH_OBJECTS, LIST_OBJECTS)
