"""The space and its structures (object types), as `GET /space` and `GET /space/structures` return them."""

from __future__ import annotations

from ._base import ResponseModel
from ._properties import Icon, LabelOption, PropertyType

__all__ = ["Collection", "PropertyDefinition", "Space", "Structure", "StructuresResponse"]


class Space(ResponseModel):
    """The one space a token grants access to."""

    id: str
    title: str
    icon: Icon | None = None


class PropertyDefinition(ResponseModel):
    """One property of a structure: what can be read and what can be written."""

    id: str
    name: str
    type: PropertyType | str
    writable: bool
    multiple: bool | None = None
    label_set: list[LabelOption] | None = None
    allowed_structures: list[str] | None = None


class Collection(ResponseModel):
    """A non-default collection (database) of a structure."""

    id: str
    title: str


class Structure(ResponseModel):
    id: str
    title: str
    plural_name: str
    property_definitions: list[PropertyDefinition]
    label_color: str
    collections: list[Collection]


class StructuresResponse(ResponseModel):
    structures: list[Structure]
