"""Start-up imports only what the chosen path needs (issue 8, "Start-up").

An MCP host launches the server for every session and waits for `tools/list`, so a heavy module
on that path is paid again and again. These tests start the real command over stdio, answer
`initialize` and `tools/list` through a real `mcp.Client`, and read which modules the process
had loaded by then: a finder placed first on `sys.meta_path` writes down every module name the
interpreter looks for (`-X importtime` and the `import` audit event both miss modules loaded with
`importlib.import_module`, as our lazy package attributes do). No timing: a module either is on
the path or is not, so the guard does not depend on the machine.

Compared against the floor, the modules `from mcp.server.mcpserver import MCPServer` loads by
itself (the SDK brings Starlette and uvicorn along, whatever we do).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from capacities_mcp._environment import ENV_API_TOKEN, ENV_API_URL, ENV_TOKEN_STORE

# Loaded only when something needs them: the sandbox's Markdown parser, the OS keyring, the
# sign-in flow and its token store, and httpx2's connection pool (built on the first request).
NEVER_ON_THE_PATH_TO_A_SPACE = (
    "markdown_it",
    "mdit_py_plugins",
    "keyring",
    "platformdirs",
    "filelock",
    "httpcore2",
    "h11",
    "trio",
    "uvicorn",
    "starlette",
    "capacities_mcp.sandbox",
    "capacities_mcp.auth",
    "capacities_mcp.server._demo",
    # The multi-user mode: its State backend, token encryption and OAuth server.
    "capacities_mcp.remote",
    "redis",
    "cryptography",
)
# The embedded sandbox needs its ASGI stack, Markdown parser and store (whose data-file lock is
# filelock), nothing of the sign-in flow.
NEVER_ON_THE_PATH_TO_THE_SANDBOX = (
    "keyring",
    "platformdirs",
    "httpcore2",
    "trio",
    "capacities_mcp.auth",
    "capacities_mcp.server._demo",
    "capacities_mcp.remote",
    "redis",
    "cryptography",
)


# Runs the given module (or code) with a finder that logs each module name looked up, line by
# line, so the log is complete up to any moment the process is observed.
_RECORDER = """
import sys

class ImportRecorder:
    def __init__(self, path):
        self.log = open(path, "a", buffering=1, encoding="utf-8")

    def find_spec(self, name, path=None, target=None):
        self.log.write(name + "\\n")
        return None

sys.meta_path.insert(0, ImportRecorder(sys.argv[1]))
if sys.argv[2] == "-m":
    import runpy
    sys.argv = [sys.argv[3], *sys.argv[4:]]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    exec(sys.argv[2])
"""


def _recorded(log: Path) -> set[str]:
    return set(log.read_text(encoding="utf-8").split())


def _floor(log: Path) -> set[str]:
    """What the bare MCP SDK imports: no server can start with less."""
    code = "from mcp.server.mcpserver import MCPServer"
    subprocess.run([sys.executable, "-c", _RECORDER, str(log), code], timeout=120, check=True)
    return _recorded(log)


async def _imports_until_tools_listed(args: list[str], env: dict[str, str], log: Path) -> set[str]:
    """Start `capacities-mcp ARGS` on stdio, list its tools, return what it had imported by then."""
    params = StdioServerParameters(
        command=sys.executable, args=["-c", _RECORDER, str(log), "-m", "capacities_mcp", *args], env=env
    )
    with open(os.devnull, "w") as quiet:
        async with Client(stdio_client(params, errlog=quiet)) as client:
            tools = await client.list_tools()
            assert tools.tools, "the server listed no tools"
            return _recorded(log)


def _on_the_path(imported: set[str], floor: set[str], banned: tuple[str, ...]) -> list[str]:
    extra = imported - floor
    return sorted(name for name in extra if any(name == b or name.startswith(b + ".") for b in banned))


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    return _floor(tmp_path_factory.mktemp("floor") / "imports.log")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # An empty token store: whatever is signed in on this machine cannot change the path taken.
    return {ENV_TOKEN_STORE: str(tmp_path / "credentials.json"), **extra}


async def test_a_space_by_url_starts_without_sandbox_sign_in_or_connection_pool(
    tmp_path: Path, floor: set[str]
) -> None:
    # Nothing listens on port 9: the server must not need the API to answer tools/list.
    env = _env(tmp_path, **{ENV_API_URL: "http://127.0.0.1:9", ENV_API_TOKEN: "cap-api-startup-test"})
    imported = await _imports_until_tools_listed([], env, tmp_path / "imports.log")
    assert "capacities_mcp.server._app" in imported, "the import log did not cover the server"
    assert _on_the_path(imported, floor, NEVER_ON_THE_PATH_TO_A_SPACE) == []


async def test_the_embedded_sandbox_starts_without_sign_in_or_client_connection_pool(
    tmp_path: Path, floor: set[str]
) -> None:
    imported = await _imports_until_tools_listed(["--sandbox"], _env(tmp_path), tmp_path / "imports.log")
    assert "capacities_mcp.sandbox._server" in imported, "the sandbox did not start"
    assert _on_the_path(imported, floor, NEVER_ON_THE_PATH_TO_THE_SANDBOX) == []


def test_the_recorder_sees_modules_loaded_by_name(tmp_path: Path) -> None:
    """Guards the guard: a module loaded with `importlib.import_module` is in the log too."""
    log = tmp_path / "imports.log"
    code = "import importlib; importlib.import_module('capacities_mcp.server._logging')"
    subprocess.run([sys.executable, "-c", _RECORDER, str(log), code], timeout=120, check=True)
    recorded = _recorded(log)
    assert {"capacities_mcp.server._logging", "capacities_mcp.server"} <= recorded
    assert _on_the_path(recorded, set(), ("capacities_mcp.server",)) == [
        "capacities_mcp.server",
        "capacities_mcp.server._logging",
    ]
