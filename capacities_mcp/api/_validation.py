"""Validation errors in the official API's words.

The official server validates with zod and answers 400 with a "prettified" message: one
`✖ <problem>` line per issue, followed by `  → at <path>`. Our client (before sending) and our
sandbox (on receipt) validate with the same pydantic models and describe failures the same way,
so a model reading the error sees one familiar form whichever side caught it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

__all__ = ["Issue", "issues_from", "format_issues", "CapacitiesValidationError"]

_TAG = re.compile(r"^<.*>$")
_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_SCALAR_TAGS = {"int", "float", "str", "bool", "none"}


@dataclass(frozen=True)
class Issue:
    """One problem: where (`path`, wire names) and what (`message`)."""

    path: tuple[str | int, ...]
    message: str

    @property
    def dotted_path(self) -> str:
        out = ""
        for part in self.path:
            if isinstance(part, int):
                out += f"[{part}]"
            elif _IDENT.match(part):
                out += f".{part}" if out else part
            else:
                out += f'["{part}"]'
        return out


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    return "object"


_EXPECTED = {
    "string_type": "string", "int_type": "int", "int_parsing": "int", "int_from_float": "int",
    "float_type": "number", "float_parsing": "number", "bool_type": "boolean",
    "bool_parsing": "boolean", "list_type": "array", "dict_type": "object",
    "model_type": "object", "model_attributes_type": "object",
}  # fmt: skip


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    received = _js_type(error.get("input"))
    if kind == "missing":
        return "Invalid input: expected a value, received undefined"
    if kind in _EXPECTED:
        return f"Invalid input: expected {_EXPECTED[kind]}, received {received}"
    if kind == "literal_error":
        return f"Invalid option: expected one of {ctx.get('expected', '')}"
    if kind == "string_too_short":
        return f"Too small: expected string to have >={ctx['min_length']} characters"
    if kind == "string_too_long":
        return f"Too big: expected string to have <={ctx['max_length']} characters"
    if kind == "too_short":
        return f"Too small: expected array to have >={ctx['min_length']} items"
    if kind == "too_long":
        return f"Too big: expected array to have <={ctx['max_length']} items"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
              "less_than_equal": "<="}[kind]  # fmt: skip
        bound = next(iter(ctx.values()), "")
        size = "small" if kind.startswith("greater") else "big"
        return f"Too {size}: expected number to be {op}{bound}"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    return message


def issues_from(error: ValidationError, *, prefix: Sequence[str | int] = ()) -> list[Issue]:
    """Turn a pydantic error into issues with wire paths and zod-like messages."""
    issues: list[Issue] = []
    seen: set[tuple[tuple[str | int, ...], str]] = set()
    for detail in error.errors(include_url=False):
        loc = [part for part in detail["loc"] if not (isinstance(part, str) and _TAG.match(part))]
        message = _message(detail)
        if loc and loc[-1] in _SCALAR_TAGS and detail["type"] in _EXPECTED:
            # `int | float | None` reports once per member; say it once, as zod does.
            loc.pop()
            message = f"Invalid input: expected number, received {_js_type(detail.get('input'))}"
        path = (*prefix, *loc)
        if (path, message) not in seen:
            seen.add((path, message))
            issues.append(Issue(path=path, message=message))
    return issues


def format_issues(issues: Sequence[Issue]) -> str:
    lines: list[str] = []
    for issue in issues:
        lines.append(f"✖ {issue.message}")
        if issue.path:
            lines.append(f"  → at {issue.dotted_path}")
    return "\n".join(lines)


class CapacitiesValidationError(ValueError):
    """Input rejected before any request was sent; names each field and the rule it broke."""

    code = "cap_invalid_input"

    def __init__(self, issues: Sequence[Issue], *, what: str = "request") -> None:
        self.issues = list(issues)
        self.what = what
        super().__init__(f"Invalid {what}:\n{format_issues(self.issues)}")

    @classmethod
    def from_pydantic(
        cls, error: ValidationError, *, what: str = "request"
    ) -> CapacitiesValidationError:
        return cls(issues_from(error), what=what)
