"""Objects as the API returns them, and every request body and query of the object routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from ._base import RequestModel, ResponseModel, StructureId, Uuid
from ._blocks import Block, WritableBlock, exact_union
from ._properties import PropertyValue, WritablePropertyValue, WritableTextProperty, WritableTitleProperty

__all__ = [
    "LIST_PAGE_SIZE_MAX",
    "MARKDOWN_MAX_LENGTH",
    "SEARCH_LIMIT_MAX",
    "SEARCH_QUERY_MAX_LENGTH",
    "SEARCH_STRUCTURES_MAX",
    "AfterBlock",
    "ApiObject",
    "AppendBlocksBody",
    "CreateObjectBody",
    "CreateObjectFromUrlBody",
    "CreateObjectMarkdownBody",
    "DailyNoteAppendBody",
    "DeleteBlockParams",
    "DeleteObjectParams",
    "FileResource",
    "GetObjectMarkdownParams",
    "GetObjectParams",
    "ListObjectsParams",
    "ObjectListPage",
    "ObjectMarkdown",
    "ObjectSummary",
    "Position",
    "PositionAfterBlock",
    "PositionEnd",
    "PositionStart",
    "SearchObjectsBody",
    "SearchResponse",
    "UpdateBlockBody",
    "UpdateObjectBody",
    "UpdateObjectMarkdownBody",
    "UrlObjectProperties",
    "daily_note_title",
]

MARKDOWN_MAX_LENGTH = 200_000
SEARCH_QUERY_MAX_LENGTH = 512
SEARCH_LIMIT_MAX = 50
SEARCH_STRUCTURES_MAX = 25
LIST_PAGE_SIZE_MAX = 100


# --- responses ---------------------------------------------------------------------------------


class FileResource(ResponseModel):
    """A media file behind a temporary signed URL; fetch the object again after it expires."""

    url: str
    file_type: str
    expiration_date: str | None = None


class ApiObject(ResponseModel):
    """An object: typed properties keyed by property id, block content keyed by block property."""

    id: str
    structure_id: str
    collections: list[str]
    properties: dict[str, PropertyValue]
    blocks: dict[str, list[Block]] | None = None
    files: list[FileResource] | None = None


class ObjectMarkdown(ResponseModel):
    id: str
    structure_id: str
    markdown: str


class ObjectSummary(ResponseModel):
    """A search or listing hit: fetch the object for anything more."""

    id: str
    structure_id: str
    title: str


class SearchResponse(ResponseModel):
    results: list[ObjectSummary]


class ObjectListPage(ResponseModel):
    results: list[ObjectSummary]
    has_more: bool
    next_cursor: str | None = None


# --- shared request pieces ---------------------------------------------------------------------


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.scheme in ("mailto", "tel")):
        raise ValueError("Invalid URL")
    return value


def _bool_from_query(value: Any) -> Any:
    # Query strings carry booleans as "true" / "false".
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value


def _int_from_query(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


Markdown = Annotated[str, Field(max_length=MARKDOWN_MAX_LENGTH)]
Collections = list[Uuid]
WritableProperties = dict[str, WritablePropertyValue]
WritableBlockMap = dict[str, list[WritableBlock]]


def _exactly_one_of_blocks_or_markdown(body: Any) -> None:
    if (body.blocks is None) == (body.markdown is None):
        raise ValueError("Provide exactly one of `blocks` or `markdown`.")


# --- object ------------------------------------------------------------------------------------


class GetObjectParams(RequestModel):
    id: Uuid


class CreateObjectBody(RequestModel):
    """A new object of a Page, Tag, Task or custom structure."""

    structure_id: StructureId
    collections: Collections | None = None
    properties: WritableProperties | None = None
    blocks: WritableBlockMap | None = None


class UpdateObjectBody(RequestModel):
    """Named properties are replaced whole; others stay. `delete_requested` trashes or restores."""

    id: str = Field(min_length=1)
    collections: Collections | None = None
    properties: WritableProperties | None = None
    blocks: WritableBlockMap | None = None
    delete_requested: bool | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateObjectBody:
        if all(
            getattr(self, name) is None
            for name in ("properties", "collections", "blocks", "delete_requested")
        ):
            raise ValueError(
                "Provide at least one of `properties`, `collections`, `blocks`, or `deleteRequested`."
            )
        return self


class DeleteObjectParams(RequestModel):
    id: Uuid
    hard_delete: Annotated[bool | None, BeforeValidator(_bool_from_query)] = None


class UrlObjectProperties(RequestModel):
    title: WritableTitleProperty | None = None
    description: WritableTextProperty | None = None


class CreateObjectFromUrlBody(RequestModel):
    url: Annotated[str, AfterValidator(_check_url)]
    markdown: Markdown | None = None
    blocks: WritableBlockMap | None = None
    properties: UrlObjectProperties | None = None

    @model_validator(mode="after")
    def _not_both(self) -> CreateObjectFromUrlBody:
        if self.blocks is not None and self.markdown is not None:
            raise ValueError("Provide at most one of `blocks` or `markdown`.")
        return self


class GetObjectMarkdownParams(RequestModel):
    id: Uuid


class CreateObjectMarkdownBody(RequestModel):
    structure_id: StructureId
    markdown: str


class UpdateObjectMarkdownBody(RequestModel):
    """Outside the 1.0.0 contract: only the YAML front matter of `markdown` is applied."""

    id: Uuid
    markdown: Markdown


# --- objects -----------------------------------------------------------------------------------


class SearchObjectsBody(RequestModel):
    """Title search; results come ordered by relevance."""

    query: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=SEARCH_QUERY_MAX_LENGTH),
    ]
    structure_ids: list[StructureId] | None = Field(
        default=None, min_length=1, max_length=SEARCH_STRUCTURES_MAX
    )
    limit: int | None = Field(default=None, gt=0, le=SEARCH_LIMIT_MAX)

    @field_validator("limit", mode="before")
    @classmethod
    def _integer_only(cls, value: Any) -> Any:
        # zod's wording: a non-number "expected number", a fraction "expected int".
        if value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            received = "boolean" if isinstance(value, bool) else type(value).__name__
            received = {"str": "string", "list": "array", "dict": "object"}.get(received, received)
            raise ValueError(f"Invalid input: expected number, received {received}")
        if value != int(value):
            raise ValueError("Invalid input: expected int, received number")
        return int(value)  # JSON `3.0` is the number 3 to zod, so also under strict validation


class ListObjectsParams(RequestModel):
    """Outside the 1.0.0 contract: `id` is a structure id, tag id or collection id."""

    id: str = Field(min_length=1)
    page_size: Annotated[int | None, BeforeValidator(_int_from_query), Field(gt=0, le=LIST_PAGE_SIZE_MAX)] = (
        None
    )
    cursor: str | None = None


# --- blocks ------------------------------------------------------------------------------------


class PositionEnd(RequestModel):
    type: Literal["end"] = "end"


class PositionStart(RequestModel):
    type: Literal["start"] = "start"


class AfterBlock(RequestModel):
    id: str = Field(min_length=1)


class PositionAfterBlock(RequestModel):
    type: Literal["after_block"] = "after_block"
    after_block: AfterBlock = Field(alias="after_block")


if TYPE_CHECKING:
    Position = PositionEnd | PositionStart | PositionAfterBlock
else:
    Position = exact_union(PositionEnd, PositionStart, PositionAfterBlock)


class AppendBlocksBody(RequestModel):
    """Exactly one of `blocks` or `markdown`; `parent_block_id` only with start/end positions."""

    id: Uuid
    property_id: str | None = None
    parent_block_id: str | None = None
    position: Position | None = None
    blocks: list[WritableBlock] | None = Field(default=None, min_length=1)
    markdown: Markdown | None = None

    @model_validator(mode="after")
    def _one_content(self) -> AppendBlocksBody:
        _exactly_one_of_blocks_or_markdown(self)
        return self


def daily_note_title(day: str) -> str:
    """The title (and append `date`) of the daily note of `day` (anything starting YYYY-MM-DD):
    that day at midnight UTC, ISO 8601, as the API writes it."""
    return f"{day[:10]}T00:00:00.000Z"


class DailyNoteAppendBody(RequestModel):
    """Appends to a day's note (ISO 8601 UTC midnight; today when omitted). Processed async."""

    date: str | None = None
    no_time_stamp: bool | None = None
    blocks: list[WritableBlock] | None = Field(default=None, min_length=1)
    markdown: Markdown | None = None

    @model_validator(mode="after")
    def _one_content(self) -> DailyNoteAppendBody:
        _exactly_one_of_blocks_or_markdown(self)
        return self


class UpdateBlockBody(RequestModel):
    """Replaces one block in place; its id is kept."""

    id: Uuid
    block_id: str = Field(min_length=1)
    property_id: str | None = None
    block: WritableBlock


class DeleteBlockParams(RequestModel):
    object_id: Uuid
    block_id: Uuid
