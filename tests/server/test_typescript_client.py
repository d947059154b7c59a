"""A second, independent MCP client: the official Inspector CLI, built on the TypeScript SDK.

Our other tests use the Python SDK on both ends, so they cannot catch what only another
implementation checks. This one did: TypeScript clients validate an error result's structured
content against the tool's output schema, and rejected our tool errors until the schemas
admitted them. The Inspector (and mcpb) are installed by the suite itself on first use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from capacities_mcp.server.tools import ALL_TOOLS, READ_ONLY_TOOLS
from tests.helpers_node import ensure_node_packages

NODE_DIR = Path(__file__).resolve().parent / "node"
INSPECTOR = "@modelcontextprotocol/inspector"
MISSING_ID = "7d2e7f8a-4c3b-4e1d-9f0a-123456789abc"


@pytest.fixture(scope="module")
def inspector() -> list[str]:
    node = ensure_node_packages(NODE_DIR, {INSPECTOR: "2.12.0"})
    package = NODE_DIR / "node_modules" / INSPECTOR
    bin_entry = json.loads((package / "package.json").read_text())["bin"]["mcp-inspector"]
    return [node, str(package / bin_entry)]


def run(
    inspector: list[str], home: Path, *args: str, server_args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """One Inspector call against `capacities-mcp --sandbox`, started by it over stdio."""
    server = [sys.executable, "-m", "capacities_mcp", "--sandbox", *server_args]
    command = [*inspector, "--cli", "-q", *server, *args]
    # The TypeScript stdio transport passes on only HOME, PATH and a few more: a private HOME
    # keeps both the Inspector's files and any stored credentials out of the way.
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "npm_config_update_notifier": "false"}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("server_args", "count"),
    [
        ((), len(ALL_TOOLS)),
        (("--structured-output",), len(ALL_TOOLS)),
        (("--read-only",), len(READ_ONLY_TOOLS)),
    ],
)
def test_tool_schemas_pass_the_strict_portability_check(
    inspector: list[str], tmp_path: Path, server_args: tuple[str, ...], count: int
) -> None:
    result = run(inspector, tmp_path, "--method", "tools/list", "--strict", server_args=server_args)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
    assert len(_json(result)["tools"]) == count


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_results_and_errors_reach_a_typescript_client(inspector: list[str], tmp_path: Path, era: str) -> None:
    found = run(
        inspector,
        tmp_path,
        "--protocol-era",
        era,
        "--method",
        "tools/call",
        "--tool-name",
        "search_objects",
        "--tool-arg",
        "query=Meeting",
        "--format",
        "json",
    )
    assert found.returncode == 0, found.stderr
    result = _json(found)["result"]
    assert not result["isError"]
    assert "structuredContent" not in result  # structured output is opt-in: the model reads the text
    assert result["content"][0]["text"].splitlines()[1].startswith("- Meeting notes")

    missing = run(
        inspector,
        tmp_path,
        "--protocol-era",
        era,
        "--method",
        "tools/call",
        "--tool-name",
        "get_object",
        "--tool-arg",
        f"id={MISSING_ID}",
        "--format",
        "json",
    )
    # Exit 5 is the Inspector's "the tool returned isError"; a schema rejection would be exit 1.
    assert missing.returncode == 5, missing.stdout + missing.stderr
    result = _json(missing)["result"]
    assert result["isError"]
    assert result["structuredContent"]["error"]["code"] == "cap_not_found"
    assert "search_objects" in result["structuredContent"]["error"]["next_step"]
    assert "search_objects" in result["content"][0]["text"]
