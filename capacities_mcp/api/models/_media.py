"""Media upload (outside the 1.0.0 contract): start a session, send its parts, complete or abort.

Shapes as live clients use them (`../shared/capacities-api.md` §7.5); the limits are the
API's business and unknown, so these models check only what is certainly wrong.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from ._base import RequestModel, ResponseModel, Uuid
from ._objects import _int_from_query

__all__ = [
    "FILE_NAME_MAX_LENGTH",
    "MediaUploadIdBody",
    "MediaUploadPart",
    "MediaUploadPartParams",
    "MediaUploadSession",
    "MediaUploadStartBody",
]

FILE_NAME_MAX_LENGTH = 255


class MediaUploadStartBody(RequestModel):
    """`POST /object/media/upload`: what will be sent; the MIME type is inferred when omitted."""

    file_name: str = Field(min_length=1, max_length=FILE_NAME_MAX_LENGTH)
    file_size: int = Field(gt=0)
    file_type: str | None = Field(default=None, min_length=1, max_length=255)
    title: str | None = Field(default=None, min_length=1, max_length=1000)
    collections: list[Uuid] | None = None


class MediaUploadSession(ResponseModel):
    """An open upload: send `part_count` parts of `part_size` bytes (the last one smaller)."""

    id: str
    status: str
    file_name: str
    file_type: str | None = None
    file_size: int
    part_size: int
    part_count: int
    expires_at: str | None = None


class MediaUploadPartParams(RequestModel):
    """`PUT /object/media/upload/part?id=&partNumber=`; the body is the part's raw bytes."""

    id: Uuid
    part_number: Annotated[int, BeforeValidator(_int_from_query), Field(ge=1)]


class MediaUploadPart(ResponseModel):
    number: int
    size: int


class MediaUploadIdBody(RequestModel):
    """`POST /object/media/upload/complete` and `/abort`: the session."""

    id: Uuid
