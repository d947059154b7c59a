"""The one `capacities-mcp` command.

    capacities-mcp [serve] [options]   the MCP server (stdio by default)
    capacities-mcp demo                the server on the sandbox, driven by a real MCP client
    capacities-mcp sandbox [options]   a local Capacities-compatible API with a demo space
    capacities-mcp auth login|status|logout
    capacities-mcp mirror status|sync|clear

Each area owns its options and its run function (`<area>/_cli.py`, with `add_arguments(parser)`
and `run(args) -> int`); this module only routes. Nothing here writes to stdout, because in stdio
mode stdout belongs to the MCP protocol.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__

# command -> (module with add_arguments/run, help)
_COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("capacities_mcp.server._cli", "run the MCP server (default)"),
    "demo": ("capacities_mcp.server._demo", "show the server at work on the sandbox"),
    "sandbox": ("capacities_mcp.sandbox._cli", "run a local Capacities-compatible API"),
    "auth": ("capacities_mcp.auth._cli", "sign in, show or remove stored credentials"),
    "mirror": ("capacities_mcp.server._mirror_cli", "the local mirror: status, sync or clear"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or, given `command`, one that knows only that one's options.

    Each command's options live in its own module; importing only the chosen one keeps the
    other areas off the start-up path of `serve`, which an MCP host pays for on every launch.
    """
    parser = argparse.ArgumentParser(
        prog="capacities-mcp",
        description="MCP server for Capacities (runs on a local sandbox when no credentials are set).",
    )
    parser.add_argument("--version", action="version", version=f"capacities-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in _COMMANDS.items():
        area = sub.add_parser(name, help=help_text, description=help_text)
        if command is None or command == name:
            importlib.import_module(module_name).add_arguments(area)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # No command (or only options) means `serve`, the way MCP hosts start us.
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, "serve")
    chosen = args_list[0] if args_list[0] in _COMMANDS else None
    args = build_parser(chosen).parse_args(args_list)
    module_name = _COMMANDS[args.command][0]
    if args.command == "serve" and getattr(args, "multi_user", False):
        module_name = "capacities_mcp.remote._cli"  # same options; each user signs in (OAuth)
    return int(importlib.import_module(module_name).run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
