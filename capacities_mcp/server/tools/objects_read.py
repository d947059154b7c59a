"""Object tools that read: get_object, search_objects, list_objects.

get_object runs one way: `load_object` makes every request and fills the caches, then
`render_object` cuts the page and writes what the model reads, from what was loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from capacities_mcp.api import CapacitiesError, Issue
from capacities_mcp.api.models import (
    LIST_PAGE_SIZE_MAX,
    SEARCH_LIMIT_MAX,
    SEARCH_QUERY_MAX_LENGTH,
    ApiObject,
    Structure,
    daily_note_title,
    is_uuid,
)

from .._errors import ToolInputError
from .._render import (
    LISTING_TOKENS,
    Page,
    TitleOf,
    block_outline,
    compact_object_links,
    object_title,
    page_hint,
    page_text,
    render_properties,
    shorten,
    size_note,
)
from .._state import ServerState, SpaceSnapshot
from .._tokens import PAGE_TOKENS, PAGE_TOKENS_MAX, estimate_tokens
from ._common import (
    OptionalObjectId,
    learn_linked_titles,
    one_or_many,
    remember_title,
    space_names,
    title_search,
)
from ._properties import parse_date, utc_today
from ._registry import CompactSchema, ToolCall, ToolInput, ToolOutput, ToolReply, ToolSpec, hints
from .objects_query import index_line, key_properties

__all__ = ["SPECS"]

# --- get_object --------------------------------------------------------------------------------

TITLE_TOKENS = 200
"""A title longer than this is shortened in what get_object shows (property="title" reads it)."""

PROPERTY_TOKENS = 1_000
"""The most one property value shows on a first page; the rest is read with property=..."""

PROPERTIES_TOKENS = 4_000
"""The most all property values show together on a first page."""

MIN_PAGE_TOKENS = 500

LISTED_TITLE_TOKENS = 80
"""A title (or snippet) in a listing is shortened beyond this; its id is always shown whole."""

LISTED_VALUE_TOKENS = 40
"""A key property value in a listing is shortened beyond this."""


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
    property: str | None = Field(
        default=None, max_length=200, description="One property's full value (name or id)."
    )
    offset: int = Field(default=0, ge=0, description="next_offset of the last result.")
    max_tokens: int = Field(
        default=PAGE_TOKENS, ge=MIN_PAGE_TOKENS, le=PAGE_TOKENS_MAX, description="Page size (about)."
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
    next_offset: int | None = Field(default=None, description="Set when value is cut: read on with property.")


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
    """Everything get_object shows, fetched: the content in the asked format (or one property's
    value), and on a first page (or for blocks) the object itself with its structure's definition."""

    id: str
    format: str
    title: str
    text: str
    obj: ApiObject | None = None
    structure: Structure | None = None
    structure_name: str | None = None


def _cache_key(args: GetObjectInput) -> str:
    return args.format if args.property is None else f"property {args.property.strip().casefold()}"


async def load_object(state: ServerState, object_id: str, args: GetObjectInput) -> LoadedObject:
    """Every request get_object makes: a later page comes from the cache when it is fresh."""
    key = _cache_key(args)
    cached = state.content.get(object_id, key) if args.offset > 0 else None
    if cached is not None:
        return LoadedObject(object_id, key, title=cached[0], text=cached[1])
    client = state.client
    names = await space_names(state)  # link compaction and the structure's name, both from one snapshot
    obj: ApiObject | None = None
    if args.format == "blocks" or args.offset == 0 or args.property is not None:
        obj = await client.object.get(object_id)
        remember_title(state, obj)
        state.content.put_block_ids(obj)
        if args.offset == 0 or args.property is not None:  # linked titles show in properties
            await learn_linked_titles(state, obj)
    structure = names.structure(obj.structure_id) if names is not None and obj is not None else None
    if args.property is not None:
        assert obj is not None
        text, title = _property_text(obj, structure, args.property, state.titles.title), object_title(obj)
    elif args.format == "markdown":
        text = (await client.object.markdown.get(object_id)).markdown
        if names is not None:
            text = compact_object_links(text, names.space.id)
        title = (
            object_title(obj) if obj is not None else _title_of_export(text, state.titles.title(object_id))
        )
    else:
        assert obj is not None
        text, title = block_outline(obj.blocks, state.titles.title), object_title(obj)
    state.content.put(object_id, key, title, text)
    if obj is None:
        return LoadedObject(object_id, key, title, text)
    name = names.structure_name(obj.structure_id) if names is not None else obj.structure_id
    return LoadedObject(object_id, key, title, text, obj, structure, name)


def _property_text(obj: ApiObject, structure: Structure | None, ref: str, title_of: TitleOf) -> str:
    """One property's whole value as get_object shows it (the title too: it may be long)."""
    wanted = ref.strip().casefold()
    if wanted in ("title", "name"):
        return object_title(obj)
    data, lines = render_properties(obj, structure, title_of)
    for item, line in zip(data, lines, strict=True):
        if wanted in (item["id"].casefold(), item["name"].casefold()):
            return line.removeprefix(f"- {item['name']}: ")
    shown = ", ".join(item["name"] for item in data) or "none"
    raise ToolInputError(
        f'This object has no property "{ref}" with a value. Properties with values: {shown}.',
        issues=[Issue.at("property", "no such property with a value")],
    )


def _title_of_export(markdown: str, known: str | None) -> str:
    first = markdown.split("\n", 1)[0]
    return first[2:].strip() if first.startswith("# ") else (known or "")


def _again(loaded: LoadedObject, args: GetObjectInput) -> str:
    """The call that reads on (without its offset and closing parenthesis)."""
    if args.property is not None:
        return f'get_object(id="{loaded.id}", property="{args.property.strip()}"'
    return f'get_object(id="{loaded.id}"' + (', format="blocks"' if args.format == "blocks" else "")


def _bounded_properties(
    loaded: LoadedObject, obj: ApiObject, title_of: TitleOf
) -> tuple[list[PropertyValueOut], list[str]]:
    """The first page's property values, each long one cut with the call that reads the rest."""
    data, lines = render_properties(obj, loaded.structure, title_of)
    out: list[PropertyValueOut] = []
    shown: list[str] = []
    spent = 0
    for item, line in zip(data, lines, strict=True):
        cost = estimate_tokens(line)
        room = min(PROPERTY_TOKENS, PROPERTIES_TOKENS - spent)
        if cost <= room:
            out.append(PropertyValueOut(**item))
            shown.append(line)
            spent += cost
            continue
        ref = item["name"] if '"' not in item["name"] else item["id"]
        text = line.removeprefix(f"- {item['name']}: ")
        page = page_text(text, 0, room) if room >= 50 else Page("", 0, 0, len(text))
        call = f'get_object(id="{loaded.id}", property="{ref}"'
        shown.append(f"- {item['name']}: {page.chunk}" + page_hint(page, call))
        out.append(PropertyValueOut(**{**item, "value": page.chunk}, next_offset=page.next_offset))
        spent += estimate_tokens(shown[-1])
    return out, shown


def render_object(loaded: LoadedObject, args: GetObjectInput, title_of: TitleOf) -> ToolReply:
    """The page the model reads, with the object's header on the first page."""
    title = shorten(loaded.title, TITLE_TOKENS)
    obj, properties = loaded.obj, None
    if args.property is not None:
        header = [f"# {title} · {args.property.strip()} (characters from {args.offset})\n"]
    elif obj is not None and args.offset == 0:
        properties, lines = _bounded_properties(loaded, obj, title_of)
        header = [_header_line(loaded, obj), *lines]
        if args.format == "blocks" or not loaded.text.startswith("# "):
            header.append(f"\n# {title}")
        header.append("")
    else:
        header = [f"# {title} (continued from character {args.offset})\n"]
    budget = max(args.max_tokens - estimate_tokens("\n".join(header)), MIN_PAGE_TOKENS)
    page = page_text(loaded.text, args.offset, budget)
    if page.total == 0:
        header.append("(no content)" if args.property is None else "(empty)")
    body = "\n".join(header) + "\n" + page.chunk + page_hint(page, _again(loaded, args))
    data_out = GetObjectOutput(
        id=loaded.id,
        title=title,
        structure_id=obj.structure_id if obj else None,
        structure=loaded.structure_name,
        collections=obj.collections if obj else None,
        properties=properties,
        format="property" if args.property is not None else args.format,
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
        title = daily_note_title(parse_date(utc_today() if day.strip().casefold() == "today" else day)[0])
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
    # From the local mirror, when it has them.
    tokens: int | None = None
    properties: list[str] | None = None
    block_id: str | None = None
    snippet: str | None = None


def _refs(state: ServerState, hits: list[Any], names: SpaceSnapshot | None) -> list[ObjectRef]:
    out = []
    for hit in hits:
        state.titles.remember(hit.id, hit.title, hit.structure_id)
        name = names.structure_name(hit.structure_id) if names is not None else hit.structure_id
        out.append(ObjectRef(id=hit.id, title=hit.title, structure_id=hit.structure_id, structure=name))
    return out


def _ref_lines(refs: list[ObjectRef]) -> list[str]:
    return [_ref_line(r) for r in refs]


def _ref_line(r: ObjectRef) -> str:
    line = f"- {r.title or '(untitled)'} — {r.structure} `{r.id}`"
    line += "".join(f" · {p}" for p in r.properties or []) + size_note(r.tokens)
    if r.snippet:
        line += f"\n  {f'block `{r.block_id}`: ' if r.block_id else ''}{r.snippet}"
    return line


async def _with_mirror_values(state: ServerState, refs: list[ObjectRef], names: SpaceSnapshot | None) -> None:
    """Sizes and key property values from the mirror, for the objects it has."""
    if state.mirror is None or not refs:
        return
    rows = await state.mirror.rows([r.id for r in refs])
    for i, ref in enumerate(refs):
        row = rows.get(ref.id)
        if row is not None and row.fetched:
            structure = names.structure(ref.structure_id) if names is not None else None
            found = key_properties(row.keys, structure, state.titles.title)
            refs[i] = ref.model_copy(update={"tokens": row.tokens, "properties": found or None})


def bounded_listing(
    refs: list[ObjectRef], more: Callable[[int, int], str]
) -> tuple[list[ObjectRef], list[str]]:
    """The last step of every listing: long titles, values and snippets shortened, then only as
    many objects as fit one result (as text and as structured content, whichever costs more);
    `more(kept, left)` says how to reach the ones left out."""
    lines: list[str] = []
    kept: list[ObjectRef] = []
    spent = 0
    for ref in refs:
        ref = _shortened(ref)
        line = _ref_line(ref)
        cost = max(estimate_tokens(line), estimate_tokens(ref.model_dump_json())) + 1
        if spent + cost > LISTING_TOKENS:
            break
        kept.append(ref)
        lines.append(line)
        spent += cost
    if len(kept) < len(refs):
        lines.append(more(len(kept), len(refs) - len(kept)))
    return kept, lines


def _shortened(ref: ObjectRef) -> ObjectRef:
    values = [shorten(p, LISTED_VALUE_TOKENS) for p in ref.properties] if ref.properties else None
    snippet = shorten(ref.snippet, LISTED_TITLE_TOKENS) if ref.snippet else None
    title = shorten(ref.title, LISTED_TITLE_TOKENS)
    return ref.model_copy(update={"title": title, "properties": values, "snippet": snippet})


class SearchObjectsInput(ToolInput):
    query: str = Field(
        min_length=1,
        max_length=SEARCH_QUERY_MAX_LENGTH,
        description="Words to find, in any order.",
    )
    structure: Annotated[list[str] | None, BeforeValidator(one_or_many)] = Field(
        default=None, description='Only these structures: names ("Task", "Books") or ids.'
    )
    titles_only: bool = Field(default=False, description="Search titles only.")
    limit: int = Field(default=10, ge=1, le=SEARCH_LIMIT_MAX, description="Most results (1-50).")


class SearchObjectsOutput(ToolOutput):
    results: list[ObjectRef]
    index: str | None = None


async def search_objects(call: ToolCall, args: SearchObjectsInput) -> ToolReply:
    state = call.state
    structure_ids = [(await state.space.structure(ref)).id for ref in args.structure or []] or None
    if state.mirror is not None:
        return await _search_with_mirror(state, args, structure_ids)
    hits = await state.client.objects.search(query=args.query, structure_ids=structure_ids, limit=args.limit)
    results = _refs(state, hits.results, await space_names(state))
    results, lines = bounded_listing(
        results, lambda kept, left: f"… {left} more not shown (size limit): narrow the query or structure."
    )
    if results:
        text = f'{len(results)} object(s) with "{args.query}" in the title:\n' + "\n".join(lines)
    else:
        text = (
            f'No object has "{args.query}" in its title. Search matches titles only, as one phrase: try '
            "fewer or other words, or list_objects to browse a structure or tag."
        )
    return ToolReply(text, SearchObjectsOutput(results=results))


async def _search_with_mirror(
    state: ServerState, args: SearchObjectsInput, structure_ids: list[str] | None
) -> ToolReply:
    """Titles and content from the mirror, merged with the API's title search (which also finds
    objects made a moment ago, before the mirror saw them): title matches first."""
    assert state.mirror is not None
    state.mirror.kick()
    hits = await state.mirror.search(
        args.query, titles_only=args.titles_only, structure_ids=structure_ids, limit=args.limit
    )
    try:
        api = await state.client.objects.search(
            query=args.query, structure_ids=structure_ids, limit=args.limit
        )
        from_api = api.results
    except CapacitiesError:
        if not hits:
            raise
        from_api = []
    names = await space_names(state)
    mirrored = {h.id for h in hits or []}
    refs = {r.id: r for r in _refs(state, [a for a in from_api if a.id not in mirrored], names)}
    for h in hits or []:
        name = names.structure_name(h.structure_id) if names is not None else h.structure_id
        refs[h.id] = ObjectRef(
            id=h.id,
            title=h.title,
            structure_id=h.structure_id,
            structure=name,
            tokens=h.tokens,
            block_id=h.block_id,
            snippet=h.snippet,
        )
        state.titles.remember(h.id, h.title, h.structure_id)
    in_title = [h.id for h in hits or [] if h.title_match]
    order = in_title + [a.id for a in from_api if a.id not in mirrored]
    order += [h.id for h in hits or [] if not h.title_match]
    results, lines = bounded_listing(
        [refs[i] for i in order][: args.limit],
        lambda kept, left: f"… {left} more not shown (size limit): narrow the query or structure.",
    )
    index = await index_line(state)
    where = "titles" if args.titles_only else "titles and content"
    if results:
        text = f'{len(results)} result(s) for "{args.query}" in {where} ({index}):\n' + "\n".join(lines)
    else:
        text = (
            f'Nothing has all of "{args.query}" in its {where} ({index}). Try fewer or other words, '
            "or list_objects to browse a structure or tag."
        )
    return ToolReply(text, SearchObjectsOutput(results=results, index=index))


SEARCH_OBJECTS = ToolSpec(
    name="search_objects",
    title="Search objects",
    description=(
        "Find objects by words in their title or content, in any order, best match first; each hit "
        "shows a snippet and its block id. Optionally titles only or some structures."
    ),
    input_model=SearchObjectsInput,
    output_model=SearchObjectsOutput,
    handler=search_objects,
    annotations=hints(read_only=True, idempotent=True),
)

TITLE_SEARCH_DESCRIPTION = (
    "Find objects whose title contains the query as one phrase (no local mirror: content is not "
    "searched), best match first; optionally only some structures."
)
"""search_objects as it works with --no-mirror: the API's title search only."""


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
    hits, exact = await title_search(state, ref, ["RootTag"])
    if exact:
        return exact[0].id
    near = ", ".join(h.title for h in hits[:5])
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
    names = await space_names(state)
    results = _refs(state, page.results, names)
    await _with_mirror_values(state, results, names)
    next_cursor = page.next_cursor if page.has_more else None
    results, listing = bounded_listing(
        results,
        lambda kept, left: (
            f"… {left} more on this page not shown (size limit): call list_objects again "
            f"with the same filter and cursor and page_size={kept}, then go on with its next_cursor."
        ),
    )
    lines = [f"{len(results)} {label}:" if results else f"No {label} (on this page)."]
    lines.extend(listing)
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
