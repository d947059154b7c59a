"""Start-up imports only what the chosen path needs (issue 8, "Start-up").

An MCP host launches the server for every session and waits for `tools/list`, so a heavy module on
that path is paid again and again. These tests start the real command over stdio, answer
`initialize` and `tools/list` through a real `mcp.Client`, and read which modules the process had
loaded by then, and again after a first tool call: a finder placed first on `sys.meta_path` writes
down every module name the interpreter looks for (`-X importtime` and the `import` audit event both
miss modules loaded with `importlib.import_module`, as our lazy package attributes do). No timing:
a module either is on the path or is not, so the guard does not depend on the machine.

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

# Loaded once the handshake is over or on the first call, never before tools/list is answered:
# the client, its connection pool and the API models, the tool modules (tools/list comes from
# published.json), the prompts' YAML parser, the mirror (and its cache directory), and the
# embedded sandbox with its ASGI stack and Markdown parser.
NOT_BEFORE_TOOLS_ARE_LISTED = (
    "capacities_mcp.api.models",
    "capacities_mcp.api._client",
    "capacities_mcp.server._state",
    "capacities_mcp.server.tools._specs",
    "capacities_mcp.server.tools._catalog",
    "capacities_mcp.server.tools.objects_read",
    "capacities_mcp.server._prompts",
    "yaml",
    "capacities_mcp.mirror",
    "platformdirs",
    "filelock",
    "httpcore2",
    "h11",
    "trio",
    "uvicorn",
    "starlette",
    "capacities_mcp.sandbox",
    "markdown_it",
)
# Never loaded on the way to a space, not even by tool calls: the sandbox and its Markdown parser,
# the OS keyring, the sign-in flow, and the multi-user mode (its State backend, token encryption
# and OAuth server).
NEVER_ON_THE_PATH_TO_A_SPACE = (
    "markdown_it",
    "mdit_py_plugins",
    "keyring",
    "capacities_mcp.sandbox",
    "capacities_mcp.auth",
    "capacities_mcp.server._demo",
    "capacities_mcp.remote",
    "redis",
    "cryptography",
)
# The embedded sandbox needs its ASGI stack, Markdown parser and store, nothing of the sign-in flow.
NEVER_ON_THE_PATH_TO_THE_SANDBOX = (
    "keyring",
    "capacities_mcp.auth",
    "capacities_mcp.server._demo",
    "capacities_mcp.remote",
    "redis",
    "cryptography",
)


TOOLS_LISTED = "--tools-listed--"  # the line _RECORDER writes

# Runs the given module (or code) with a finder that logs each module name looked up, line by
# line, so the log is complete up to any moment the process is observed. For the server, the
# moment it answers tools/list is marked in the log by the server itself (the runtime starts
# opening 50 ms later, long before a loaded machine lets the test read the log), and only
# tools/list (or a call) opens the runtime, however long the client takes to send it.
_RECORDER = """
import sys

class ImportRecorder:
    def __init__(self, path):
        self.log = open(path, "a", buffering=1, encoding="utf-8")

    def find_spec(self, name, path=None, target=None):
        self.log.write(name + "\\n")
        return None

recorder = ImportRecorder(sys.argv[1])
sys.meta_path.insert(0, recorder)
if sys.argv[2] == "-m":
    import runpy
    from capacities_mcp.server import _app  # on the path anyway: its imports are recorded

    # The runtime also opens when tools/list has not come within the grace period (2 s after
    # start): a test process slowed down that long would see the open's imports before the mark.
    _app.HANDSHAKE_GRACE = 3600.0
    tools_listed = _app._Runtime.tools_listed

    def marked(runtime):
        recorder.log.write("--tools-listed--\\n")
        tools_listed(runtime)

    _app._Runtime.tools_listed = marked
    sys.argv = [sys.argv[3], *sys.argv[4:]]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    exec(sys.argv[2])
"""


def _recorded(log: Path, *, until_tools_listed: bool = False) -> set[str]:
    names = log.read_text(encoding="utf-8").split()
    if until_tools_listed:
        assert TOOLS_LISTED in names, "the server did not mark the answer to tools/list"
        names = names[: names.index(TOOLS_LISTED)]
    return set(names) - {TOOLS_LISTED}


def _floor(log: Path) -> set[str]:
    """What the bare MCP SDK imports: no server can start with less."""
    code = "from mcp.server.mcpserver import MCPServer"
    subprocess.run([sys.executable, "-c", _RECORDER, str(log), code], timeout=120, check=True)
    return _recorded(log)


async def _imports(args: list[str], env: dict[str, str], log: Path) -> tuple[set[str], set[str]]:
    """Start `capacities-mcp ARGS` on stdio; what it had imported once it listed its tools, and
    once it had also answered a first tool call."""
    params = StdioServerParameters(
        command=sys.executable, args=["-c", _RECORDER, str(log), "-m", "capacities_mcp", *args], env=env
    )
    with open(os.devnull, "w") as quiet:
        async with Client(stdio_client(params, errlog=quiet)) as client:
            tools = await client.list_tools()
            assert tools.tools, "the server listed no tools"
            listed = _recorded(log, until_tools_listed=True)
            await client.call_tool("get_space", {})
            return listed, _recorded(log)


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
    listed, called = await _imports([], env, tmp_path / "imports.log")
    assert "capacities_mcp.server._app" in listed, "the import log did not cover the server"
    assert _on_the_path(listed, floor, NOT_BEFORE_TOOLS_ARE_LISTED) == []
    assert "capacities_mcp.server.tools.space" in called, "the tool call did not run"
    assert _on_the_path(called, floor, NEVER_ON_THE_PATH_TO_A_SPACE) == []


async def test_the_embedded_sandbox_starts_without_sign_in_or_client_connection_pool(
    tmp_path: Path, floor: set[str]
) -> None:
    listed, called = await _imports(["--sandbox"], _env(tmp_path), tmp_path / "imports.log")
    assert _on_the_path(listed, floor, NOT_BEFORE_TOOLS_ARE_LISTED) == []
    assert "capacities_mcp.sandbox._server" in called, "the sandbox did not start"
    assert _on_the_path(called, floor, NEVER_ON_THE_PATH_TO_THE_SANDBOX) == []


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
