"""Validation errors in the official API's words.

The official server validates with zod and answers 400 with a "prettified" message: one
`✖ <problem>` line per issue, followed by `  → at <path>`. Our client (before sending) and our
sandbox (on receipt) validate with the same pydantic models and describe failures the same way,
so a model reading the error sees one familiar form whichever side caught it.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from . import models as _models
from ._errors import CapacitiesError

__all__ = ["CapacitiesValidationError", "Issue", "format_issues", "issues_from"]

_TAG = re.compile(r"^<.*>$")
_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_SCALAR_TAGS = {"int", "float", "str", "bool", "none"}
_PLAIN = re.compile(r'^[^.\[\]"]+$')  # a name `field` writes bare (spaces too: "Due date")
_FIELD_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class Issue:
    """One problem: where (`path`, wire names) and what (`message`).

    The one vocabulary for input problems, whoever finds them (client, sandbox, MCP tools):
    `dotted_path` is zod's spelling (`blocks[0]["my-key"]`), `field` a plainer one for tool
    arguments, and `Issue.at` builds an issue from such a field name.
    """

    path: tuple[str | int, ...]
    message: str
    hint: str | None = None  # beyond zod's words: what would have been accepted

    @classmethod
    def at(cls, field: str, message: str, *, hint: str | None = None) -> Issue:
        """An issue at a field given in dotted form: `properties.Status`, `blocks[2].type`.

        A name that is not a path (`markdown|blocks`, `(arguments)`) stays one segment.
        """
        path: list[str | int] = []
        for name, index in _FIELD_PART.findall(field):
            path.append(int(index) if index else name)
        if not path and field:
            path.append(field)
        return cls(tuple(path), message, hint)

    @property
    def field(self) -> str:
        """The path for people: `properties.Status`, `blocks[2].type`; `(input)` for the whole."""
        out = ""
        for part in self.path:
            if isinstance(part, int):
                out += f"[{part}]"
            elif _PLAIN.match(part):
                out += f".{part}" if out else part
            else:
                out += f"[{json.dumps(part, ensure_ascii=False)}]"
        return out or "(input)"

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
    "string_type": "string",
    "int_type": "number",
    "int_parsing": "number",
    "float_type": "number",
    "float_parsing": "number",
    "bool_type": "boolean",
    "bool_parsing": "boolean",
    "list_type": "array",
    "dict_type": "object",
    "model_type": "object",
    "model_attributes_type": "object",
}


def _unwrap(annotation: Any) -> Any:
    """Strip `Annotated[...]` and `X | None` down to the type that matters."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _member_named(annotation: Any, tag: str) -> Any:
    """The union member whose `type` discriminator is `tag` (tags are written `<Name>`)."""
    for member in typing.get_args(annotation):
        member = _unwrap(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            field = member.model_fields.get("type")
            if field is not None and f"<{field.default}>" == tag:
                return member
    return None


def _field_type(model: type[BaseModel], name: str | int) -> Any:
    for field_name, field in model.model_fields.items():
        if name in (field_name, field.alias):
            return field.annotation
    return None


def _js_name(annotation: Any) -> str | None:
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation) or annotation
    if origin is str:
        return "string"
    if origin is bool:
        return "boolean"
    if origin in (int, float):
        return "number"
    if origin in (list, tuple):
        return "array"
    if origin is dict or (isinstance(origin, type) and issubclass(origin, BaseModel)):
        return "object"
    if origin is Literal:
        return "string" if all(isinstance(v, str) for v in typing.get_args(annotation)) else None
    if origin in (Union, types.UnionType):
        names = {_js_name(member) for member in typing.get_args(annotation)}
        names.discard(None)
        if len(names) == 1:
            return names.pop()
        return "object" if "object" in names else None
    return None


def _expected_at(model: Any, loc: Sequence[str | int]) -> str | None:
    """The JSON type expected at `loc` of `model`, the way zod names it in "expected X"."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, str) and _TAG.match(part):
            annotation = _member_named(annotation, part)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            annotation = _field_type(annotation, part)
        elif typing.get_origin(annotation) in (list, tuple):
            annotation = typing.get_args(annotation)[0]
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return None
        if annotation is None:
            return None
    return _js_name(annotation)


def _message(error: ErrorDetails, model: Any) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    received = _js_type(error.get("input"))
    if kind == "missing":
        expected = _expected_at(model, error["loc"]) if model is not None else None
        return f"Invalid input: expected {expected or 'a value'}, received undefined"
    if kind == "int_from_float":
        return "Invalid input: expected int, received number"
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
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[
            kind
        ]
        bound = next(iter(ctx.values()), "")
        size = "small" if kind.startswith("greater") else "big"
        return f"Too {size}: expected number to be {op}{bound}"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


def issues_from(
    error: ValidationError, *, prefix: Sequence[str | int] = (), model: Any = None, plain: bool = False
) -> list[Issue]:
    """Turn a pydantic error into issues with wire paths and zod's messages.

    `model` (by default the API model the error's title names) lets a missing field say which
    type was expected, as zod does. `plain`: pydantic's own rules instead ("required, missing",
    "Input should be ... (got 'x')"), for tool arguments, whose readers never saw zod.
    """
    if plain:
        return [_plain_issue(detail, prefix) for detail in error.errors(include_url=False)]
    if model is None:
        model = getattr(_models, error.title, None)
    issues: list[Issue] = []
    seen: set[tuple[tuple[str | int, ...], str]] = set()
    for detail in error.errors(include_url=False):
        loc = [part for part in detail["loc"] if not (isinstance(part, str) and _TAG.match(part))]
        message = _message(detail, model)
        hint = None
        if detail["type"] == "invalid_union_discriminator":
            # zod: a discriminated union with an unknown tag is "Invalid input" at `<path>.type`.
            hint, message = message.removeprefix("Invalid input: "), "Invalid input"
            loc.append("type")
        if loc and loc[-1] in _SCALAR_TAGS and detail["type"] in _EXPECTED:
            # `int | float | None` reports once per member; say it once, as zod does.
            loc.pop()
            message = f"Invalid input: expected number, received {_js_type(detail.get('input'))}"
        path = (*prefix, *loc)
        if (path, message) not in seen:
            seen.add((path, message))
            issues.append(Issue(path=path, message=message, hint=hint))
    return issues


_PLAIN_WORDS = {"missing": "required, missing", "extra_forbidden": "unknown field"}
_SAYS_ITS_INPUT = ("missing", "extra_forbidden", "value_error", "assertion_error")


def _plain_issue(detail: ErrorDetails, prefix: Sequence[str | int]) -> Issue:
    loc = tuple(part for part in detail["loc"] if not (isinstance(part, str) and part.startswith("<")))
    kind = detail["type"]
    message = _PLAIN_WORDS.get(kind, detail["msg"])
    for lead in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(lead)
    if kind not in _SAYS_ITS_INPUT and "input" in detail:
        shown = repr(detail["input"])
        message += f" (got {shown[:60] + '…' if len(shown) > 60 else shown})"
    return Issue((*prefix, *loc) or ("(arguments)",), message)


def format_issues(issues: Sequence[Issue], *, hints: bool = False, as_list: bool = False) -> str:
    """zod's "prettified" form; with `hints`, also what would have been accepted. `as_list`: one
    `- field: rule` line each, the compact form tool errors use."""
    if as_list:
        return "\n".join(f"- {issue.field}: {issue.message}" for issue in issues)
    lines: list[str] = []
    for issue in issues:
        hint = f" ({issue.hint})" if hints and issue.hint else ""
        lines.append(f"✖ {issue.message}{hint}")
        if issue.path:
            lines.append(f"  → at {issue.dotted_path}")
    return "\n".join(lines)


class CapacitiesValidationError(CapacitiesError, ValueError):
    """Input rejected before any request was sent; names each field and the rule it broke.

    Part of the `CapacitiesError` family (nothing was sent, so `maybe_applied` stays false) and
    still a `ValueError`, as before.
    """

    code = "cap_invalid_input"

    def __init__(self, issues: Sequence[Issue], *, what: str = "request") -> None:
        self.issues = list(issues)
        self.what = what
        super().__init__(f"Invalid {what}:\n{format_issues(self.issues, hints=True)}")

    @classmethod
    def from_pydantic(cls, error: ValidationError, *, what: str = "request") -> CapacitiesValidationError:
        return cls(issues_from(error), what=what)
