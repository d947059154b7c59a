"""The 13 property value types, in the form the API returns and the form it accepts.

Every value is `{"type": T, T: payload}`. Writable forms differ from readable ones only where the
official schemas differ: dates (optional resolution and end), rich text (writable tokens), icons
(Phosphor rules), and `lastUpdatedAt`, which cannot be written at all.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal, Union

from pydantic import Field, field_validator

from ._base import ApiModel, RequestModel, ResponseModel
from ._blocks import (
    DatePayload,
    Token,
    WritableDatePayload,
    WritableToken,
    exact_union,
    lenient_union,
)

__all__ = [
    "PROPERTY_VALUE_TYPES", "ALIASES_MAX", "Icon", "WritableIcon", "LabelOption", "EntityTarget",
    "TitleProperty", "TextProperty", "NumberProperty", "BooleanProperty", "UrlProperty",
    "DateProperty", "LabelProperty", "EntityProperty", "AliasesProperty", "IconProperty",
    "CreatedAtProperty", "LastUpdatedAtProperty", "RichTextProperty", "UnknownProperty",
    "PropertyValue",
    "WritableTitleProperty", "WritableTextProperty", "WritableNumberProperty",
    "WritableBooleanProperty", "WritableUrlProperty", "WritableDateProperty",
    "WritableLabelProperty", "WritableEntityProperty", "WritableAliasesProperty",
    "WritableIconProperty", "WritableCreatedAtProperty", "WritableRichTextProperty",
    "WritablePropertyValue",
]  # fmt: skip

PROPERTY_VALUE_TYPES = (
    "title", "text", "number", "boolean", "url", "date", "label", "entity", "aliases", "icon",
    "createdAt", "lastUpdatedAt", "richText",
)  # fmt: skip
ALIASES_MAX = 8

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
        elif kind == "emoji":
            if not val.strip() or len(val) > 16 or any(c.isascii() and c.isalnum() for c in val):
                raise ValueError("Invalid icon: expected a single emoji")
        return val


class _Value(ApiModel):
    """`{"value": ...}` payload; subclasses narrow the type."""


class _StrValue(_Value):
    value: str | None


class _NumberValue(_Value):
    value: int | float | None


class _BoolValue(_Value):
    value: bool | None


class _TimestampValue(_Value):
    value: str


class _AliasesValue(_Value):
    value: list[str] = Field(max_length=ALIASES_MAX)


class _IconValue(_Value):
    value: Icon | None


class _WritableIconValue(_Value):
    value: WritableIcon | None


class _RichTextValue(_Value):
    value: list[Token]


class _WritableRichTextValue(_Value):
    value: list[WritableToken]


class LabelOption(ApiModel):
    """A label option, selected by `id`."""

    id: str
    name: str
    color: str | None = None


class EntityTarget(ApiModel):
    """A linked object."""

    id: str = Field(min_length=1)


# --- readable ----------------------------------------------------------------------------------


class TitleProperty(ResponseModel):
    type: Literal["title"] = "title"
    title: _StrValue


class TextProperty(ResponseModel):
    type: Literal["text"] = "text"
    text: _StrValue


class NumberProperty(ResponseModel):
    type: Literal["number"] = "number"
    number: _NumberValue


class BooleanProperty(ResponseModel):
    type: Literal["boolean"] = "boolean"
    boolean: _BoolValue


class UrlProperty(ResponseModel):
    type: Literal["url"] = "url"
    url: _StrValue


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
    aliases: _AliasesValue


class IconProperty(ResponseModel):
    type: Literal["icon"] = "icon"
    icon: _IconValue


class CreatedAtProperty(ResponseModel):
    type: Literal["createdAt"] = "createdAt"
    created_at: _TimestampValue


class LastUpdatedAtProperty(ResponseModel):
    type: Literal["lastUpdatedAt"] = "lastUpdatedAt"
    last_updated_at: _TimestampValue


class RichTextProperty(ResponseModel):
    type: Literal["richText"] = "richText"
    rich_text: _RichTextValue


class UnknownProperty(ResponseModel):
    """A property value type newer than this client; its fields are kept as extras."""

    type: str


if TYPE_CHECKING:
    PropertyValue = Union[TitleProperty, TextProperty, NumberProperty, BooleanProperty, UrlProperty, DateProperty, LabelProperty, EntityProperty, AliasesProperty, IconProperty, CreatedAtProperty, LastUpdatedAtProperty, RichTextProperty, UnknownProperty]
else:
    PropertyValue = lenient_union(UnknownProperty, TitleProperty, TextProperty, NumberProperty, BooleanProperty, UrlProperty,
    DateProperty, LabelProperty, EntityProperty, AliasesProperty, IconProperty,
    CreatedAtProperty, LastUpdatedAtProperty, RichTextProperty,)


# --- writable ----------------------------------------------------------------------------------


class WritableTitleProperty(RequestModel):
    type: Literal["title"] = "title"
    title: _StrValue


class WritableTextProperty(RequestModel):
    type: Literal["text"] = "text"
    text: _StrValue


class WritableNumberProperty(RequestModel):
    type: Literal["number"] = "number"
    number: _NumberValue


class WritableBooleanProperty(RequestModel):
    type: Literal["boolean"] = "boolean"
    boolean: _BoolValue


class WritableUrlProperty(RequestModel):
    type: Literal["url"] = "url"
    url: _StrValue


class WritableDateProperty(RequestModel):
    type: Literal["date"] = "date"
    date: WritableDatePayload


class WritableLabelProperty(RequestModel):
    """Selected options by id; `[]` clears. Single-select keeps the first id."""

    type: Literal["label"] = "label"
    label: list[LabelOption]


class WritableEntityProperty(RequestModel):
    type: Literal["entity"] = "entity"
    entity: list[EntityTarget]


class WritableAliasesProperty(RequestModel):
    type: Literal["aliases"] = "aliases"
    aliases: _AliasesValue


class WritableIconProperty(RequestModel):
    type: Literal["icon"] = "icon"
    icon: _WritableIconValue


class WritableCreatedAtProperty(RequestModel):
    type: Literal["createdAt"] = "createdAt"
    created_at: _TimestampValue


class WritableRichTextProperty(RequestModel):
    type: Literal["richText"] = "richText"
    rich_text: _WritableRichTextValue


if TYPE_CHECKING:
    WritablePropertyValue = Union[WritableTitleProperty, WritableTextProperty, WritableNumberProperty, WritableBooleanProperty, WritableUrlProperty, WritableDateProperty, WritableLabelProperty, WritableEntityProperty, WritableAliasesProperty, WritableIconProperty, WritableCreatedAtProperty, WritableRichTextProperty]
else:
    WritablePropertyValue = exact_union(WritableTitleProperty, WritableTextProperty, WritableNumberProperty, WritableBooleanProperty,
    WritableUrlProperty, WritableDateProperty, WritableLabelProperty, WritableEntityProperty,
    WritableAliasesProperty, WritableIconProperty, WritableCreatedAtProperty,
    WritableRichTextProperty,)
