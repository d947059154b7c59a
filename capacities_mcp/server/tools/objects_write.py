"""Object tools that write: create_object, save_weblink, update_object, delete_object."""

from __future__ import annotations

import re
from typing import Annotated, Any

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit, Resolve
from pydantic import BaseModel, Field

from capacities_mcp.api import CapacitiesError, Issue
from capacities_mcp.api.models import Structure, is_uuid

from .._errors import PartialWrite, ToolInputError
from .._render import object_title
from .._state import ServerState
from ._common import (
    Markdown,
    ObjectId,
    PropertyChanges,
    WriteOutput,
    collection_ids,
    learn_linked_titles,
    property_ops,
    remember_title,
    structure_name,
    title_search,
    unlinked_note,
    with_full_links,
)
from ._properties import changed_values, resolve_list_ops, title_value, to_wire_properties
from ._registry import ToolCall, ToolInput, ToolOutput, ToolReply, ToolSpec, hints, state_of

__all__ = ["SPECS"]

# --- create_object -----------------------------------------------------------------------------

_PLAIN_TITLE = r"^[^\n#*_`\[\]<>\\|~!]+$"


class CreateObjectInput(ToolInput):
    structure: str = Field(description='Type name ("Page", "Task", ...) or id.')
    title: str = Field(min_length=1, max_length=1000, description="The object's title.")
    properties: PropertyChanges
    markdown: Markdown
    collections: list[str] | None = Field(default=None, description="Collections (ids or titles).")
    allow_duplicate: bool = Field(default=False, description="Create even if the exact title exists.")


class CreateObjectOutput(WriteOutput):
    created: bool = Field(description="false: an object with this title existed; nothing was created.")


async def _existing(state: ServerState, structure: Structure, title: str) -> str | None:
    """The id of an object of `structure` titled exactly `title` (any case), if one exists."""
    _, exact = await title_search(state, title, [structure.id])
    return exact[0].id if exact else None


def _without_title_heading(markdown: str | None, title: str) -> str | None:
    """Content that starts with `# <the title>` would show the title twice: drop that heading."""
    if markdown is None:
        return None
    first, _, rest = markdown.lstrip("\n").partition("\n")
    if first.startswith("# ") and first[2:].strip().casefold() == title.strip().casefold():
        return rest.lstrip("\n")
    return markdown


async def create_object(call: ToolCall, args: CreateObjectInput) -> ToolReply:
    state, client = call.state, call.state.client
    structure = await state.space.structure(args.structure)
    if structure.id == "RootDailyNote":
        raise ToolInputError(
            "Daily notes cannot be created: use append_to_daily_note to write to a day's note."
        )
    if structure.id == "MediaWebResource":
        raise ToolInputError("Weblinks are created from their URL: use save_weblink.")
    if not args.allow_duplicate:
        existing = await _existing(state, structure, args.title)
        if existing is not None:
            text = (
                f'Not created: a {structure.title} titled "{args.title}" already exists `{existing}`. '
                "Read or change that one (get_object, update_object, append_blocks), or call "
                "create_object again with allow_duplicate=true to make a second one."
            )
            out = CreateObjectOutput(
                id=existing,
                title=args.title,
                structure_id=structure.id,
                structure=structure.title,
                created=False,
            )
            return ToolReply(text, out)
    friendly = resolve_list_ops(structure, {}, property_ops(args.properties), state.titles.title)
    properties = await to_wire_properties(state, structure, friendly)
    properties["title"] = title_value(args.title)
    markdown = await with_full_links(state, _without_title_heading(args.markdown, args.title))
    unlinked = await unlinked_note(state, markdown)
    collections = await collection_ids(state, args.collections, structure.id) if args.collections else None
    name = structure.title

    simple = markdown and not args.properties and not collections and re.match(_PLAIN_TITLE, args.title)
    if simple:
        # One request: POST /object/markdown takes the title from the leading H1.
        obj = await client.object.markdown.create(
            structure_id=structure.id, markdown=f"# {args.title}\n\n{markdown}"
        )
        if object_title(obj) != args.title:
            obj = await client.object.update(id=obj.id, properties={"title": properties["title"]})
    else:
        obj = await client.object.create(
            structure_id=structure.id, properties=properties, collections=collections
        )
        if markdown is not None:
            done = f'Created {name} "{args.title}" (id {obj.id})'
            try:
                await client.blocks.append(id=obj.id, markdown=markdown)
            except Exception as exc:
                raise PartialWrite(
                    done,
                    exc,
                    object_id=obj.id,
                    next_step=f'Do not create it again: add the content with append_blocks(id="{obj.id}").',
                ) from exc
    title = remember_title(state, obj) or args.title
    text = f'Created {name} "{title}" `{obj.id}`.' + unlinked
    data = CreateObjectOutput(
        id=obj.id, title=title, structure_id=obj.structure_id, structure=name, created=True
    )
    return ToolReply(text, data)


CREATE_OBJECT = ToolSpec(
    name="create_object",
    title="Create an object",
    description=(
        "Create an object (Page, Task, Tag, custom type) with title, properties and Markdown. An "
        "existing object of that type with the exact title is returned instead of a duplicate. "
        "Web pages: save_weblink."
    ),
    input_model=CreateObjectInput,
    output_model=CreateObjectOutput,
    handler=create_object,
    annotations=hints(read_only=False, idempotent=False),
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
    tags: list[str] | None = Field(
        default=None, description="Tags (the API cannot set them on weblinks; the result says so)."
    )


class SaveWeblinkOutput(WriteOutput):
    url: str


async def save_weblink(call: ToolCall, args: SaveWeblinkInput) -> ToolReply:
    state = call.state
    properties: dict[str, Any] = {}
    if args.title:
        properties["title"] = title_value(args.title)
    if args.description:
        properties["description"] = {"type": "text", "text": {"value": args.description}}
    unlinked = await unlinked_note(state, args.notes)
    obj = await state.client.object.create_from_url(
        url=args.url.strip(), properties=properties or None, markdown=await with_full_links(state, args.notes)
    )
    title = remember_title(state, obj)
    name = await structure_name(state, obj.structure_id)
    text = f'Saved {args.url} as {name} "{title}" `{obj.id}`.' + unlinked
    if args.tags:
        # Capacities rejects every change to a weblink through the API (PATCH /object on
        # MediaWebResource), and the URL route takes no tags: say so rather than drop them.
        text += (
            f" Tags not set ({', '.join(args.tags)}): the Capacities API cannot tag or change "
            "weblinks; tell the user to add them in the app."
        )
    return ToolReply(
        text,
        SaveWeblinkOutput(
            id=obj.id, title=title, structure_id=obj.structure_id, structure=name, url=args.url.strip()
        ),
    )


SAVE_WEBLINK = ToolSpec(
    name="save_weblink",
    title="Save a web page",
    description=("Save a URL as a Weblink (Capacities fetches title and preview), with optional notes."),
    input_model=SaveWeblinkInput,
    output_model=SaveWeblinkOutput,
    handler=save_weblink,
    annotations=hints(read_only=False, idempotent=False, open_world=True),
)


# --- update_object -----------------------------------------------------------------------------


class UpdateObjectInput(ToolInput):
    id: ObjectId
    title: str | None = Field(default=None, min_length=1, max_length=1000, description="New title.")
    properties: PropertyChanges
    collections: list[str] | None = Field(
        default=None, description="New collections (ids or titles); [] = default placement."
    )
    trash: bool | None = Field(default=None, description="Move to the trash.")
    restore: bool | None = Field(default=None, description="Restore from the trash.")


class UpdateObjectOutput(WriteOutput):
    changed: list[str]
    in_trash: bool | None


async def update_object(call: ToolCall, args: UpdateObjectInput) -> ToolReply:
    state, client = call.state, call.state.client
    if args.trash and args.restore:
        raise ToolInputError(
            "trash and restore cannot both be true.", issues=[Issue.at("trash|restore", "pick one")]
        )
    ops = property_ops(args.properties)
    if not (ops or args.title is not None or args.collections is not None or args.trash or args.restore):
        raise ToolInputError(
            "Nothing to change: give title, properties, collections, trash or restore.",
            issues=[Issue.at("(arguments)", "at least one change is required")],
        )
    known = state.titles.get(args.id)
    structure_id = known.structure_id if known else None
    # Property changes read the object first: its structure, the items add/remove edit, and the
    # old values the result shows beside the new ones.
    before = await client.object.get(args.id) if ops or args.title is not None else None
    if before is not None:
        structure_id = before.structure_id
    elif args.collections and not all(is_uuid(c) for c in args.collections) and structure_id is None:
        structure_id = (await client.object.get(args.id)).structure_id
    structure = await state.space.structure(structure_id) if before is not None and structure_id else None
    properties: dict[str, Any] | None = None
    if before is not None and structure is not None:
        if any(op != "set" for _, op, _ in ops):
            await learn_linked_titles(state, before)  # "remove Research" may name a tag by title
        friendly = resolve_list_ops(structure, before.properties, ops, state.titles.title)
        properties = await to_wire_properties(state, structure, friendly)
        if args.title is not None:
            properties["title"] = title_value(args.title)
    collections = (
        await collection_ids(state, args.collections, structure_id) if args.collections is not None else None
    )
    delete_requested = True if args.trash else (False if args.restore else None)
    obj = await client.object.update(
        id=args.id, properties=properties, collections=collections, delete_requested=delete_requested
    )
    state.content.invalidate(args.id)
    title = remember_title(state, obj)
    name = await structure_name(state, obj.structure_id)
    changed = [prop for prop, _, _ in ops] + (["title"] if args.title is not None else [])
    if args.collections is not None:
        changed.append("collections")
    lines = [f'Updated {name} "{title}" `{obj.id}`' + (":" if changed else ".")]
    if before is not None and structure is not None:
        lines += changed_values(structure, before.properties, obj.properties, changed, state.titles.title)
    lines += (
        ["- collections: " + (", ".join(obj.collections) or "(default placement)")]
        if args.collections is not None
        else []
    )
    if args.trash:
        lines.append("It is in the trash now; update_object(restore=true) brings it back.")
    if args.restore:
        lines.append("Restored from the trash.")
    return ToolReply(
        "\n".join(lines),
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
        "Change an object's title, properties (only those named) or collections, or trash/restore "
        "it. Shows old -> new values. Content: append_blocks."
    ),
    input_model=UpdateObjectInput,
    output_model=UpdateObjectOutput,
    handler=update_object,
    annotations=hints(read_only=False, idempotent=True, destructive=True),
)


# --- delete_object -----------------------------------------------------------------------------


class ConfirmPermanentDelete(BaseModel):
    """The form the user sees before a permanent delete."""

    confirm: bool = Field(
        title="Delete permanently", description="Yes, delete it permanently (this cannot be undone)"
    )


def _wants_permanent(permanent: Any) -> bool:
    return permanent is True or (isinstance(permanent, str) and permanent.strip().lower() == "true")


async def _title_for_question(state: ServerState, object_id: str) -> str | None:
    """The object's title, the same in every round: the answer is pinned to the question's exact
    text, and the next round may run on another replica whose title cache has not seen it."""
    title = state.titles.title(object_id)
    if title is not None or not is_uuid(object_id):
        return title
    try:
        return remember_title(state, await state.client.object.get(object_id))
    except CapacitiesError:
        return None  # the delete itself will say what is wrong


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
    title = await _title_for_question(state_of(ctx), str(id))
    what = f'"{title}" ({id})' if title else f"the object {id}"
    return Elicit(
        f"Permanently delete {what}? This cannot be undone; it will not go to the trash.",
        ConfirmPermanentDelete,
    )


class DeleteObjectInput(ToolInput):
    id: ObjectId
    permanent: bool = Field(
        default=False,
        description="true: delete for good instead of trashing.",
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
        "Move an object to the trash (restorable), or with permanent=true delete it for good "
        "(only when the user asked; the user may be asked to confirm)."
    ),
    input_model=DeleteObjectInput,
    output_model=DeleteObjectOutput,
    handler=delete_object,
    annotations=hints(read_only=False, idempotent=True, destructive=True),
    resolved={
        "confirmation": Annotated[ElicitationResult[ConfirmPermanentDelete], Resolve(confirm_permanent)]
    },
)

SPECS = (CREATE_OBJECT, SAVE_WEBLINK, UPDATE_OBJECT, DELETE_OBJECT)
