"""The 13 property value types, in the form the API returns and the form it accepts.

Every value is `{"type": T, T: payload}`. Writable forms differ from readable ones where the
official schemas differ: dates (optional resolution and end), rich text (writable tokens), icons
(Phosphor rules), and `lastUpdatedAt`, which cannot be written at all. Beyond that, readable
payloads keep unknown keys and do not enforce write limits (an object with nine aliases is still
readable), while writable payloads drop unknown keys and enforce every rule.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar, get_args

from pydantic import Field, field_validator

from ._base import RequestModel, ResponseModel
from ._blocks import (
    DatePayload,
    Token,
    WritableDatePayload,
    WritableToken,
    exact_union,
    lenient_union,
)

__all__ = [
    "ALIASES_MAX",
    "PROPERTY_VALUE_TYPES",
    "AliasesProperty",
    "BooleanProperty",
    "CreatedAtProperty",
    "DateProperty",
    "EntityProperty",
    "EntityTarget",
    "Icon",
    "IconProperty",
    "LabelOption",
    "LabelProperty",
    "LastUpdatedAtProperty",
    "NumberProperty",
    "PropertyValue",
    "RichTextProperty",
    "TextProperty",
    "TitleProperty",
    "UnknownProperty",
    "UrlProperty",
    "Value",
    "WritableAliasesProperty",
    "WritableBooleanProperty",
    "WritableCreatedAtProperty",
    "WritableDateProperty",
    "WritableEntityProperty",
    "WritableEntityTarget",
    "WritableIcon",
    "WritableIconProperty",
    "WritableLabelOption",
    "WritableLabelProperty",
    "WritableNumberProperty",
    "WritablePropertyValue",
    "WritableRichTextProperty",
    "WritableTextProperty",
    "WritableTitleProperty",
    "WritableUrlProperty",
    "WritableValue",
]

PropertyType = Literal[
    "title",
    "text",
    "number",
    "boolean",
    "url",
    "date",
    "label",
    "entity",
    "aliases",
    "icon",
    "createdAt",
    "lastUpdatedAt",
    "richText",
]
PROPERTY_VALUE_TYPES: tuple[str, ...] = get_args(PropertyType)
ALIASES_MAX = 8
T = TypeVar("T")

_PHOSPHOR_STYLES = ("-duotone", "-fill", "-bold", "-light", "-thin")
_PHOSPHOR_RE = re.compile(r"^ph-[a-z0-9]+(-[a-z0-9]+)*$")


class Icon(ResponseModel):
    """An emoji or a Phosphor icon (`ph-star`)."""

    type: Literal["emoji", "iconify"] | str  # read leniently: a new icon kind must not break reads
    val: str


class WritableIcon(RequestModel):
    """An icon to set: one emoji, or a regular Phosphor id such as `ph-star` (no styled variants)."""

    type: Literal["emoji", "iconify"]
    val: str

    @field_validator("val")
    @classmethod
    def _check_val(cls, val: str, info: Any) -> str:
        kind = info.data.get("type")
        if kind == "iconify":
            if val.endswith(_PHOSPHOR_STYLES):
                raise ValueError(
                    "Styled Phosphor variants (-duotone, -fill, -bold, -light, -thin) are not "
                    "accepted; use the regular icon id, for example `ph-star`"
                )
            if not _PHOSPHOR_RE.match(val):
                raise ValueError("Invalid icon: expected a Phosphor id such as `ph-star`")
        elif kind == "emoji" and (
            not val.strip() or len(val) > 16 or any(c.isascii() and c.isalnum() for c in val)
        ):
            raise ValueError("Invalid icon: expected a single emoji")
        return val


class Value(ResponseModel, Generic[T]):
    """A `{"value": ...}` payload as read; unknown keys are kept."""

    value: T


class WritableValue(RequestModel, Generic[T]):
    """A `{"value": ...}` payload to write; unknown keys are dropped, as zod strips them."""

    value: T


class LabelOption(ResponseModel):
    """A label option as read (a property's `labelSet`, a label value)."""

    id: str
    name: str
    color: str | None = None


class WritableLabelOption(RequestModel):
    """A label option to select, by `id`."""

    id: str
    name: str
    color: str | None = None


class EntityTarget(ResponseModel):
    """A linked object, as read."""

    id: str


class WritableEntityTarget(RequestModel):
    """An object to link."""

    id: str = Field(min_length=1)


# --- readable ----------------------------------------------------------------------------------


class TitleProperty(ResponseModel):
    type: Literal["title"] = "title"
    title: Value[str | None]


class TextProperty(ResponseModel):
    type: Literal["text"] = "text"
    text: Value[str | None]


class NumberProperty(ResponseModel):
    type: Literal["number"] = "number"
    number: Value[int | float | None]


class BooleanProperty(ResponseModel):
    type: Literal["boolean"] = "boolean"
    boolean: Value[bool | None]


class UrlProperty(ResponseModel):
    type: Literal["url"] = "url"
    url: Value[str | None]


class DateProperty(ResponseModel):
    type: Literal["date"] = "date"
    date: DatePayload


class LabelProperty(ResponseModel):
    type: Literal["label"] = "label"
    label: list[LabelOption]


class EntityProperty(ResponseModel):
    type: Literal["entity"] = "entity"
    entity: list[EntityTarget]


class AliasesProperty(ResponseModel):
    type: Literal["aliases"] = "aliases"
    aliases: Value[list[str]]


class IconProperty(ResponseModel):
    type: Literal["icon"] = "icon"
    icon: Value[Icon | None]


class CreatedAtProperty(ResponseModel):
    type: Literal["createdAt"] = "createdAt"
    created_at: Value[str]


class LastUpdatedAtProperty(ResponseModel):
    type: Literal["lastUpdatedAt"] = "lastUpdatedAt"
    last_updated_at: Value[str]


class RichTextProperty(ResponseModel):
    type: Literal["richText"] = "richText"
    rich_text: Value[list[Token]]


class UnknownProperty(ResponseModel):
    """A property value type newer than this client; its fields are kept as extras."""

    type: str


if TYPE_CHECKING:
    PropertyValue = (
        TitleProperty
        | TextProperty
        | NumberProperty
        | BooleanProperty
        | UrlProperty
        | DateProperty
        | LabelProperty
        | EntityProperty
        | AliasesProperty
        | IconProperty
        | CreatedAtProperty
        | LastUpdatedAtProperty
        | RichTextProperty
        | UnknownProperty
    )
else:
    PropertyValue = lenient_union(
        UnknownProperty,
        TitleProperty,
        TextProperty,
        NumberProperty,
        BooleanProperty,
        UrlProperty,
        DateProperty,
        LabelProperty,
        EntityProperty,
        AliasesProperty,
        IconProperty,
        CreatedAtProperty,
        LastUpdatedAtProperty,
        RichTextProperty,
    )


# --- writable ----------------------------------------------------------------------------------


class WritableTitleProperty(RequestModel):
    type: Literal["title"] = "title"
    title: WritableValue[str | None]


class WritableTextProperty(RequestModel):
    type: Literal["text"] = "text"
    text: WritableValue[str | None]


class WritableNumberProperty(RequestModel):
    type: Literal["number"] = "number"
    number: WritableValue[int | float | None]


class WritableBooleanProperty(RequestModel):
    type: Literal["boolean"] = "boolean"
    boolean: WritableValue[bool | None]


class WritableUrlProperty(RequestModel):
    type: Literal["url"] = "url"
    url: WritableValue[str | None]


class WritableDateProperty(RequestModel):
    type: Literal["date"] = "date"
    date: WritableDatePayload


class WritableLabelProperty(RequestModel):
    """Selected options by id; `[]` clears. Single-select keeps the first id."""

    type: Literal["label"] = "label"
    label: list[WritableLabelOption]


class WritableEntityProperty(RequestModel):
    type: Literal["entity"] = "entity"
    entity: list[WritableEntityTarget]


class WritableAliasesProperty(RequestModel):
    type: Literal["aliases"] = "aliases"
    aliases: WritableValue[Annotated[list[str], Field(max_length=ALIASES_MAX)]]


class WritableIconProperty(RequestModel):
    type: Literal["icon"] = "icon"
    icon: WritableValue[WritableIcon | None]


class WritableCreatedAtProperty(RequestModel):
    type: Literal["createdAt"] = "createdAt"
    created_at: WritableValue[str]


class WritableRichTextProperty(RequestModel):
    type: Literal["richText"] = "richText"
    rich_text: WritableValue[list[WritableToken]]


if TYPE_CHECKING:
    WritablePropertyValue = (
        WritableTitleProperty
        | WritableTextProperty
        | WritableNumberProperty
        | WritableBooleanProperty
        | WritableUrlProperty
        | WritableDateProperty
        | WritableLabelProperty
        | WritableEntityProperty
        | WritableAliasesProperty
        | WritableIconProperty
        | WritableCreatedAtProperty
        | WritableRichTextProperty
    )
else:
    WritablePropertyValue = exact_union(
        WritableTitleProperty,
        WritableTextProperty,
        WritableNumberProperty,
        WritableBooleanProperty,
        WritableUrlProperty,
        WritableDateProperty,
        WritableLabelProperty,
        WritableEntityProperty,
        WritableAliasesProperty,
        WritableIconProperty,
        WritableCreatedAtProperty,
        WritableRichTextProperty,
    )
