"""`Issue`, the one vocabulary for input problems: zod's path, a plain field name, and back."""

from __future__ import annotations

import pytest

from capacities_mcp.api import Issue, format_issues


@pytest.mark.parametrize(
    ("field", "path", "dotted"),
    [
        ("properties.Status", ("properties", "Status"), "properties.Status"),
        ("blocks[2].type", ("blocks", 2, "type"), "blocks[2].type"),
        ("markdown|blocks", ("markdown|blocks",), '["markdown|blocks"]'),
        ("(arguments)", ("(arguments)",), '["(arguments)"]'),
        ("properties.Due date", ("properties", "Due date"), 'properties["Due date"]'),
    ],
)
def test_a_field_name_round_trips(field: str, path: tuple[str | int, ...], dotted: str) -> None:
    issue = Issue.at(field, "required")
    assert issue.path == path
    assert issue.field == field
    assert issue.dotted_path == dotted  # zod's spelling, as in the API's own 400 messages


def test_the_whole_input_has_a_name_too() -> None:
    issue = Issue.at("", "expected object")
    assert (issue.path, issue.field, issue.dotted_path) == ((), "(input)", "")
    assert format_issues([issue]) == "✖ expected object"


def test_format_names_the_field_and_the_rule() -> None:
    issue = Issue.at("blocks[0].type", "Invalid input", hint="expected one of TextBlock, CodeBlock")
    assert format_issues([issue], hints=True) == (
        "✖ Invalid input (expected one of TextBlock, CodeBlock)\n  → at blocks[0].type"
    )


def test_plain_wording_and_list_form_for_tool_arguments() -> None:
    """Tool arguments are worded as pydantic words them and listed one `- field: rule` a line."""
    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    from capacities_mcp.api import format_issues, issues_from

    class Arguments(BaseModel):
        model_config = ConfigDict(extra="forbid")
        id: str
        limit: int = Field(default=1, ge=1)

    try:
        Arguments.model_validate({"limit": 0, "tags": ["x"]})
    except ValidationError as exc:
        issues = issues_from(exc, plain=True)
    assert [(i.field, i.message) for i in issues] == [
        ("id", "required, missing"),
        ("limit", "Input should be greater than or equal to 1 (got 0)"),
        ("tags", "unknown field"),
    ]
    assert format_issues(issues, as_list=True) == (
        "- id: required, missing\n"
        "- limit: Input should be greater than or equal to 1 (got 0)\n"
        "- tags: unknown field"
    )
