"""Text tokens and blocks: the readable forms the API returns and the writable forms it accepts.

Readable unions fall back to an `Unknown*` model for a `type` this client does not know yet, so a
newer API never makes a response unreadable. Writable unions are exact: a typo is an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from ._base import ApiModel, RequestModel, ResponseModel

__all__ = [
    "HEADING_HIERARCHY",
    "PARAGRAPH",
    "Block",
    "CodeBlock",
    "CodeToken",
    "ColorTheme",
    "CustomHighlight",
    "DatePayload",
    "DateResolution",
    "EntityBlock",
    "GridBlock",
    "GroupBlock",
    "Hierarchy",
    "Highlight",
    "HighlightColor",
    "HorizontalLineBlock",
    "LinkToken",
    "ListPayload",
    "ListType",
    "MathBlock",
    "MathToken",
    "QuoteLayout",
    "QuotePayload",
    "TextBlock",
    "TextStyle",
    "TextToken",
    "TodoPayload",
    "TogglePayload",
    "Token",
    "UnknownBlock",
    "UnknownToken",
    "UnsupportedBlock",
    "WebhighlightsHighlight",
    "WritableBlock",
    "WritableCodeBlock",
    "WritableCodeToken",
    "WritableDatePayload",
    "WritableEntityBlock",
    "WritableGridBlock",
    "WritableGroupBlock",
    "WritableHierarchy",
    "WritableHighlight",
    "WritableHorizontalLineBlock",
    "WritableLinkToken",
    "WritableListPayload",
    "WritableMathBlock",
    "WritableMathToken",
    "WritableQuotePayload",
    "WritableTextBlock",
    "WritableTextToken",
    "WritableTodoPayload",
    "WritableTogglePayload",
    "WritableToken",
    "exact_union",
    "lenient_union",
]

_COLORS = (
    "gray",
    "rose",
    "pink",
    "fuchsia",
    "purple",
    "violet",
    "indigo",
    "blue",
    "sky",
    "cyan",
    "teal",
    "emerald",
    "green",
    "lime",
    "yellow",
    "amber",
    "orange",
    "red",
)
ColorTheme = Literal[
    "text-gray",
    "text-rose",
    "text-pink",
    "text-fuchsia",
    "text-purple",
    "text-violet",
    "text-indigo",
    "text-blue",
    "text-sky",
    "text-cyan",
    "text-teal",
    "text-emerald",
    "text-green",
    "text-lime",
    "text-yellow",
    "text-amber",
    "text-orange",
    "text-red",
    "bg-gray",
    "bg-rose",
    "bg-pink",
    "bg-fuchsia",
    "bg-purple",
    "bg-violet",
    "bg-indigo",
    "bg-blue",
    "bg-sky",
    "bg-cyan",
    "bg-teal",
    "bg-emerald",
    "bg-green",
    "bg-lime",
    "bg-yellow",
    "bg-amber",
    "bg-orange",
    "bg-red",
]
HighlightColor = Literal["yellow", "orange", "green", "red", "purple", "blue"]
DateResolution = Literal["time", "day"]


# --- dates -------------------------------------------------------------------------------------


class DatePayload(ResponseModel):
    """A date as read: resolution plus ISO 8601 start and end."""

    date_resolution: DateResolution | str  # read leniently: a new value must not break reads
    start: str | None
    end: str | None


class WritableDatePayload(RequestModel):
    """A date as written; `start: null` clears it (and its end)."""

    date_resolution: DateResolution | None = None
    start: str | None
    end: str | None = None


# --- tokens ------------------------------------------------------------------------------------


class TextStyle(ApiModel):
    bold: bool | None = None
    italic: bool | None = None
    strikethrough: bool | None = None
    underline: bool | None = None


class TextToken(ResponseModel):
    """Plain text; `style` is required by the API even when empty."""

    type: Literal["TextToken"] = "TextToken"
    text: str
    style: TextStyle
    color: ColorTheme | str | None = None  # read leniently, like a block's `color_theme`


def _link_target_count(token: Any) -> int:
    return sum(getattr(token, name) is not None for name in ("url", "entity_id", "date"))


class LinkToken(ResponseModel):
    type: Literal["LinkToken"] = "LinkToken"
    text: str
    url: str | None = None
    entity_id: str | None = None
    date: DatePayload | None = None

    @model_validator(mode="after")
    def _at_most_one_target(self) -> LinkToken:
        if _link_target_count(self) > 1:
            raise ValueError("Provide at most one of `url`, `entityId`, or `date` on a LinkToken.")
        return self


class MathToken(ResponseModel):
    type: Literal["MathToken"] = "MathToken"
    text: str


class CodeToken(ResponseModel):
    type: Literal["CodeToken"] = "CodeToken"
    text: str


class UnknownToken(ResponseModel):
    """A token type newer than this client; its fields are kept as extras."""

    type: str


class WritableTextToken(RequestModel):
    type: Literal["TextToken"] = "TextToken"
    text: str
    style: TextStyle = Field(default_factory=TextStyle)
    color: ColorTheme | None = None

    def model_post_init(self, context: Any, /) -> None:
        # `style` is required on the wire; send `{}` when the caller gave none.
        super().model_post_init(context)
        self.__pydantic_fields_set__.add("style")


class WritableLinkToken(RequestModel):
    """A link with exactly one target: a URL, an object id, or a date."""

    type: Literal["LinkToken"] = "LinkToken"
    text: str
    url: str | None = None
    entity_id: str | None = None
    date: WritableDatePayload | None = None

    @model_validator(mode="after")
    def _exactly_one_target(self) -> WritableLinkToken:
        if _link_target_count(self) != 1:
            raise ValueError("Provide exactly one of `url`, `entityId`, or `date` on a LinkToken.")
        return self


class WritableMathToken(RequestModel):
    type: Literal["MathToken"] = "MathToken"
    text: str


class WritableCodeToken(RequestModel):
    type: Literal["CodeToken"] = "CodeToken"
    text: str


def _type_of(model: type[ApiModel]) -> str:
    return str(model.model_fields["type"].default)


def exact_union(*models: type[ApiModel]) -> Any:
    """A union picked by `type`; an unknown `type` is an error listing the allowed ones.

    Tags are written `<Name>` so that error paths can leave them out (see `_validation`).
    """
    names = [_type_of(m) for m in models]

    def pick(value: Any) -> str | None:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return f"<{kind}>" if kind in names else None

    return Annotated[
        Union[tuple(Annotated[m, Tag(f"<{n}>")] for m, n in zip(models, names, strict=True))],  # noqa: UP007 - built at run time
        Discriminator(
            pick,
            custom_error_type="invalid_union_discriminator",
            custom_error_message="Invalid input: expected `type` to be one of " + ", ".join(names),
        ),
    ]


def lenient_union(fallback: type[ApiModel], *models: type[ApiModel]) -> Any:
    """Like `exact_union`, but an unknown `type` is read into `fallback` instead of failing."""
    names = [_type_of(m) for m in models]

    def pick(value: Any) -> str:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return f"<{kind}>" if kind in names else "<?>"

    members = [Annotated[m, Tag(f"<{n}>")] for m, n in zip(models, names, strict=False)]
    members.append(Annotated[fallback, Tag("<?>")])
    return Annotated[Union[tuple(members)], Discriminator(pick)]  # noqa: UP007 - built at run time


if TYPE_CHECKING:
    Token = TextToken | LinkToken | MathToken | CodeToken | UnknownToken
else:
    Token = lenient_union(UnknownToken, TextToken, LinkToken, MathToken, CodeToken)
if TYPE_CHECKING:
    WritableToken = WritableTextToken | WritableLinkToken | WritableMathToken | WritableCodeToken
else:
    WritableToken = exact_union(WritableTextToken, WritableLinkToken, WritableMathToken, WritableCodeToken)


# --- block payloads ----------------------------------------------------------------------------


ListType = Literal["bullet", "alphabetical", "numerical", "roman"]
QuoteLayout = Literal["normal", "standout"]

# Block payloads come in pairs, like every model here: the readable form keeps unknown keys and
# reads a value newer than this client (a new list style, quote layout) as its string; the
# writable form accepts only what the API documents.


class Hierarchy(ResponseModel):
    """Paragraph `Base/0` or heading `H1/1` .. `H3/3`, as read."""

    key: str
    val: int | float


class WritableHierarchy(RequestModel):
    """Paragraph `Base/0` or heading `H1/1` .. `H3/3` (the schema asks only string + number)."""

    key: str
    val: int | float


PARAGRAPH = WritableHierarchy(key="Base", val=0)
HEADING_HIERARCHY = {level: WritableHierarchy(key=f"H{level}", val=level) for level in (1, 2, 3)}


class ListPayload(ResponseModel):
    type: ListType | str  # read leniently: a new list style must not break reads


class WritableListPayload(RequestModel):
    type: ListType


class TodoPayload(ResponseModel):
    is_done: bool


class WritableTodoPayload(RequestModel):
    is_done: bool


class TogglePayload(ResponseModel):
    is_open: bool


class WritableTogglePayload(RequestModel):
    is_open: bool


class QuotePayload(ResponseModel):
    layout: QuoteLayout | str  # read leniently: a new quote layout must not break reads


class WritableQuotePayload(RequestModel):
    layout: QuoteLayout


class Highlight(ResponseModel):
    type: Literal["webhighlights", "readwise", "kindle-import", "custom"] | str
    url: str | None = None
    label: str | None = None
    location: str | None = None
    color: str | None = None


class WebhighlightsHighlight(RequestModel):
    type: Literal["webhighlights"] = "webhighlights"
    url: str | None = None
    color: HighlightColor | None = None


class CustomHighlight(RequestModel):
    type: Literal["custom"] = "custom"
    label: str = Field(min_length=1, max_length=20)
    location: str | None = Field(default=None, max_length=20)
    url: str | None = None
    color: HighlightColor | None = None


if TYPE_CHECKING:
    WritableHighlight = WebhighlightsHighlight | CustomHighlight
else:
    WritableHighlight = exact_union(WebhighlightsHighlight, CustomHighlight)


# --- readable blocks ---------------------------------------------------------------------------


class TextBlock(ResponseModel):
    """Paragraph, heading, list item, to-do, quote or toggle, with nested children."""

    id: str
    type: Literal["TextBlock"] = "TextBlock"
    tokens: list[Token]
    blocks: list[Block]
    hierarchy: Hierarchy
    list_: ListPayload | None = Field(default=None, alias="list")
    todo: TodoPayload | None = None
    toggle: TogglePayload | None = None
    quote: QuotePayload | None = None
    color_theme: str | None = None
    highlight: Highlight | None = None


class GroupBlock(ResponseModel):
    id: str
    type: Literal["GroupBlock"] = "GroupBlock"
    blocks: list[Block]
    list_: ListPayload | None = Field(default=None, alias="list")
    todo: TodoPayload | None = None
    toggle: TogglePayload | None = None
    color_theme: str | None = None


class GridBlock(ResponseModel):
    id: str
    type: Literal["GridBlock"] = "GridBlock"
    columns: list[list[Block]]
    dividers: list[int | float]
    grid_layout: Literal["columns", "grid"] | str | None = None  # read leniently
    color_theme: str | None = None


class CodeBlock(ResponseModel):
    id: str
    type: Literal["CodeBlock"] = "CodeBlock"
    lang: str
    text: str


class MathBlock(ResponseModel):
    id: str
    type: Literal["MathBlock"] = "MathBlock"
    text: str
    color_theme: str | None = None


class EntityBlock(ResponseModel):
    id: str
    type: Literal["EntityBlock"] = "EntityBlock"
    entity_id: str | None
    date: DatePayload | None = None


class HorizontalLineBlock(ResponseModel):
    id: str
    type: Literal["HorizontalLineBlock"] = "HorizontalLineBlock"


class UnsupportedBlock(ResponseModel):
    """The API's placeholder for a block type it does not expose."""

    id: str
    type: Literal["unsupported"] = "unsupported"
    block_type: str


class UnknownBlock(ResponseModel):
    """A block type newer than this client; its fields are kept as extras."""

    type: str
    id: str | None = None


if TYPE_CHECKING:
    Block = (
        TextBlock
        | GroupBlock
        | GridBlock
        | CodeBlock
        | MathBlock
        | EntityBlock
        | HorizontalLineBlock
        | UnsupportedBlock
        | UnknownBlock
    )
else:
    Block = lenient_union(
        UnknownBlock,
        TextBlock,
        GroupBlock,
        GridBlock,
        CodeBlock,
        MathBlock,
        EntityBlock,
        HorizontalLineBlock,
        UnsupportedBlock,
    )


# --- writable blocks ---------------------------------------------------------------------------


class WritableTextBlock(RequestModel):
    """A new or replacement text block. Omit `id`: the server assigns one."""

    type: Literal["TextBlock"] = "TextBlock"
    tokens: list[WritableToken] | None = None
    blocks: list[WritableBlock] | None = None
    hierarchy: WritableHierarchy | None = None
    list_: WritableListPayload | None = Field(default=None, alias="list")
    todo: WritableTodoPayload | None = None
    toggle: WritableTogglePayload | None = None
    quote: WritableQuotePayload | None = None
    text_alignment: Literal["left", "center", "right"] | None = None
    color_theme: ColorTheme | None = None
    highlight: WritableHighlight | None = None


class WritableGroupBlock(RequestModel):
    type: Literal["GroupBlock"] = "GroupBlock"
    blocks: list[WritableBlock] | None = None
    list_: WritableListPayload | None = Field(default=None, alias="list")
    todo: WritableTodoPayload | None = None
    toggle: WritableTogglePayload | None = None
    text_alignment: Literal["left", "center", "right"] | None = None
    color_theme: ColorTheme | None = None


class WritableGridBlock(RequestModel):
    type: Literal["GridBlock"] = "GridBlock"
    columns: list[list[WritableBlock]] | None = None
    dividers: list[int | float]
    grid_layout: Literal["columns", "grid"] | None = None
    color_theme: ColorTheme | None = None

    @field_validator("columns")
    @classmethod
    def _at_least_two_columns(cls, columns: list[list[Any]] | None) -> list[list[Any]] | None:
        if columns is not None and len(columns) < 2:
            raise ValueError("GridBlock must include at least two columns.")
        return columns


class WritableCodeBlock(RequestModel):
    type: Literal["CodeBlock"] = "CodeBlock"
    lang: str
    text: str


class WritableMathBlock(RequestModel):
    type: Literal["MathBlock"] = "MathBlock"
    text: str
    color_theme: ColorTheme | None = None


class WritableEntityBlock(RequestModel):
    """An embedded object (`entity_id`), or an empty embed (`None`)."""

    type: Literal["EntityBlock"] = "EntityBlock"
    entity_id: str | None
    date: Any = None

    @field_validator("date")
    @classmethod
    def _no_date(cls, value: Any) -> Any:
        raise ValueError("EntityBlock does not accept `date`; use a LinkToken with `date` instead.")


class WritableHorizontalLineBlock(RequestModel):
    type: Literal["HorizontalLineBlock"] = "HorizontalLineBlock"


if TYPE_CHECKING:
    WritableBlock = (
        WritableTextBlock
        | WritableGroupBlock
        | WritableGridBlock
        | WritableCodeBlock
        | WritableMathBlock
        | WritableEntityBlock
        | WritableHorizontalLineBlock
    )
else:
    WritableBlock = exact_union(
        WritableTextBlock,
        WritableGroupBlock,
        WritableGridBlock,
        WritableCodeBlock,
        WritableMathBlock,
        WritableEntityBlock,
        WritableHorizontalLineBlock,
    )
