"""Object tools: read (get, search, list) and write (create, save weblink, update, delete).

Each tool is one unit: an input model (what the model may send, with per-field descriptions), a
handler (a few client calls), and an output model plus Markdown text (what comes back).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.types import ToolAnnotations
from pydantic import AfterValidator, BaseModel, Field, TypeAdapter, ValidationError

from capacities_mcp.api import CapacitiesApiError, CapacitiesValidationError, issues_from
from capacities_mcp.api.models import (
    LIST_PAGE_SIZE_MAX,
    MARKDOWN_MAX_LENGTH,
    SEARCH_LIMIT_MAX,
    SEARCH_QUERY_MAX_LENGTH,
    ApiObject,
    WritableBlock,
    is_uuid,
)

from .._errors import FieldIssue, PartialWrite, ToolInputError
from .._render import (
    block_outline,
    object_title,
    page_hint,
    page_text,
    render_properties,
)
from .._state import ServerState, SpaceSnapshot
from ._properties import title_value, to_wire_properties
from ._registry import CompactSchema, ToolCall, ToolInput, ToolOutput, ToolReply, ToolSpec, state_of

__all__ = ["SPECS"]

_LISTING_TTL = 300.0
_MAX_TITLE_LISTINGS = 3


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
        description="The object's id (a UUID, as returned by search_objects or list_objects).",
        min_length=1,
        max_length=100,
    ),
]


def _remember(state: ServerState, obj: ApiObject) -> str:
    title = object_title(obj)
    state.titles.remember(obj.id, title, obj.structure_id)
    return title


async def _names(state: ServerState) -> SpaceSnapshot | None:
    """A snapshot to name structures in results. Names are decoration: any snapshot will do,
    even one past its TTL (no request), and an API failure only leaves ids unnamed."""
    snapshot = state.space.cached
    if snapshot is None:
        try:
            snapshot = await state.space.get()
        except CapacitiesApiError:
            return None
    return snapshot


async def _structure_name(state: ServerState, structure_id: str) -> str:
    snapshot = await _names(state)
    return snapshot.structure_name(structure_id) if snapshot is not None else structure_id


async def _learn_linked_titles(state: ServerState, obj: ApiObject) -> None:
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


# --- get_object --------------------------------------------------------------------------------


class GetObjectInput(ToolInput):
    id: ObjectId
    format: Literal["markdown", "blocks"] = Field(
        default="markdown",
        description='"markdown" (default): the content as Markdown. "blocks": an outline with '
        "every block's id and kind, for append_blocks(after_block_id), update_block, delete_block.",
    )
    offset: int = Field(
        default=0,
        ge=0,
        description="Character offset to continue long content from (given in the previous result).",
    )
    max_chars: int = Field(
        default=20_000, ge=500, le=60_000, description="Most content characters to return in this call."
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


async def get_object(call: ToolCall, args: GetObjectInput) -> ToolReply:
    state, client = call.state, call.state.client
    cached = state.content.get(args.id, args.format) if args.offset > 0 else None
    obj: ApiObject | None = None
    if cached is not None:
        title, text = cached
    else:
        if args.format == "blocks" or args.offset == 0:
            obj = await client.object.get(args.id)
            title = _remember(state, obj)
            state.content.put_block_ids(obj)
            if args.offset == 0:  # linked titles only show in the properties of the first page
                await _learn_linked_titles(state, obj)
        if args.format == "markdown":
            exported = await client.object.markdown.get(args.id)
            text = exported.markdown
            if obj is None:
                first = text.split("\n", 1)[0]
                title = first[2:].strip() if first.startswith("# ") else (state.titles.title(args.id) or "")
        else:
            assert obj is not None
            text = block_outline(obj.blocks, state.titles.title)
        state.content.put(args.id, args.format, title, text)

    page = page_text(text, args.offset, args.max_chars)
    hint = page_hint(
        page, f'get_object(id="{args.id}"' + (', format="blocks"' if args.format == "blocks" else "")
    )
    structure_id = obj.structure_id if obj else None
    structure = await _structure_name(state, structure_id) if structure_id else None
    properties: list[PropertyValueOut] | None = None
    lines: list[str] = []
    if obj is not None and args.offset == 0:
        snapshot = state.space.cached
        definition = snapshot.structure(obj.structure_id) if snapshot else None
        data, prop_lines = render_properties(obj, definition, state.titles.title)
        properties = [PropertyValueOut(**d) for d in data]
        names = {c.id: c.title for c in definition.collections} if definition else {}
        where = (
            " · in collections "
            + ", ".join(f"{names[c]} [{c}]" if c in names else c for c in obj.collections)
            if obj.collections
            else ""
        )
        lines.append(f"{structure} `{obj.id}`{where}")
        lines.extend(prop_lines)
        if args.format == "blocks" or not text.startswith("# "):
            lines.append(f"\n# {title}")
        lines.append("")
    else:
        lines.append(f"# {title} (continued: characters {page.offset}-{page.end} of {page.total})\n")
    if page.total == 0:
        lines.append("(no content)")
    body = "\n".join(lines) + ("\n" if lines else "") + page.chunk + hint
    data_out = GetObjectOutput(
        id=args.id,
        title=title,
        structure_id=structure_id,
        structure=structure,
        collections=obj.collections if obj else None,
        properties=properties,
        format=args.format,
        content=page.chunk,
        offset=page.offset,
        next_offset=page.next_offset,
        total_chars=page.total,
    )
    return ToolReply(body, data_out)


GET_OBJECT = ToolSpec(
    name="get_object",
    title="Read an object",
    description=(
        "Read one object by id: title, type, properties in readable form (label names, dates, "
        'linked objects as title + id) and its content as Markdown, or with format="blocks" '
        "as an outline of block ids. Long content comes in pages: the result ends with the "
        "offset to pass for the next page."
    ),
    input_model=GetObjectInput,
    output_model=GetObjectOutput,
    handler=get_object,
    annotations=ToolAnnotations(
        title="Read an object",
        read_only_hint=True,
        destructive_hint=False,
        idempotent_hint=True,
        open_world_hint=False,
    ),
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
        description="Words from the title (titles only, not content).",
    )
    structure: str | list[str] | None = Field(
        default=None,
        description='Only these structures: a name ("Task", "Books") or id, or a list of them.',
    )
    limit: int = Field(default=10, ge=1, le=SEARCH_LIMIT_MAX, description="Most results to return (1-50).")


class SearchObjectsOutput(ToolOutput):
    results: list[ObjectRef]


async def search_objects(call: ToolCall, args: SearchObjectsInput) -> ToolReply:
    state = call.state
    refs = [args.structure] if isinstance(args.structure, str) else list(args.structure or [])
    structure_ids = [(await state.space.structure(r)).id for r in refs] or None
    hits = await state.client.objects.search(query=args.query, structure_ids=structure_ids, limit=args.limit)
    results = _refs(state, hits.results, await _names(state))
    if results:
        text = f'{len(results)} object(s) with "{args.query}" in the title:\n' + "\n".join(
            _ref_lines(results)
        )
    else:
        text = (
            f'No object has "{args.query}" in its title. Search matches titles only: try '
            "other words, or list_objects to browse a structure or tag."
        )
    return ToolReply(text, SearchObjectsOutput(results=results))


SEARCH_OBJECTS = ToolSpec(
    name="search_objects",
    title="Search objects by title",
    description=(
        "Find objects whose TITLE matches the query (content is not searched), best match "
        "first, optionally only in some structures (by name or id). Returns title, type and id "
        "of each; read one with get_object."
    ),
    input_model=SearchObjectsInput,
    output_model=SearchObjectsOutput,
    handler=search_objects,
    annotations=ToolAnnotations(
        title="Search objects by title",
        read_only_hint=True,
        destructive_hint=False,
        idempotent_hint=True,
        open_world_hint=False,
    ),
)


class ListObjectsInput(ToolInput):
    structure: str | None = Field(
        default=None, description='All objects of this structure: name ("Tasks") or id.'
    )
    tag: str | None = Field(default=None, description="All objects with this tag: the tag's id or title.")
    collection: str | None = Field(
        default=None, description="All objects in this collection: its id or title."
    )
    page_size: int = Field(default=25, ge=1, le=LIST_PAGE_SIZE_MAX, description="Objects per page (1-100).")
    cursor: str | None = Field(default=None, description="next_cursor from the previous page, to continue.")


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
        issues=[FieldIssue("tag", "unknown tag")],
    )


async def list_objects(call: ToolCall, args: ListObjectsInput) -> ToolReply:
    state, client = call.state, call.state.client
    given = [
        (k, v)
        for k, v in (("structure", args.structure), ("tag", args.tag), ("collection", args.collection))
        if v
    ]
    if len(given) != 1:
        raise ToolInputError(
            "Give exactly one of structure, tag or collection"
            + (f" (got {', '.join(k for k, _ in given)})." if given else "."),
            issues=[FieldIssue("structure|tag|collection", "exactly one is required")],
        )
    kind, ref = given[0]
    ref = ref.strip()
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
    results = _refs(state, page.results, await _names(state))
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
        "Browse objects of one structure (e.g. all Tasks), one tag (by id or tag title) or one "
        "collection (by id or title), a page at a time; pass next_cursor to continue. Returns "
        "title, type and id of each."
    ),
    input_model=ListObjectsInput,
    output_model=ListObjectsOutput,
    handler=list_objects,
    annotations=ToolAnnotations(
        title="List objects",
        read_only_hint=True,
        destructive_hint=False,
        idempotent_hint=True,
        open_world_hint=False,
    ),
)


# --- create_object -----------------------------------------------------------------------------

_PROPERTIES_DESCRIPTION = (
    'Property values by name (or id), e.g. {"Status": "In progress", "Priority": "High", '
    '"Deadline": "2026-12-01", "Rating": 4, "Tags": ["<tag id or title>"]}: label options by '
    'name, dates as YYYY-MM-DD or ISO date-time (or "start/end"), linked objects by id or '
    "exact title, null or [] clears. get_space lists each structure's properties."
)
_BLOCKS_DESCRIPTION = (
    'Content as Capacities blocks instead of Markdown, e.g. [{"type": "TextBlock", "tokens": '
    '[{"type": "TextToken", "text": "Hi"}], "hierarchy": {"key": "H2", "val": 2}}]. Types: '
    "TextBlock, GroupBlock, GridBlock, CodeBlock (lang, text), MathBlock (text), EntityBlock "
    "(entityId), HorizontalLineBlock. Prefer markdown."
)
Blocks = Annotated[list[dict[str, Any]] | None, Field(default=None, description=_BLOCKS_DESCRIPTION)]
Markdown = Annotated[
    str | None,
    Field(
        default=None,
        max_length=MARKDOWN_MAX_LENGTH,
        description="Content as Markdown (headings, lists, - [ ] checkboxes, links, code).",
    ),
]
_PLAIN_TITLE = r"^[^\n#*_`\[\]<>\\|~!]+$"


class CreateObjectInput(ToolInput):
    structure: str = Field(description='The type: name ("Page", "Task", "Book") or id, see get_space.')
    title: str = Field(min_length=1, max_length=1000, description="The object's title.")
    properties: dict[str, Any] | None = Field(default=None, description=_PROPERTIES_DESCRIPTION)
    markdown: Markdown
    blocks: Blocks
    collections: list[str] | None = Field(
        default=None, description="Collections to put it in (ids or titles); default placement when omitted."
    )


class WriteOutput(ToolOutput):
    id: str
    title: str
    structure_id: str
    structure: str


_WRITABLE_BLOCKS: TypeAdapter[list[WritableBlock]] = TypeAdapter(list[WritableBlock])


def check_content(markdown: str | None, blocks: list[dict[str, Any]] | None, *, required: bool) -> None:
    """Content comes as markdown OR blocks: exactly one when `required`, else at most one.

    The one wording for every tool that takes content (create_object, append_blocks,
    append_to_daily_note); blocks are validated here too, before anything is sent.
    """
    if markdown is not None and blocks is not None:
        raise ToolInputError(
            "Give the content as markdown OR blocks, not both.",
            issues=[FieldIssue("markdown|blocks", "at most one")],
        )
    if required and markdown is None and blocks is None:
        raise ToolInputError(
            "Give the content as markdown OR blocks (exactly one).",
            issues=[FieldIssue("markdown|blocks", "exactly one is required")],
        )
    check_blocks(blocks)


def check_blocks(blocks: list[dict[str, Any]] | None) -> None:
    """Validate blocks before a multi-step write, so a typo never leaves half an object behind."""
    if blocks is None:
        return
    try:
        _WRITABLE_BLOCKS.validate_python(blocks)
    except ValidationError as exc:
        raise CapacitiesValidationError(issues_from(exc, prefix=("blocks",)), what="blocks") from None


async def _collection_ids(state: ServerState, refs: list[str], structure_id: str | None) -> list[str]:
    if all(is_uuid(r) for r in refs):
        return refs
    structure = await state.space.structure(structure_id) if structure_id else None
    return [r if is_uuid(r) else (await state.space.collection(r, structure)).id for r in refs]


async def create_object(call: ToolCall, args: CreateObjectInput) -> ToolReply:
    state, client = call.state, call.state.client
    check_content(args.markdown, args.blocks, required=False)
    structure = await state.space.structure(args.structure)
    if structure.id == "RootDailyNote":
        raise ToolInputError(
            "Daily notes cannot be created: use append_to_daily_note to write to a day's note."
        )
    if structure.id == "MediaWebResource":
        raise ToolInputError("Weblinks are created from their URL: use save_weblink.")
    properties = await to_wire_properties(state, structure, args.properties or {})
    properties["title"] = title_value(args.title)
    collections = await _collection_ids(state, args.collections, structure.id) if args.collections else None
    name = structure.title

    simple = args.markdown and not args.properties and not collections and re.match(_PLAIN_TITLE, args.title)
    if simple:
        # One request: POST /object/markdown takes the title from the leading H1.
        obj = await client.object.markdown.create(
            structure_id=structure.id, markdown=f"# {args.title}\n\n{args.markdown}"
        )
        if object_title(obj) != args.title:
            obj = await client.object.update(id=obj.id, properties={"title": properties["title"]})
    else:
        obj = await client.object.create(
            structure_id=structure.id, properties=properties, collections=collections
        )
        if args.markdown is not None or args.blocks is not None:
            done = f'Created {name} "{args.title}" (id {obj.id})'
            try:
                await client.blocks.append(id=obj.id, markdown=args.markdown, blocks=args.blocks)
            except Exception as exc:
                raise PartialWrite(
                    done,
                    exc,
                    object_id=obj.id,
                    next_step=f'Do not create it again: add the content with append_blocks(id="{obj.id}").',
                ) from exc
    title = _remember(state, obj) or args.title
    text = f'Created {name} "{title}" `{obj.id}`.'
    return ToolReply(text, WriteOutput(id=obj.id, title=title, structure_id=obj.structure_id, structure=name))


CREATE_OBJECT = ToolSpec(
    name="create_object",
    title="Create an object",
    description=(
        "Create a Page, Task, Tag or custom-type object with a title, properties in friendly "
        "form (names, label option names, ISO dates) and optional Markdown content. Search "
        "first to avoid duplicates. Daily notes: use append_to_daily_note; web pages: "
        "save_weblink."
    ),
    input_model=CreateObjectInput,
    output_model=WriteOutput,
    handler=create_object,
    annotations=ToolAnnotations(
        title="Create an object",
        read_only_hint=False,
        destructive_hint=False,
        idempotent_hint=False,
        open_world_hint=False,
    ),
)


# --- save_weblink ------------------------------------------------------------------------------


class SaveWeblinkInput(ToolInput):
    url: str = Field(min_length=1, max_length=4000, description="The absolute URL (https://...).")
    title: str | None = Field(
        default=None, max_length=1000, description="Title; taken from the page when omitted."
    )
    description: str | None = Field(
        default=None, max_length=5000, description="Short description of the page."
    )
    notes: Markdown


class SaveWeblinkOutput(WriteOutput):
    url: str


async def save_weblink(call: ToolCall, args: SaveWeblinkInput) -> ToolReply:
    state = call.state
    properties: dict[str, Any] = {}
    if args.title:
        properties["title"] = title_value(args.title)
    if args.description:
        properties["description"] = {"type": "text", "text": {"value": args.description}}
    obj = await state.client.object.create_from_url(
        url=args.url.strip(), properties=properties or None, markdown=args.notes
    )
    title = _remember(state, obj)
    name = await _structure_name(state, obj.structure_id)
    text = f'Saved {args.url} as {name} "{title}" `{obj.id}`.'
    return ToolReply(
        text,
        SaveWeblinkOutput(
            id=obj.id, title=title, structure_id=obj.structure_id, structure=name, url=args.url.strip()
        ),
    )


SAVE_WEBLINK = ToolSpec(
    name="save_weblink",
    title="Save a web page",
    description=(
        "Save a URL to the space as a Weblink (Capacities fetches the page's title and "
        "preview), optionally with your own title, description and Markdown notes."
    ),
    input_model=SaveWeblinkInput,
    output_model=SaveWeblinkOutput,
    handler=save_weblink,
    annotations=ToolAnnotations(
        title="Save a web page",
        read_only_hint=False,
        destructive_hint=False,
        idempotent_hint=False,
        open_world_hint=True,
    ),
)


# --- update_object -----------------------------------------------------------------------------


class UpdateObjectInput(ToolInput):
    id: ObjectId
    title: str | None = Field(default=None, min_length=1, max_length=1000, description="New title.")
    properties: dict[str, Any] | None = Field(
        default=None, description="Properties to change (others stay). " + _PROPERTIES_DESCRIPTION
    )
    collections: list[str] | None = Field(
        default=None, description="Replace collection membership (ids or titles); [] = default placement."
    )
    trash: bool | None = Field(default=None, description="true moves the object to the trash (restorable).")
    restore: bool | None = Field(default=None, description="true restores the object from the trash.")


class UpdateObjectOutput(WriteOutput):
    changed: list[str]
    in_trash: bool | None


async def update_object(call: ToolCall, args: UpdateObjectInput) -> ToolReply:
    state, client = call.state, call.state.client
    if args.trash and args.restore:
        raise ToolInputError(
            "trash and restore cannot both be true.", issues=[FieldIssue("trash|restore", "pick one")]
        )
    wants_properties = bool(args.properties) or args.title is not None
    if not (wants_properties or args.collections is not None or args.trash or args.restore):
        raise ToolInputError(
            "Nothing to change: give title, properties, collections, trash or restore.",
            issues=[FieldIssue("(arguments)", "at least one change is required")],
        )
    known = state.titles.get(args.id)
    structure_id = known.structure_id if known else None
    needs_structure = wants_properties or (args.collections and not all(is_uuid(c) for c in args.collections))
    if needs_structure and structure_id is None:
        structure_id = (await client.object.get(args.id)).structure_id
    properties: dict[str, Any] | None = None
    if wants_properties:
        assert structure_id is not None
        structure = await state.space.structure(structure_id)
        properties = await to_wire_properties(state, structure, args.properties or {})
        if args.title is not None:
            properties["title"] = title_value(args.title)
    collections = (
        await _collection_ids(state, args.collections, structure_id) if args.collections is not None else None
    )
    delete_requested = True if args.trash else (False if args.restore else None)
    obj = await client.object.update(
        id=args.id, properties=properties, collections=collections, delete_requested=delete_requested
    )
    state.content.invalidate(args.id)
    title = _remember(state, obj)
    name = await _structure_name(state, obj.structure_id)
    changed = list((args.properties or {}).keys()) + (["title"] if args.title is not None else [])
    if args.collections is not None:
        changed.append("collections")
    text = f'Updated {name} "{title}" `{obj.id}`' + (f": {', '.join(changed)}" if changed else "") + "."
    if args.trash:
        text += " It is in the trash now; update_object(restore=true) brings it back."
    if args.restore:
        text += " Restored from the trash."
    return ToolReply(
        text,
        UpdateObjectOutput(
            id=obj.id,
            title=title,
            structure_id=obj.structure_id,
            structure=name,
            changed=changed,
            in_trash=True if args.trash else (False if args.restore else None),
        ),
    )


UPDATE_OBJECT = ToolSpec(
    name="update_object",
    title="Update an object",
    description=(
        "Change an object's title, properties (friendly form; only the named ones change, each "
        "replaced whole) or collections; trash=true moves it to the trash, restore=true brings "
        "it back. To add content use append_blocks."
    ),
    input_model=UpdateObjectInput,
    output_model=UpdateObjectOutput,
    handler=update_object,
    annotations=ToolAnnotations(
        title="Update an object",
        read_only_hint=False,
        destructive_hint=True,
        idempotent_hint=True,
        open_world_hint=False,
    ),
)


# --- delete_object -----------------------------------------------------------------------------


class ConfirmPermanentDelete(BaseModel):
    """The form the user sees before a permanent delete."""

    confirm: bool = Field(
        title="Delete permanently", description="Yes, delete it permanently (this cannot be undone)"
    )


def _wants_permanent(permanent: Any) -> bool:
    return permanent is True or (isinstance(permanent, str) and permanent.strip().lower() == "true")


async def confirm_permanent(id: Any, permanent: Any, ctx: Context[Any, Any]) -> Any:
    """Resolver: ask the user before a permanent delete, when the client can show a form.

    Trash (the default) needs no question. A client without form elicitation gets no question
    either: its own approval prompt for a destructive tool is the confirmation then.
    """
    if not _wants_permanent(permanent):
        return "not_needed"
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return "unsupported"
    title = state_of(ctx).titles.title(str(id))
    what = f'"{title}" ({id})' if title else f"the object {id}"
    return Elicit(
        f"Permanently delete {what}? This cannot be undone; it will not go to the trash.",
        ConfirmPermanentDelete,
    )


class DeleteObjectInput(ToolInput):
    id: ObjectId
    permanent: bool = Field(
        default=False,
        description="false (default): move to the trash, restorable with update_object(restore=true). "
        "true: delete for good; only when the user explicitly asked for it.",
    )


class DeleteObjectOutput(ToolOutput):
    id: str
    deleted: bool
    permanent: bool
    confirmation: str


async def delete_object(call: ToolCall, args: DeleteObjectInput) -> ToolReply:
    state = call.state
    outcome = call.extra.get("confirmation")
    confirmation = "not_needed"
    if args.permanent:
        if isinstance(outcome, AcceptedElicitation):
            data = outcome.data
            if isinstance(data, ConfirmPermanentDelete):
                confirmation = "confirmed" if data.confirm else "declined"
            else:
                confirmation = str(data)  # "unsupported": the host approved the call itself
        else:
            confirmation = str(getattr(outcome, "action", "declined"))  # decline / cancel
        if confirmation not in ("confirmed", "unsupported"):
            text = (
                f"Not deleted: the user did not confirm the permanent delete ({confirmation}). "
                "Nothing was changed; delete_object without permanent moves it to the trash instead."
            )
            return ToolReply(
                text, DeleteObjectOutput(id=args.id, deleted=False, permanent=True, confirmation=confirmation)
            )
    title = state.titles.title(args.id)
    await state.client.object.delete(args.id, hard_delete=args.permanent)
    state.content.invalidate(args.id)
    what = f'"{title}" `{args.id}`' if title else f"`{args.id}`"
    if args.permanent:
        text = f"Deleted {what} permanently."
        state.titles.forget(args.id)
    else:
        text = f"Moved {what} to the trash. update_object(id, restore=true) restores it."
    return ToolReply(
        text,
        DeleteObjectOutput(id=args.id, deleted=True, permanent=args.permanent, confirmation=confirmation),
    )


DELETE_OBJECT = ToolSpec(
    name="delete_object",
    title="Delete an object",
    description=(
        "Move an object to the trash (default; restorable with update_object restore=true). "
        "permanent=true deletes it for good: use it only when the user explicitly asked; clients "
        "that can show a form also ask the user to confirm first."
    ),
    input_model=DeleteObjectInput,
    output_model=DeleteObjectOutput,
    handler=delete_object,
    annotations=ToolAnnotations(
        title="Delete an object",
        read_only_hint=False,
        destructive_hint=True,
        idempotent_hint=True,
        open_world_hint=False,
    ),
    resolved={
        "confirmation": Annotated[ElicitationResult[ConfirmPermanentDelete], Resolve(confirm_permanent)]
    },
)

SPECS = (GET_OBJECT, SEARCH_OBJECTS, LIST_OBJECTS, CREATE_OBJECT, SAVE_WEBLINK, UPDATE_OBJECT, DELETE_OBJECT)
