"""`upload_file`: put a file into the space (a local path on stdio servers, or base64 content).

The bytes go up in the parts the API asks for (`client.media.upload`), with a progress
notification per part when the client sent a progress token; a failed part aborts the upload,
so nothing is left half made (the error then says `maybe_applied: false`).
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import anyio.to_thread
from pydantic import Field

from capacities_mcp.api import Issue

from .._errors import ToolInputError
from .._progress import current_progress
from ._common import WriteOutput, collection_ids, remember_title, structure_name
from ._registry import ToolCall, ToolInput, ToolReply, ToolSpec, hints

__all__ = ["MAX_UPLOAD_BYTES", "SPECS"]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
"""Our own bound (the API's is not documented): a file is read into memory and, as base64,
arrives inside one MCP message."""


class UploadFileInput(ToolInput):
    # Lengths are left to the API models (checked before anything is sent): schema tokens.
    path: str | None = Field(default=None, description="Local file (stdio only).")
    content: str | None = Field(default=None, description="Base64 file; needs filename.")
    filename: str | None = Field(default=None, description="Name, e.g. a.pdf.")
    title: str | None = Field(default=None, description="Default: file name.")
    collections: list[str] | None = Field(default=None, description="Ids or titles.")


class UploadFileOutput(WriteOutput):
    size: int


def _too_large(size: int, where: str) -> ToolInputError:
    return ToolInputError(
        f"The file is {size:,} bytes; upload_file takes at most {MAX_UPLOAD_BYTES:,}.",
        issues=[Issue.at(where, "too large")],
        code="file_too_large",
        next_step="Tell the user to add it in the Capacities app.",
    )


def _read_path(text: str) -> tuple[str, bytes]:
    """The file's name and bytes; any path the system refuses (too long, a NUL, no access) is
    the caller's input error, not ours."""
    shown = text if len(text) <= 200 else text[:200] + "…"
    try:
        path = Path(text).expanduser()
        size = path.stat().st_size if path.is_file() else None
        if size is not None and size <= MAX_UPLOAD_BYTES:
            return path.name, path.read_bytes()
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        issues = [Issue.at("path", "unreadable")]
        raise ToolInputError(f"Cannot read {shown}: {reason}", issues=issues) from exc
    if size is None:
        raise ToolInputError(f"No such file: {shown}", issues=[Issue.at("path", "not a readable file")])
    raise _too_large(size, "path")


def _decode(content: str) -> bytes:
    if len(content) > MAX_UPLOAD_BYTES * 4 // 3 + 4:
        raise _too_large(len(content) * 3 // 4, "content")
    try:
        return base64.b64decode("".join(content.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ToolInputError(
            "content is not valid base64.", issues=[Issue.at("content", "invalid base64")]
        ) from exc


async def _file(call: ToolCall, args: UploadFileInput) -> tuple[str, bytes]:
    """The file's name and bytes, from exactly one of `path` and `content`."""
    if (args.path is None) == (args.content is None):
        raise ToolInputError("Give exactly one of path or content.", issues=[Issue.at("path|content", "one")])
    if args.path is not None:
        if call.ctx.request_context.request is not None:  # an HTTP request: the file is not ours to read
            raise ToolInputError(
                "path works only when the server runs on the user's machine (stdio).",
                issues=[Issue.at("path", "not over HTTP")],
                next_step="Send the file as base64 content with filename instead.",
            )
        name, data = await anyio.to_thread.run_sync(_read_path, args.path)
        return args.filename or name, data
    if args.filename is None:
        raise ToolInputError(
            "content needs a filename.", issues=[Issue.at("filename", "required with content")]
        )
    data = _decode(args.content or "")
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large(len(data), "content")
    return args.filename, data


async def upload_file(call: ToolCall, args: UploadFileInput) -> ToolReply:
    name, data = await _file(call, args)
    if not data:
        raise ToolInputError(
            "The file is empty.", issues=[Issue.at("content" if args.content else "path", "empty")]
        )
    collections = await collection_ids(call.state, args.collections) if args.collections else None

    async def on_part(done: int, total: int) -> None:
        progress = current_progress()
        if progress is not None:
            await progress.step(done, total, f"uploaded part {done} of {total}")

    client = call.state.client
    obj = await client.media.upload(name, data, title=args.title, collections=collections, on_part=on_part)
    title = remember_title(call.state, obj)
    kind = await structure_name(call.state, obj.structure_id)
    text = f'Uploaded "{title}" ({kind}, {len(data):,} bytes) `{obj.id}`.'
    return ToolReply(
        text,
        UploadFileOutput(
            id=obj.id, title=title, structure_id=obj.structure_id, structure=kind, size=len(data)
        ),
    )


UPLOAD_FILE = ToolSpec(
    name="upload_file",
    title="Upload a file",
    description="Add a file (max 20 MB) to the space as a media object.",
    input_model=UploadFileInput,
    output_model=UploadFileOutput,
    handler=upload_file,
    annotations=hints(read_only=False, idempotent=False),
)

SPECS = (UPLOAD_FILE,)
