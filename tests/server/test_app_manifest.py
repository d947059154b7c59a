"""`manifest.json`, the MCP bundle (.mcpb) manifest: valid for spec 0.4 and true to the server.

The structural rules are the ones the mcpb 0.4 schema enforces (required keys, no unknown keys,
the `uv` server type, user_config entries with type/title/description); the tool list must equal
what the server registers, so the bundle never advertises a tool that does not exist.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from capacities_mcp import __version__
from capacities_mcp.server.tools import TOOLSETS
from tests.helpers_node import ensure_node_packages

from .helpers_process import REPO_ROOT

MANIFEST = json.loads((REPO_ROOT / "manifest.json").read_text())
TOP_LEVEL = {
    "$schema",
    "manifest_version",
    "name",
    "display_name",
    "version",
    "description",
    "long_description",
    "author",
    "repository",
    "homepage",
    "documentation",
    "support",
    "icon",
    "icons",
    "screenshots",
    "localization",
    "server",
    "tools",
    "tools_generated",
    "prompts",
    "prompts_generated",
    "keywords",
    "license",
    "privacy_policies",
    "compatibility",
    "user_config",
    "_meta",
}


def test_required_and_known_keys() -> None:
    assert MANIFEST["manifest_version"] == "0.4"
    for key in ("name", "version", "description", "author", "server"):
        assert MANIFEST.get(key), key
    assert set(MANIFEST) <= TOP_LEVEL, set(MANIFEST) - TOP_LEVEL
    assert set(MANIFEST["author"]) <= {"name", "email", "url"} and MANIFEST["author"]["name"]
    assert MANIFEST["version"] == __version__


def test_uv_server_entry() -> None:
    server = MANIFEST["server"]
    assert server["type"] == "uv"
    assert set(server) <= {"type", "entry_point", "mcp_config"}
    assert (REPO_ROOT / server["entry_point"]).is_file()
    config = server["mcp_config"]
    assert set(config) <= {"command", "args", "env", "platform_overrides"}
    assert config["command"] == "uv" and "${__dirname}" in config["args"]
    assert all(isinstance(v, str) for v in config["env"].values())


def test_user_config_and_env_mapping() -> None:
    options = MANIFEST["user_config"]
    for key, option in options.items():
        assert {"type", "title", "description"} <= set(option), key
        assert set(option) <= {
            "type",
            "title",
            "description",
            "required",
            "default",
            "multiple",
            "sensitive",
            "min",
            "max",
        }
        assert option["type"] in ("string", "number", "boolean", "directory", "file")
    assert options["api_token"]["sensitive"] is True
    env = MANIFEST["server"]["mcp_config"]["env"]
    assert env["CAPACITIES_API_TOKEN"] == "${user_config.api_token}"
    used = {m for v in env.values() for m in re.findall(r"\$\{user_config\.(\w+)\}", v)}
    assert used == set(options)  # every option reaches the server, and only declared ones are used


def test_tools_match_the_server() -> None:
    listed = [tool["name"] for tool in MANIFEST["tools"]]
    assert len(listed) == len(set(listed))
    assert set(listed) == {name for names in TOOLSETS.values() for name in names}
    for tool in MANIFEST["tools"]:
        assert set(tool) <= {"name", "description"} and tool.get("description")


def test_official_validator_accepts_the_manifest() -> None:
    """`mcpb validate`, the official bundle CLI (installed by the suite on first use)."""
    folder = Path(__file__).resolve().parent / "node"
    ensure_node_packages(folder, {"@anthropic-ai/mcpb": "2.1.2"})
    mcpb = folder / "node_modules" / ".bin" / "mcpb"
    result = subprocess.run(
        [str(mcpb), "validate", str(REPO_ROOT / "manifest.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validation passes" in result.stdout
