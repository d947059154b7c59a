"""Block tools: append content to an object, replace one block, delete one block."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from capacities_mcp.api import Issue
from capacities_mcp.api.models import TextBlock

from .._errors import ToolInputError
from .._render import block_children, block_ids, block_summary, object_title
from ._common import (
    Blocks,
    Markdown,
    ObjectId,
    check_content,
    unlinked_note,
    with_full_links,
    writable_blocks,
)
from ._registry import CompactSchema, ToolCall, ToolInput, ToolOutput, ToolReply, ToolSpec, hints

__all__ = ["SPECS"]

_SHOWN_BLOCKS = 20

BlockId = Field(
    min_length=1, max_length=100, description='The block\'s id (see get_object with format="blocks").'
)
PropertyId = Field(
    default=None,
    max_length=100,
    description="Content property id, if not the main content.",
)


class NewBlock(CompactSchema):
    id: str
    property_id: str
    summary: str


class AppendBlocksInput(ToolInput):
    id: ObjectId
    markdown: Markdown
    blocks: Blocks
    position: Literal["end", "start", "after_block"] = Field(
        default="end", description='Where: "end" (default), "start", or "after_block" (needs after_block_id).'
    )
    after_block_id: str | None = Field(
        default=None, max_length=100, description="Insert after this sibling block."
    )
    parent_block_id: str | None = Field(
        default=None,
        max_length=100,
        description="Nest inside this block (e.g. sub-items).",
    )
    property_id: str | None = PropertyId


class AppendBlocksOutput(ToolOutput):
    id: str
    title: str
    new_block_ids: list[str]
    new_blocks: list[NewBlock]


def _position(args: AppendBlocksInput) -> dict[str, Any] | None:
    position = args.position
    if args.after_block_id and position == "end":
        position = "after_block"  # an after_block_id says where, even without position
    if position == "after_block":
        if not args.after_block_id:
            raise ToolInputError(
                'position "after_block" needs after_block_id.',
                issues=[Issue.at("after_block_id", "required with position after_block")],
            )
        if args.parent_block_id:
            raise ToolInputError(
                "parent_block_id works with position end or start, not after_block.",
                issues=[Issue.at("parent_block_id", "not with after_block")],
            )
        return {"type": "after_block", "after_block": {"id": args.after_block_id}}
    return {"type": position} if position != "end" else None


def _appended_run(
    blocks: dict[str, list[Any]] | None, args: AppendBlocksInput, count: int, kind: str | None = None
) -> list[tuple[str, str, Any]] | None:
    """The `count` blocks just appended (and everything nested in them), found by position.

    The run sits at the end or start of its container (the parent block's children, or the
    property's top-level list), or right after `after_block_id`. None when the response does not
    show where (e.g. several block properties and no `property_id`): better no ids than wrong ones.
    """
    blocks = blocks or {}
    if kind is None:
        kind = _position_kind(_position(args))
    anchor = args.parent_block_id or (args.after_block_id if kind == "after_block" else None)
    container: tuple[str, list[Any]] | None = None
    if anchor is not None:
        container = _container_of(blocks, anchor, as_parent=anchor == args.parent_block_id)
    elif args.property_id is not None and args.property_id in blocks:
        container = (args.property_id, list(blocks[args.property_id]))
    elif len(blocks) == 1:
        container = next((prop, list(items)) for prop, items in blocks.items())
    if container is None or count > len(container[1]):
        return None
    prop, items = container
    if kind == "after_block":
        at = [getattr(b, "id", None) for b in items].index(args.after_block_id) + 1
        run = items[at : at + count]
    elif kind == "start":
        run = items[:count]
    else:
        run = items[len(items) - count :]
    if len(run) != count:
        return None
    return block_ids({prop: run})


def _position_kind(position: dict[str, Any] | None) -> str:
    return str(position["type"]) if position is not None else "end"


def _container_of(
    blocks: dict[str, list[Any]], block_id: str, *, as_parent: bool
) -> tuple[str, list[Any]] | None:
    """The children of `block_id` (as_parent) or the sibling list that holds it, with its property."""

    def search(items: list[Any]) -> list[Any] | None:
        for block in items:
            if getattr(block, "id", None) == block_id:
                return list(block_children(block)) if as_parent else items
            found = search(list(block_children(block)))
            if found is not None:
                return found
        return None

    for prop, items in blocks.items():
        found = search(list(items))
        if found is not None:
            return prop, found
    return None


async def append_blocks(call: ToolCall, args: AppendBlocksInput) -> ToolReply:
    state, client = call.state, call.state.client
    check_content(args.markdown, args.blocks, required=True)
    position = _position(args)
    blocks = writable_blocks(args.blocks) if args.blocks is not None else None
    # The response is the whole object after the append. Typed blocks land as one run of
    # len(blocks) siblings at the position, so their ids are read off the response. Markdown
    # becomes an unknown number of blocks: then the ids seen before tell which are new, from the
    # last read of the object when it is fresh (get_object, or a previous append), else from
    # one GET /object first. (A failed write drops that read: it may have changed the object.)
    before: frozenset[str] | None = None
    if blocks is None:
        before = state.content.block_ids(args.id)
        if before is None:
            before = frozenset(
                block_id for _, block_id, _ in block_ids((await client.object.get(args.id)).blocks)
            )
    unlinked = await unlinked_note(state, args.markdown)
    obj = await client.blocks.append(
        id=args.id,
        markdown=await with_full_links(state, args.markdown),
        blocks=blocks,
        position=position,
        parent_block_id=args.parent_block_id,
        property_id=args.property_id,
    )
    state.content.remember(obj)
    title = object_title(obj)
    state.titles.remember(obj.id, title, obj.structure_id)
    found: list[tuple[str, str, Any]] | None
    if before is not None:
        found = [
            (prop, block_id, block)
            for prop, block_id, block in block_ids(obj.blocks)
            if block_id not in before
        ]
    else:
        found = _appended_run(obj.blocks, args, len(blocks or ()), _position_kind(position))
    if found is None:
        text = (
            f'Appended {len(blocks or ())} block(s) to "{title}" `{obj.id}`; their ids are not known: '
            f'get_object(id="{obj.id}", format="blocks") lists them. Do not append again.' + unlinked
        )
        return ToolReply(text, AppendBlocksOutput(id=obj.id, title=title, new_block_ids=[], new_blocks=[]))
    new = [
        NewBlock(id=block_id, property_id=prop, summary=block_summary(block, state.titles.title))
        for prop, block_id, block in found
    ]
    lines = [f'Appended {len(new)} block(s) to "{title}" `{obj.id}`:']
    lines += [f"- {b.id} {b.summary}" for b in new[:_SHOWN_BLOCKS]]
    if len(new) > _SHOWN_BLOCKS:
        lines.append(f"- … and {len(new) - _SHOWN_BLOCKS} more (all ids are in new_block_ids)")
    if unlinked:
        lines.append(unlinked.strip())
    data = AppendBlocksOutput(id=obj.id, title=title, new_block_ids=[b.id for b in new], new_blocks=new)
    return ToolReply("\n".join(lines), data)


APPEND_BLOCKS = ToolSpec(
    name="append_blocks",
    title="Add content to an object",
    description=(
        "Add content to an object as Markdown (preferred) or blocks: at the end, the start, after "
        "a block or nested under one. Returns the new block ids."
    ),
    input_model=AppendBlocksInput,
    output_model=AppendBlocksOutput,
    handler=append_blocks,
    annotations=hints(read_only=False, idempotent=False),
)


# --- update_block ------------------------------------------------------------------------------


class UpdateBlockInput(ToolInput):
    id: ObjectId
    block_id: str = BlockId
    text: str | None = Field(
        default=None, max_length=100_000, description="New plain text; keeps the block's kind and children."
    )
    done: bool | None = Field(default=None, description="Tick (true) or untick (false) a to-do.")
    property_id: str | None = PropertyId


class BlockOutput(ToolOutput):
    id: str
    title: str
    block_id: str
    summary: str | None


def _find(obj: Any, block_id: str) -> Any:
    for _, found_id, block in block_ids(obj.blocks):
        if found_id == block_id:
            return block
    return None


def _replacement(block: Any, text: str | None, done: bool | None) -> dict[str, Any]:
    """The text block with new text and/or to-do state, every other feature kept."""
    if not isinstance(block, TextBlock):
        raise ToolInputError(
            f"Only text blocks can be edited in place; this is a {getattr(block, 'type', 'block')}.",
            issues=[Issue.at("block_id", "not a TextBlock")],
            next_step="Delete it with delete_block and add a new one with append_blocks.",
        )
    if done is not None and block.todo is None:
        raise ToolInputError(
            "done only works on to-do blocks; this one is not a to-do.",
            issues=[Issue.at("done", "only for to-dos")],
        )
    tokens = (
        [{"type": "TextToken", "text": text, "style": {}}]
        if text is not None
        else [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in block.tokens]
    )
    replacement: dict[str, Any] = {
        "type": "TextBlock",
        "tokens": tokens,
        "hierarchy": block.hierarchy.model_dump(mode="json"),
    }
    for key, value in (("list", block.list_), ("quote", block.quote), ("toggle", block.toggle)):
        if value is not None:
            replacement[key] = value.model_dump(mode="json", by_alias=True)
    if block.todo is not None:
        replacement["todo"] = {"isDone": block.todo.is_done if done is None else done}
    return replacement


async def update_block(call: ToolCall, args: UpdateBlockInput) -> ToolReply:
    state, client = call.state, call.state.client
    if args.text is None and args.done is None:
        raise ToolInputError(
            "Nothing to change: give text and/or done.",
            issues=[Issue.at("text|done", "at least one is required")],
        )
    current = await client.object.get(args.id)
    found = _find(current, args.block_id)
    if found is None:
        raise ToolInputError(
            f"No block {args.block_id} in this object: "
            f'get_object(id="{args.id}", format="blocks") lists its blocks.',
            issues=[Issue.at("block_id", "not in this object")],
        )
    obj = await client.blocks.block.update(
        id=args.id,
        block_id=args.block_id,
        block=_replacement(found, args.text, args.done),
        property_id=args.property_id,
    )
    state.content.invalidate(args.id)
    title = object_title(obj)
    updated = _find(obj, args.block_id)
    summary = block_summary(updated, state.titles.title) if updated is not None else None
    text = f'Updated block {args.block_id} in "{title}"' + (f": {summary}" if summary else "") + "."
    return ToolReply(text, BlockOutput(id=obj.id, title=title, block_id=args.block_id, summary=summary))


UPDATE_BLOCK = ToolSpec(
    name="update_block",
    title="Edit one block",
    description=(
        "Edit one text block in place: new plain text (kind and children kept) and/or tick a to-do."
    ),
    input_model=UpdateBlockInput,
    output_model=BlockOutput,
    handler=update_block,
    annotations=hints(read_only=False, idempotent=True, destructive=True),
)


# --- delete_block ------------------------------------------------------------------------------


class DeleteBlockInput(ToolInput):
    id: ObjectId
    block_id: str = BlockId


async def delete_block(call: ToolCall, args: DeleteBlockInput) -> ToolReply:
    state = call.state
    obj = await state.client.blocks.block.delete(args.id, args.block_id)
    state.content.invalidate(args.id)
    title = object_title(obj)
    text = f'Deleted block {args.block_id} (with anything nested in it) from "{title}" `{obj.id}`.'
    return ToolReply(text, BlockOutput(id=obj.id, title=title, block_id=args.block_id, summary=None))


DELETE_BLOCK = ToolSpec(
    name="delete_block",
    title="Delete one block",
    description="Delete one block of an object, with everything nested in it. Not undoable through the API.",
    input_model=DeleteBlockInput,
    output_model=BlockOutput,
    handler=delete_block,
    annotations=hints(read_only=False, idempotent=True, destructive=True),
)

SPECS = (APPEND_BLOCKS, UPDATE_BLOCK, DELETE_BLOCK)
