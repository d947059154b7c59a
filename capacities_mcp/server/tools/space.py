"""`get_space`: the space, its structures and their properties: what an agent needs before writing."""

from __future__ import annotations

from pydantic import Field

from .._render import render_space
from ._registry import CompactSchema, ToolCall, ToolInput, ToolOutput, ToolReply, ToolSpec, hints

__all__ = ["GET_SPACE", "SPECS"]


class GetSpaceInput(ToolInput):
    refresh: bool = Field(
        default=False,
        description="Bypass the 5-minute cache (only after the user changed types in the app).",
    )


class PropertyOut(CompactSchema):
    id: str
    name: str
    type: str
    writable: bool
    multiple: bool | None = None
    options: list[str] | None = None
    allowed_structures: list[str] | None = None


class CollectionOut(CompactSchema):
    id: str
    title: str


class StructureOut(CompactSchema):
    id: str
    title: str
    plural_name: str
    properties: list[PropertyOut]
    collections: list[CollectionOut]


class GetSpaceOutput(ToolOutput):
    space_id: str
    space_title: str
    structures: list[StructureOut]
    sandbox_note: str | None = None


async def get_space(call: ToolCall, args: GetSpaceInput) -> ToolReply:
    snapshot = await call.state.space.get(refresh=args.refresh)
    structures = [
        StructureOut(
            id=s.id,
            title=s.title,
            plural_name=s.plural_name,
            properties=[
                PropertyOut(
                    id=p.id,
                    name=p.name or p.id,
                    type=str(p.type),
                    writable=p.writable,
                    multiple=p.multiple,
                    options=[o.name for o in p.label_set] if p.label_set is not None else None,
                    allowed_structures=p.allowed_structures,
                )
                for p in s.property_definitions
            ],
            collections=[CollectionOut(id=c.id, title=c.title) for c in s.collections],
        )
        for s in snapshot.structures
    ]
    text = render_space(snapshot.space, snapshot.structures)
    note = call.state.sandbox_note
    if note:
        text = f"> {note}\n\n{text}"
    data = GetSpaceOutput(
        space_id=snapshot.space.id, space_title=snapshot.space.title, structures=structures, sandbox_note=note
    )
    return ToolReply(text, data)


GET_SPACE = ToolSpec(
    name="get_space",
    title="Get space and structures",
    description=(
        "The space's structures (types such as Page, Task, Book): ids, properties (type, "
        "writable, label options) and collections. Call before creating or updating objects."
    ),
    input_model=GetSpaceInput,
    output_model=GetSpaceOutput,
    handler=get_space,
    annotations=hints(read_only=True, idempotent=True),
)

SPECS = (GET_SPACE,)
