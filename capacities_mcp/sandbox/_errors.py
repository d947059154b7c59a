"""The one error type sandbox handlers raise; the app turns it into the official error body."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..api import Issue, format_issues

__all__ = ["SandboxApiError", "invalid_input", "not_found"]


class SandboxApiError(Exception):
    """An answer of the form `{"code", "message", "details"?}` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            out["details"] = self.details
        return out


def invalid_input(message: str, path: Sequence[str | int] = ()) -> SandboxApiError:
    """A 400 in zod's words: `✖ message` and, when a field is to blame, `→ at path`."""
    return SandboxApiError(
        400, "cap_invalid_input", format_issues([Issue(path=tuple(path), message=message)])
    )


def not_found(message: str) -> SandboxApiError:
    return SandboxApiError(404, "cap_not_found", message)
