"""The `CAPACITIES_*` environment variable names live in one module, and the help text lists them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import capacities_mcp
from capacities_mcp import _environment
from capacities_mcp.cli import build_parser

PACKAGE = Path(capacities_mcp.__file__).resolve().parent
PREFIX = "CAPACITIES_"


def _literals_naming_a_variable(source: str) -> list[int]:
    """Lines of string literals (f-string parts too) that start with a variable name."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(PREFIX)
    )


def test_variable_names_are_spelled_only_in_the_environment_module() -> None:
    spelled_elsewhere = {
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in PACKAGE.rglob("*.py")
        if path.name != "_environment.py"
        for line in _literals_naming_a_variable(path.read_text(encoding="utf-8"))
    }
    assert not spelled_elsewhere, "use the names from capacities_mcp._environment"


def test_the_scan_sees_names_spelled_in_f_strings() -> None:
    """Guards the guard: a literal hidden in an f-string must be found too."""
    assert _literals_naming_a_variable('x = f"CAPACITIES_API_URL={url}"\ny = "CAPACITIES_X"') == [1, 2]


def test_every_name_is_unique_and_prefixed() -> None:
    names = [getattr(_environment, attr) for attr in _environment.__all__ if attr.startswith("ENV_")]
    assert len(set(names)) == len(names)
    assert all(name.startswith(PREFIX) for name in names)


def test_serve_help_lists_every_variable_the_server_reads(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    help_text = capsys.readouterr().out
    for name, meaning in _environment.DESCRIPTIONS.items():
        assert f"{name}  " in help_text and meaning in help_text
