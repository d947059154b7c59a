"""Base classes shared by every API model.

Python attributes are snake_case; the wire is camelCase (the official API's spelling). Request
models ignore unknown keys the way the official zod schemas strip them; response models keep
unknown keys so that a newer API never breaks an older client.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = [
    "BUILTIN_STRUCTURE_IDS",
    "ApiModel",
    "BuiltinStructureId",
    "RequestModel",
    "ResponseModel",
    "StructureId",
    "Uuid",
    "is_structure_id",
    "is_uuid",
    "wire",
]

# The official schema's UUID rule (zod v4 `uuid()`): version nibble 1-8, RFC variant, or the
# nil / max UUIDs.
_UUID_RE = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
    r"|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$"
)

BuiltinStructureId = Literal[
    "RootSpace",
    "User",
    "UserPersonal",
    "RootDatabase",
    "RootQuery",
    "RootPage",
    "RootStructure",
    "RootEntity",
    "RootBlocksTemplate",
    "MediaImage",
    "MediaPDF",
    "MediaAudio",
    "MediaVideo",
    "MediaWebResource",
    "MediaFile",
    "MediaTweet",
    "RootAIChat",
    "RootSimpleTable",
    "RootDailyNote",
    "RootTag",
    "UtilDate",
    "RootTask",
]
BUILTIN_STRUCTURE_IDS: tuple[str, ...] = BuiltinStructureId.__args__  # type: ignore[attr-defined]


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and _UUID_RE.match(value) is not None


def is_structure_id(value: object) -> bool:
    return is_uuid(value) or value in BUILTIN_STRUCTURE_IDS


def _check_uuid(value: str) -> str:
    if not _UUID_RE.match(value):
        raise ValueError("Invalid UUID")
    return value


def _check_structure_id(value: str) -> str:
    if not is_structure_id(value):
        raise ValueError(
            "Invalid structure id: expected a UUID or a built-in id such as RootPage or RootTask"
        )
    return value


def _require_str(value: Any) -> Any:
    # Ids are strings on the wire; a number or null must not be coerced into one.
    if not isinstance(value, str):
        raise ValueError(f"Invalid input: expected string, received {_js_type(value)}")
    return value


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


Uuid = Annotated[str, BeforeValidator(_require_str), AfterValidator(_check_uuid)]
"""A UUID string, checked with the official API's rule."""

StructureId = Annotated[str, BeforeValidator(_require_str), AfterValidator(_check_structure_id)]
"""A custom structure's UUID or a built-in structure id (RootPage, RootTask, ...)."""


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python, both accepted on input."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        # Validators are built on a model's first use, not at import: the server's start-up
        # (an MCP host launches it per session) need not pay for models it may never parse.
        defer_build=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON object the API expects: camelCase keys, unset optionals left out, nulls kept."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class RequestModel(ApiModel):
    """A request body or query: unknown keys are dropped, as the official schemas do."""

    model_config = ConfigDict(extra="ignore")

    def model_post_init(self, context: Any, /) -> None:
        # A discriminator such as `type: Literal["TextBlock"] = "TextBlock"` has a default, but it
        # must always reach the wire even when the caller did not spell it out.
        if "type" in type(self).model_fields:
            self.__pydantic_fields_set__.add("type")


class ResponseModel(ApiModel):
    """A response: unknown keys are kept, never fatal.

    Made by parsing API answers, where every union member arrives with its `type`; unlike
    `RequestModel` there is no per-instance hook (it would cost ~40% of parsing a large object).
    """

    model_config = ConfigDict(extra="allow")


def wire(model: BaseModel | None) -> Any:
    """Serialize any model (or None) to its wire form."""
    if model is None:
        return None
    if isinstance(model, ApiModel):
        return model.to_wire()
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)
