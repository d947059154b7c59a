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

from capacities_mcp._environment import ENV_API_URL
from capacities_mcp.api import (
    CapacitiesApiError,
    CapacitiesConnectionError,
    CapacitiesOAuthError,
    CapacitiesValidationError,
    Issue,
    format_issues,
    issues_from,
)

from ._connection import WRITE_SCOPE_ADVICE
from ._logging import redact
from ._serving import ServerUnavailable
from ._state import LookupFailed

__all__ = [
    "ErrorInfo",
    "PartialWrite",
    "ToolInputError",
    "describe",
    "error_result",
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


class ToolInputError(Exception):
    """The arguments make sense to the schema but not to the space (unknown option, ...)."""

    def __init__(
        self,
        message: str,
        *,
        issues: Sequence[Issue] = (),
        code: str = "invalid_arguments",
        next_step: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.issues = list(issues)
        self.code = code
        self.next_step = next_step


class PartialWrite(Exception):
    """A multi-step write stopped half way: say what was done, so the model does not redo it."""

    def __init__(self, done: str, cause: BaseException, *, object_id: str, next_step: str) -> None:
        super().__init__(done)
        self.done = done
        self.cause = cause
        self.object_id = object_id
        self.next_step = next_step


# The JSON schema of `ErrorInfo.payload()["error"]`. With `--structured-output`, every tool's
# output schema admits `{"error": <this>}` beside its success shape (see tools/_registry.py):
# clients built on the TypeScript SDK validate an error result's structured content against the
# output schema too, and would otherwise turn our error into a protocol error the model never reads.
ERROR_PAYLOAD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Why the call failed and what to do next.",
    "properties": {
        "code": {"type": "string", "description": "cap_* code of the API, or a local one"},
        "status": {
            "anyOf": [{"type": "integer"}, {"type": "null"}],
            "description": "HTTP status (0: no answer)",
        },
        "message": {"type": "string", "description": "what happened"},
        "next_step": {"type": "string", "description": "what to do now"},
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
                "additionalProperties": False,
            },
        },
    },
    "required": ["code", "status", "message", "next_step", "retry_after", "missing_scopes"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class ErrorInfo:
    """What went wrong (`what`) and what to do (`next_step`): the model reads both as `text`, a
    program (or a framework that passes only structured content) finds both in `payload`."""

    what: str
    next_step: str
    code: str
    status: int | None = None
    message: str = ""
    retry_after: float | None = None
    missing_scopes: tuple[str, ...] = ()
    maybe_applied: bool | None = None
    issues: tuple[Issue, ...] = ()
    object_id: str | None = None

    @property
    def text(self) -> str:
        what = self.what.rstrip()
        if not self.next_step:
            return what
        joiner = "\n" if "\n" in what else " "  # advice after a list of issues goes on its own line
        return f"{what}{joiner}{self.next_step}"

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "status": self.status,
            "message": self.message or self.what,
            "next_step": self.next_step,
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
    return f"Retry after {_seconds(retry_after)}" if retry_after is not None else f"Retry {fallback}"


_CHECK_FIRST = (
    "The write may or may not have been applied: check with get_object before retrying, so "
    "nothing is added twice."
)


def _api_advice(exc: CapacitiesApiError, said: str) -> tuple[str, str]:
    """(what happened, what to do) for an answer of the API, by its code."""
    code, status = exc.code, exc.status
    if code == "cap_not_found":
        return (
            f"Not found (404, cap_not_found){said}. No object (or block) with this id is visible: "
            "it may be mistyped, in the trash or deleted.",
            "Find the object with search_objects or list_objects, and block ids with "
            'get_object(format="blocks").',
        )
    if code == "cap_scope_insufficient":
        need = ", ".join(exc.missing_scopes) or "a scope this request needs"
        return (
            f"Permission denied (403, cap_scope_insufficient): this token lacks {need}{said}. "
            "It cannot change the space.",
            WRITE_SCOPE_ADVICE,
        )
    if code == "cap_not_authenticated":
        return (
            f"Capacities rejected the credentials (401, cap_not_authenticated){said}. The token is "
            "invalid, expired or revoked.",
            "Set a new CAPACITIES_API_TOKEN or sign in again: capacities-mcp auth login.",
        )
    if code == "cap_rate_limit_exceeded":
        return (
            f"Rate limited by Capacities (429, cap_rate_limit_exceeded){said}. Nothing was changed.",
            f"{_retry_hint(exc.retry_after)}; do not retry at once.",
        )
    if code == "cap_invalid_input" and status == 413:
        return (
            f"The request is too large for Capacities (413){said}. Nothing was changed.",
            "Split the content into smaller parts (for example several append_blocks calls).",
        )
    if code == "cap_invalid_input":
        return (
            f"Capacities rejected the input (400, cap_invalid_input){said}. Nothing was changed.",
            "Fix the fields named above and call again; get_space lists the valid properties and options.",
        )
    if code == "cap_service_unavailable":
        return (
            f"Capacities is temporarily unavailable ({status}, cap_service_unavailable){said}.",
            f"{_retry_hint(exc.retry_after)}.",
        )
    if code == "cap_server_error":
        return f"Capacities had a server error ({status}, cap_server_error){said}.", "Retry shortly."
    if code == "cap_object_creation_quota_reached":
        return (
            f"The space has reached its plan's object-creation quota{said}. No new objects can be created.",
            "Tell the user (existing objects can still be edited).",
        )
    return (
        f"Unexpected answer from Capacities (status {status}, {code}){said}.",
        "Retry once; if it persists, tell the user.",
    )


def _connection_sentence(message: str, maybe_applied: bool) -> str:
    """The client's own sentence ("Could not reach the Capacities API at ... (ConnectError)"),
    said once: it is not wrapped in a second "Could not reach ..."."""
    text = message.strip().removesuffix("; nothing was sent").rstrip(".")
    if not text:
        text = "No answer from the Capacities API" if maybe_applied else "Could not reach the Capacities API"
    return f"{text[:1].upper()}{text[1:]}."


def _describe_api(exc: CapacitiesApiError) -> ErrorInfo:
    message = _clean_api_message(exc.message or "")
    said = f": {message}" if message else ""
    maybe_applied = exc.maybe_applied
    if isinstance(exc, CapacitiesConnectionError):
        what = _connection_sentence(message, maybe_applied)
        if maybe_applied:
            advice = _CHECK_FIRST
        else:
            what += " Nothing was changed."
            advice = f"Check the network and the API URL ({ENV_API_URL}), then retry."
    else:
        what, advice = _api_advice(exc, said)
        if maybe_applied:
            what = what.replace(" Nothing was changed.", "")
            advice = f"{_CHECK_FIRST} {advice}"
    return ErrorInfo(
        what,
        advice,
        exc.code,
        exc.status,
        message,
        exc.retry_after,
        tuple(exc.missing_scopes),
        maybe_applied=maybe_applied,
    )


def _describe_validation(exc: CapacitiesValidationError) -> ErrorInfo:
    issues = tuple(exc.issues)
    what = redact(f"Invalid input, nothing was sent to Capacities:\n{format_issues(issues, as_list=True)}\n")
    return ErrorInfo(
        what, "Fix these fields and call again.", "cap_invalid_input", None, redact(str(exc)), issues=issues
    )


def describe(exc: BaseException, *, tool: str) -> ErrorInfo:
    """The model-facing description of any exception raised while running `tool`."""
    if isinstance(exc, PartialWrite):
        inner = describe(exc.cause, tool=tool)
        return replace(
            inner,
            what=f"{exc.done}, but the next step failed. {inner.what}",
            next_step=f"{inner.next_step} {exc.next_step}",
            object_id=exc.object_id,
        )
    if isinstance(exc, CapacitiesApiError):
        return _describe_api(exc)
    if isinstance(exc, ServerUnavailable):
        return ErrorInfo(
            f"The server could not start its connection to Capacities ({exc}). Nothing was sent.",
            "Tell the user: the server's log says why; each call tries again, or restart the server "
            "once it is fixed.",
            "server_unavailable",
            maybe_applied=False,
        )
    if isinstance(exc, CapacitiesOAuthError):
        detail = f" ({exc.error})" if exc.error else ""
        return ErrorInfo(
            f"Signing in to Capacities failed{detail}: {redact(exc.message)}. Nothing was sent.",
            "Sign in again: capacities-mcp auth login (or set CAPACITIES_API_TOKEN), then retry.",
            "oauth_error",
            exc.status,
            redact(exc.message),
        )
    if isinstance(exc, CapacitiesValidationError):
        return _describe_validation(exc)
    if isinstance(exc, ToolInputError):
        what = redact(exc.message) + ("\n" + format_issues(exc.issues, as_list=True) if exc.issues else "")
        return ErrorInfo(what, exc.next_step, exc.code, None, redact(exc.message), issues=tuple(exc.issues))
    if isinstance(exc, LookupFailed):
        found: tuple[Issue, ...] = (Issue.at(exc.field, exc.message),) if exc.field else ()
        message = redact(exc.message)
        return ErrorInfo(message, "", "not_found_in_space", None, message, issues=found)
    if isinstance(exc, ValidationError):
        issues = tuple(Issue(i.path, redact(i.message)) for i in issues_from(exc, plain=True))
        return ErrorInfo(
            f"Invalid arguments for {tool}:\n{format_issues(issues, as_list=True)}\n",
            "Fix these and call again.",
            "invalid_arguments",
            None,
            f"invalid arguments for {tool}",
            issues=issues,
        )
    _log.error("tool %s failed unexpectedly", tool, exc_info=exc)
    return ErrorInfo(
        f"Internal error in {tool} ({type(exc).__name__}); the details are in the server log.",
        "Nothing more is known about whether a write happened: check with get_object before "
        "retrying a write. Other tools keep working.",
        "internal_error",
        None,
        f"internal error ({type(exc).__name__})",
    )


def error_result(info: ErrorInfo) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=info.text)],
        structured_content=info.payload(),
        is_error=True,
    )


def tool_error(exc: BaseException, *, tool: str) -> CallToolResult:
    """`describe` + `error_result`: the one way a tool reports a failure."""
    return error_result(describe(exc, tool=tool))
