"""Stdio where every message gets an answer: a screen in front of the SDK's stdin reader.

The SDK's stdio reader drops what it cannot validate without a word (invalid JSON, batches,
`"jsonrpc": "1.0"`, array `params`, nesting past its parser's depth limit, lone surrogates), and
reads a request whose id is a float, an object or null as a notification, which never gets a
reply either: the client waits until its timeout. The screen reads each line first, answers the
ones the SDK would mishandle with the JSON-RPC error they call for (-32700 when the line is not
JSON, -32600 otherwise, echoing the request's id when it has a valid one), and hands every other
line to the SDK untouched. The SDK still writes stdout, so our answers and its replies go through
one writer and never interleave.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import TextIOWrapper
from typing import IO, Any

import anyio
import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared._stream_protocols import WriteStream
from mcp.shared.message import SessionMessage
from mcp_types import ErrorData, JSONRPCError, jsonrpc_message_adapter
from pydantic import ValidationError

__all__ = ["INVALID_REQUEST", "PARSE_ERROR", "Rejection", "screen_message", "serve_stdio"]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600

RequestId = str | int
# A JSON string (escapes included) or one structural bracket: enough to find nesting outside strings.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


@dataclass(frozen=True)
class Rejection:
    """One error answer for a line the SDK would drop or misread."""

    code: int
    message: str
    request_id: RequestId | None = None

    def as_session_message(self) -> SessionMessage:
        error = ErrorData(code=self.code, message=self.message)
        return SessionMessage(JSONRPCError(jsonrpc="2.0", id=self.request_id, error=error))


def _is_request_id(value: object) -> bool:
    """JSON-RPC ids the SDK can echo: strings and integers (a bool is not an integer here)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _echoable_id(message: dict[str, Any]) -> RequestId | None:
    """The id to answer with: only a valid one, and only on something meant as a request.

    A client's malformed *response* carries an id from the server's own numbering; echoing it
    would answer one of the client's requests that happens to share the number.
    """
    request_id = message.get("id")
    if "result" in message or "error" in message:
        return None
    return request_id if _is_request_id(request_id) else None


def _check_request(message: dict[str, Any]) -> Rejection | None:
    request_id = _echoable_id(message)
    if not isinstance(message["method"], str):
        return Rejection(INVALID_REQUEST, "Invalid request: method must be a string", request_id)
    if "id" in message and not _is_request_id(message["id"]):
        return Rejection(INVALID_REQUEST, "Invalid request: id must be a string or an integer")
    params = message.get("params")
    if params is not None and not isinstance(params, dict):
        return Rejection(INVALID_REQUEST, "Invalid request: params must be an object", request_id)
    return None


def _is_response(message: dict[str, Any]) -> bool:
    """A client's answer to a server request (elicitation, sampling): never answered back."""
    if isinstance(message.get("result"), dict):
        return _is_request_id(message.get("id"))
    error = message.get("error")
    if not isinstance(error, dict):
        return False
    code = error.get("code")
    has_code = isinstance(code, int) and not isinstance(code, bool)
    request_id = message.get("id")
    return (
        has_code
        and isinstance(error.get("message"), str)
        and (request_id is None or _is_request_id(request_id))
    )


def _check_envelope(message: object) -> Rejection | None:
    """Whether one JSON value is a JSON-RPC 2.0 request, notification or response."""
    if not isinstance(message, dict):
        return Rejection(INVALID_REQUEST, "Invalid request: a message must be a JSON object")
    if message.get("jsonrpc") != "2.0":
        return Rejection(INVALID_REQUEST, 'Invalid request: jsonrpc must be "2.0"', _echoable_id(message))
    if "method" in message:
        return _check_request(message)
    if _is_response(message):
        return None
    reason = "Invalid request: neither a request (method) nor a response (result or error)"
    return Rejection(INVALID_REQUEST, reason, _echoable_id(message))


def _reject_batch(batch: list[Any]) -> list[Rejection]:
    """One answer per request in the batch (MCP has no batches), or one for the whole batch."""
    reason = "Invalid request: batches are not supported; send each message on its own line"
    ids = [
        item["id"]
        for item in batch
        if isinstance(item, dict) and "method" in item and _is_request_id(item.get("id"))
    ]
    return [Rejection(INVALID_REQUEST, reason, request_id) for request_id in ids] or [
        Rejection(INVALID_REQUEST, reason)
    ]


def _top_level_only(line: str) -> str:
    """The line with every value nested below the top level replaced by null.

    Python's parser gives up (RecursionError) around 1,000 levels; the envelope of such a message
    (jsonrpc, id, method) sits at the top level and still parses once the depths are cut away, so
    the client can be answered on its request's id. Linear: one pass over strings and brackets.
    """
    pieces: list[str] = []
    depth = 0
    kept_from = 0
    for token in _STRING_OR_BRACKET.finditer(line):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth == 2:
                pieces.append(line[kept_from : token.start()])
        elif bracket in ("]", "}"):
            if depth == 2:
                pieces.append("null")
                kept_from = token.end()
            depth -= 1
    pieces.append(line[kept_from:])
    return "".join(pieces)


def _reject_too_deep(line: str) -> Rejection:
    reason = "Invalid request: the message is nested too deeply"
    try:
        envelope = json.loads(_top_level_only(line))
    except (ValueError, RecursionError):
        return Rejection(PARSE_ERROR, "Parse error: the message is nested too deeply to read")
    request_id = _echoable_id(envelope) if isinstance(envelope, dict) and "method" in envelope else None
    return Rejection(INVALID_REQUEST, reason, request_id)


def _sdk_rejection(line: str, message: dict[str, Any]) -> Rejection | None:
    """What the SDK's own reader would drop although the envelope is right (depth, surrogates)."""
    try:
        jsonrpc_message_adapter.validate_json(line, by_name=False)
    except ValidationError as exc:
        reason = exc.errors(include_input=False, include_url=False)[0]["msg"].removeprefix("Invalid JSON: ")
        if _SURROGATE_ESCAPE.search(line):
            reason += " (a \\uD800-\\uDFFF escape must be one half of a surrogate pair)"
        return Rejection(INVALID_REQUEST, f"Invalid request: {reason}", _echoable_id(message))
    return None


def _int_or_infinity(digits: str) -> int | float:
    """Python refuses to convert integers over 4,300 digits; the screen only needs to know it is a number."""
    try:
        return int(digits)
    except ValueError:
        return -math.inf if digits.startswith("-") else math.inf


def screen_message(line: str) -> list[Rejection] | None:
    """None when the SDK can take the line as it is; otherwise the answers it needs (blank: none)."""
    if not line.strip():
        return []
    try:
        message = json.loads(line, parse_int=_int_or_infinity)
    except RecursionError:
        return [_reject_too_deep(line)]
    except ValueError as exc:
        return [Rejection(PARSE_ERROR, f"Parse error: {exc}")]
    if isinstance(message, list):
        return _reject_batch(message)
    rejection = _check_envelope(message) or _sdk_rejection(line, message)
    return None if rejection is None else [rejection]


class _ScreenedStdin(anyio.AsyncFile[str]):
    """stdin as the SDK's reader sees it: only lines it can handle; the others answered here."""

    def __init__(self, wire: IO[str]) -> None:
        super().__init__(wire)
        self._replies: WriteStream[SessionMessage] | None = None
        self._replies_ready = anyio.Event()

    def answer_through(self, replies: WriteStream[SessionMessage]) -> None:
        self._replies = replies
        self._replies_ready.set()

    def _read_screened(self) -> tuple[str, list[Rejection] | None]:
        """In a worker thread: the blocking read, and the parse a long line may need."""
        line = self.wrapped.readline()
        return line, (screen_message(line) if line else None)

    async def __aiter__(self) -> AsyncIterator[str]:
        while True:
            line, rejections = await anyio.to_thread.run_sync(self._read_screened)
            if not line:
                return
            if rejections is None:
                yield line
                continue
            await self._replies_ready.wait()
            assert self._replies is not None
            for rejection in rejections:
                await self._replies.send(rejection.as_session_message())


def _is_backed_by_fd_0(stream: IO[str] | None) -> bool:
    try:
        return stream is not None and stream.fileno() == 0
    except (AttributeError, OSError, ValueError):
        return False


@contextmanager
def _claimed_stdin() -> Iterator[IO[str]]:
    """The wire on a private descriptor, fd 0 on the null device while we serve.

    What the SDK's own stdio transport does, kept: code that reads stdin, or a child process that
    inherits it, gets end-of-file instead of stealing protocol bytes.
    """
    if not _is_backed_by_fd_0(sys.stdin):
        wrapper = TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
        try:
            yield wrapper
        finally:
            wrapper.detach()  # sys.stdin's buffer is not ours to close
        return
    wire = os.dup(0)  # not inheritable, as every descriptor Python creates
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    try:
        # closefd=False: a worker thread may still block on the wire when serving ends.
        yield TextIOWrapper(os.fdopen(wire, "rb", closefd=False), encoding="utf-8", errors="replace")
    finally:
        os.dup2(wire, 0)


async def serve_stdio(server: MCPServer[Any]) -> None:
    """`server.run_stdio_async()` with the screen in front of the SDK's reader."""
    # The SDK's own stdio runner reaches the low-level server the same way.
    lowlevel = server._lowlevel_server
    with _claimed_stdin() as wire:
        stdin = _ScreenedStdin(wire)
        async with stdio_server(stdin=stdin) as (read_stream, write_stream):
            stdin.answer_through(write_stream)
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
