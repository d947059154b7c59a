"""Every failure becomes ONE tool error the model can act on: what happened, then what to do.

The SDK passes only `ToolError` text to the model and hides everything else, so tools never let an
exception escape: `tool_error(exc, tool=...)` turns it into a `CallToolResult` with

* `is_error=True`,
* one text block: a sentence saying what happened (with the API's own message, never dropped)
  followed by the next step ("retry after 12 s", "find it with search_objects", ...),
* `structured_content={"error": {...}}` with `code`, `status`, `message`, `retry_after`,
  `missing_scopes`, `maybe_applied` and, for input problems, `issues` (`field` + `message`).

Why error payloads do not follow the tools' output schemas: an output schema describes a
*successful* result. The SDK validates structured content only for non-error results, and so do
the Python and TypeScript clients, so `{"error": {...}}` reaches the client intact and a program
can branch on `error.code` without parsing prose. Every tool error uses this one shape.

Unexpected exceptions (bugs) are logged with their traceback on stderr and reported generically:
their text may hold anything, so it stays in the log. Tokens are masked in every text we build.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import ValidationError

from capacities_mcp.api import (
    CapacitiesApiError,
    CapacitiesConnectionError,
    CapacitiesOAuthError,
    CapacitiesValidationError,
)

from ._logging import redact
from ._state import LookupFailed

__all__ = [
    "ErrorInfo",
    "FieldIssue",
    "PartialWrite",
    "ToolInputError",
    "describe",
    "error_result",
    "issues_from_validation",
    "redact",
    "tool_error",
]

_log = logging.getLogger("capacities_mcp.server.tools")

_MAX_MESSAGE = 1500


def _clean_api_message(message: str) -> str:
    """The API's message, safe and short: HTML pages (Cloudflare) are summarised, not pasted."""
    text = message.strip()
    if text.startswith("<") or "<html" in text[:200].lower():
        code = re.search(r"error code:?\s*(\d+)", text, re.IGNORECASE)
        text = "an HTML error page" + (f" (error code {code.group(1)})" if code else "")
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE] + " …"
    return redact(text)


@dataclass(frozen=True)
class FieldIssue:
    """One input problem: which field (dotted path) and which rule it broke."""

    field: str
    message: str


class ToolInputError(Exception):
    """The arguments make sense to the schema but not to the space (unknown option, ...)."""

    def __init__(
        self,
        message: str,
        *,
        issues: Sequence[FieldIssue] = (),
        code: str = "invalid_arguments",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.issues = list(issues)
        self.code = code


class PartialWrite(Exception):
    """A multi-step write stopped half way: say what was done, so the model does not redo it."""

    def __init__(self, done: str, cause: BaseException, *, object_id: str, next_step: str) -> None:
        super().__init__(done)
        self.done = done
        self.cause = cause
        self.object_id = object_id
        self.next_step = next_step


# The JSON schema of `ErrorInfo.payload()["error"]`. Every tool's output schema admits
# `{"error": <this>}` beside its success shape (see tools/_registry.py): clients built on the
# TypeScript SDK validate an error result's structured content against the output schema too,
# and would otherwise turn our error into a protocol error the model never reads.
ERROR_PAYLOAD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Why the call failed; the text content says what to do next.",
    "properties": {
        "code": {"type": "string", "description": "cap_* code of the API, or a local one"},
        "status": {
            "anyOf": [{"type": "integer"}, {"type": "null"}],
            "description": "HTTP status (0: no answer)",
        },
        "message": {"type": "string"},
        "retry_after": {
            "anyOf": [{"type": "number"}, {"type": "null"}],
            "description": "seconds to wait first",
        },
        "missing_scopes": {"type": "array", "items": {"type": "string"}},
        "maybe_applied": {"type": "boolean", "description": "a write may have gone through"},
        "object_id": {"type": "string", "description": "object a half-done write created"},
        "issues": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["code", "status", "message", "retry_after", "missing_scopes"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class ErrorInfo:
    """What the model reads (`text`) and what a program reads (`payload`)."""

    text: str
    code: str
    status: int | None = None
    message: str = ""
    retry_after: float | None = None
    missing_scopes: tuple[str, ...] = ()
    maybe_applied: bool | None = None
    issues: tuple[FieldIssue, ...] = ()
    object_id: str | None = None

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "status": self.status,
            "message": self.message,
            "retry_after": self.retry_after,
            "missing_scopes": list(self.missing_scopes),
        }
        if self.maybe_applied is not None:
            error["maybe_applied"] = self.maybe_applied
        if self.object_id is not None:
            error["object_id"] = self.object_id
        if self.issues:
            error["issues"] = [{"field": i.field, "message": i.message} for i in self.issues]
        return {"error": error}


def _seconds(value: float) -> str:
    return f"{max(1, round(value))} s"


def _retry_hint(retry_after: float | None, fallback: str = "in about a minute") -> str:
    return f"retry after {_seconds(retry_after)}" if retry_after is not None else f"retry {fallback}"


def _describe_api(exc: CapacitiesApiError) -> ErrorInfo:
    message = _clean_api_message(exc.message or "")
    code, status = exc.code, exc.status
    said = f": {message}" if message else ""
    if isinstance(exc, CapacitiesConnectionError):
        if exc.maybe_applied:
            text = (
                f"No answer from Capacities{said}. The write may or may not have been applied: "
                "check with get_object before retrying, so nothing is added twice."
            )
        else:
            text = (
                f"Could not reach the Capacities API{said}. Nothing was changed. Check the "
                "network or the API URL, then retry."
            )
        return ErrorInfo(text, code, status, message, maybe_applied=exc.maybe_applied)
    scopes = tuple(exc.missing_scopes)
    if code == "cap_not_found":
        text = (
            f"Not found (404, cap_not_found){said}. No object (or block) with this id is visible: "
            "it may be mistyped, in the trash or deleted. Find the object with search_objects "
            'or list_objects, and block ids with get_object(format="blocks").'
        )
    elif code == "cap_scope_insufficient":
        need = ", ".join(scopes) or "a scope this request needs"
        text = (
            f"Permission denied (403, cap_scope_insufficient): this token lacks {need}{said}. "
            "It cannot change the space. Tell the user; writing needs a token with api:write "
            "(Capacities → Settings → Capacities API) or signing in again with write access."
        )
    elif code == "cap_not_authenticated":
        text = (
            f"Capacities rejected the credentials (401, cap_not_authenticated){said}. The token "
            "is invalid, expired or revoked: set a new CAPACITIES_API_TOKEN or sign in again: "
            "capacities-mcp auth login."
        )
    elif code == "cap_rate_limit_exceeded":
        text = (
            f"Rate limited by Capacities (429, cap_rate_limit_exceeded){said}. "
            f"{_retry_hint(exc.retry_after).capitalize()}; do not retry at once."
        )
    elif code == "cap_invalid_input" and status == 413:
        text = (
            f"The request is too large for Capacities (413){said}. Split the content into "
            "smaller parts (for example several append_blocks calls)."
        )
    elif code == "cap_invalid_input":
        text = (
            f"Capacities rejected the input (400, cap_invalid_input){said}. Fix the fields named "
            "above and call again; get_space lists the valid properties and options."
        )
    elif code == "cap_service_unavailable":
        text = (
            f"Capacities is temporarily unavailable ({status}, cap_service_unavailable){said}. "
            f"{_retry_hint(exc.retry_after).capitalize()}."
        )
    elif code == "cap_server_error":
        text = (
            f"Capacities had a server error ({status}, cap_server_error){said}. Retry shortly; "
            "after a failed write, check with get_object first."
        )
    elif code == "cap_object_creation_quota_reached":
        text = (
            f"The space has reached its plan's object-creation quota{said}. No new objects can "
            "be created; tell the user (existing objects can still be edited)."
        )
    else:
        text = (
            f"Unexpected answer from Capacities (status {status}, {code}){said}. Retry once; if "
            "it persists, tell the user."
        )
    return ErrorInfo(text, code, status, message, exc.retry_after, scopes)


def _issue_lines(issues: Sequence[FieldIssue]) -> str:
    return "\n".join(f"- {i.field}: {i.message}" for i in issues)


def _describe_validation(exc: CapacitiesValidationError) -> ErrorInfo:
    issues = tuple(FieldIssue(i.dotted_path or "(input)", i.message) for i in exc.issues)
    lines = _issue_lines(issues)
    text = f"Invalid input, nothing was sent to Capacities:\n{lines}\nFix these fields and call again."
    return ErrorInfo(redact(text), "cap_invalid_input", None, redact(str(exc)), issues=issues)


def issues_from_validation(error: ValidationError, prefix: str = "") -> list[FieldIssue]:
    """pydantic errors as `field: rule (got <value>)`, with short, token-free values."""
    issues: list[FieldIssue] = []
    for detail in error.errors(include_url=False):
        loc = [str(p) for p in detail["loc"] if not (isinstance(p, str) and p.startswith("<"))]
        path = ".".join([prefix, *loc] if prefix else loc) or "(arguments)"
        message = "required, missing" if detail["type"] == "missing" else detail["msg"]
        for lead in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(lead)
        if detail["type"] not in ("missing", "value_error", "assertion_error") and "input" in detail:
            shown = repr(detail["input"])
            message += f" (got {shown[:60] + '…' if len(shown) > 60 else shown})"
        issues.append(FieldIssue(path, redact(message)))
    return issues


def describe(exc: BaseException, *, tool: str) -> ErrorInfo:
    """The model-facing description of any exception raised while running `tool`."""
    if isinstance(exc, PartialWrite):
        inner = describe(exc.cause, tool=tool)
        return replace(
            inner,
            text=f"{exc.done}, but the next step failed. {inner.text} {exc.next_step}",
            object_id=exc.object_id,
        )
    if isinstance(exc, CapacitiesApiError):
        return _describe_api(exc)
    if isinstance(exc, CapacitiesOAuthError):
        detail = f" ({exc.error})" if exc.error else ""
        text = (
            f"Signing in to Capacities failed{detail}: {redact(exc.message)}. Nothing was sent. "
            "Sign in again: capacities-mcp auth login (or set CAPACITIES_API_TOKEN), then retry."
        )
        return ErrorInfo(text, "oauth_error", exc.status, redact(exc.message))
    if isinstance(exc, CapacitiesValidationError):
        return _describe_validation(exc)
    if isinstance(exc, ToolInputError):
        text = redact(exc.message)
        if exc.issues:
            text += "\n" + _issue_lines(exc.issues)
        return ErrorInfo(text, exc.code, None, redact(exc.message), issues=tuple(exc.issues))
    if isinstance(exc, LookupFailed):
        found: tuple[FieldIssue, ...] = (FieldIssue(exc.field, exc.message),) if exc.field else ()
        return ErrorInfo(redact(exc.message), "not_found_in_space", None, redact(exc.message), issues=found)
    if isinstance(exc, ValidationError):
        issues = tuple(issues_from_validation(exc))
        lines = _issue_lines(issues)
        text = f"Invalid arguments for {tool}:\n{lines}\nFix these and call again."
        return ErrorInfo(text, "invalid_arguments", None, f"invalid arguments for {tool}", issues=issues)
    _log.error("tool %s failed unexpectedly", tool, exc_info=exc)
    text = (
        f"Internal error in {tool} ({type(exc).__name__}); the details are in the server log. "
        "Nothing more is known about whether a write happened: check with get_object before "
        "retrying a write. Other tools keep working."
    )
    return ErrorInfo(text, "internal_error", None, f"internal error ({type(exc).__name__})")


def error_result(info: ErrorInfo) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=info.text)],
        structured_content=info.payload(),
        is_error=True,
    )


def tool_error(exc: BaseException, *, tool: str) -> CallToolResult:
    """`describe` + `error_result`: the one way a tool reports a failure."""
    return error_result(describe(exc, tool=tool))
