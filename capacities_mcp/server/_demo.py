"""`capacities-mcp demo`: watch the server at work, end to end, in a few seconds.

What runs is exactly what a real MCP host runs: the demo starts the local sandbox (a
Capacities-compatible API with a seeded space) in this process, launches `capacities-mcp serve`
as a subprocess pointed at it through `CAPACITIES_API_URL`/`CAPACITIES_API_TOKEN` (the way Claude
Desktop passes `env`), connects the official MCP `Client` over stdio, and walks through the calls
an agent would make: get_space → search_objects → get_object → append_blocks → get_object. It
prints each call and the text the model would read, trimmed.

Light to import: the SDK and the sandbox are imported inside `run`.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from typing import TYPE_CHECKING, Any

from capacities_mcp._environment import ENV_API_TOKEN, ENV_API_URL

if TYPE_CHECKING:
    from mcp import Client

__all__ = ["add_arguments", "run"]

_RULE = "-" * 72
# A page of the seeded demo space (sandbox/_seed.py): meeting notes worth a follow-up.
DEFAULT_QUERY = "Meeting notes: Q3"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lines",
        type=int,
        default=14,
        metavar="N",
        help="show at most N lines of each result (default 14; 0 = everything)",
    )
    parser.add_argument(
        "--query", default=None, help="what to search for (default: a title from the demo space)"
    )
    parser.add_argument("--server-log", action="store_true", help="show the server's stderr log")


def _trim(text: str, max_lines: int, *, tail: bool = False, width: int = 110) -> str:
    """A result as a reader would skim it: first (or last) lines, long lines cut, the rest counted."""
    lines = text.rstrip("\n").splitlines() or [""]
    if max_lines <= 0 or len(lines) <= max_lines:
        shown, hidden = lines, 0
    else:
        shown = lines[-max_lines:] if tail else lines[:max_lines]
        hidden = len(lines) - max_lines
    out = [line if len(line) <= width else line[: width - 3] + "..." for line in shown]
    if hidden:
        note = f"... ({hidden} {'earlier' if tail else 'more'} lines)"
        out = [note, *out] if tail else [*out, note]
    return "\n".join("    " + line for line in out)


def _result_text(result: Any) -> str:
    parts = [
        getattr(block, "text", None) or f"[{getattr(block, 'type', '?')} content]" for block in result.content
    ]
    return "\n".join(parts)


async def _call(
    client: Client, name: str, arguments: dict[str, Any], max_lines: int, *, tail: bool = False
) -> Any:
    shown_args = {
        k: (v if not isinstance(v, str) or len(v) <= 60 else v[:57] + "...") for k, v in arguments.items()
    }
    print(f"\n> {name}({', '.join(f'{k}={v!r}' for k, v in shown_args.items())})")
    started = time.perf_counter()
    result = await client.call_tool(name, arguments)
    elapsed = (time.perf_counter() - started) * 1000
    status = "ERROR" if result.is_error else "ok"
    text = _result_text(result)
    where = " (its end)" if tail else ""
    print(f"  [{status}, {elapsed:.0f} ms, {len(text)} chars] the model reads{where}:")
    print(_trim(text, max_lines, tail=tail))
    if result.is_error:
        raise RuntimeError(f"{name} failed: {text}")
    return result


def _first_hit(result: Any) -> tuple[str, str]:
    """(id, title) of the first search hit, read off the text as the model reads it."""
    import re

    found = re.search(r"^- (.*) — .* `([0-9a-f-]{36})`$", _result_text(result), re.MULTILINE)
    if found is None:
        raise RuntimeError("the search found nothing to open")
    return found.group(2), found.group(1)


async def _demo(args: argparse.Namespace) -> int:
    import tempfile

    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    from capacities_mcp.sandbox import SandboxConfig, SandboxServer

    max_lines: int = args.lines
    started = time.perf_counter()
    # The server's stderr is kept aside (shown with --server-log, or when something fails).
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as captured,
        SandboxServer(SandboxConfig(host="127.0.0.1", port=0)) as sandbox,
    ):
        print("capacities-mcp demo")
        print(_RULE)
        print(f"sandbox : a Capacities-compatible API with a demo space at {sandbox.base_url}")
        print("server  : 'capacities-mcp serve' as a subprocess on stdio, told where the API is by")
        print("          CAPACITIES_API_URL and CAPACITIES_API_TOKEN, as an MCP host would")
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "capacities_mcp", "serve", "--log-level", "DEBUG" if args.server_log else "WARNING"],
            env={
                ENV_API_URL: sandbox.base_url,
                ENV_API_TOKEN: sandbox.api_token,
                "PYTHONPATH": _package_parent(),  # the subprocess runs this very code
            },
        )
        errlog = sys.stderr if args.server_log else captured
        try:
            async with Client(stdio_client(params, errlog=errlog)) as client:
                info = client.server_info
                server = f"{info.name} {info.version}" if info is not None else "?"
                print(f"client  : mcp.Client, protocol {client.protocol_version}, server {server}")
                names = [tool.name for tool in (await client.list_tools()).tools]
                wrapped = textwrap.wrap(", ".join(names), width=88)
                print("tools   : " + "\n          ".join(wrapped))
                print(_RULE)
                title = await _walk_through(client, args.query or DEFAULT_QUERY, max_lines)
        except BaseException:
            captured.seek(0)
            log = captured.read().strip()
            if log:
                print("\nserver log (stderr):\n" + log[-4000:], file=sys.stderr)
            raise
    print(_RULE)
    print(f"done in {time.perf_counter() - started:.1f} s: '{title}' now ends with the appended section.")
    print("Next: add the server to Claude Desktop (see README), or run 'capacities-mcp --sandbox'.")
    return 0


async def _walk_through(client: Client, query: str, max_lines: int) -> str:
    """The calls an agent makes to extend a page; returns the title of the page it changed."""
    await _call(client, "get_space", {}, max_lines)
    hits = await _call(client, "search_objects", {"query": query, "limit": 3}, max_lines)
    object_id, title = _first_hit(hits)
    await _call(client, "get_object", {"id": object_id}, max_lines)
    note = (
        "## Follow-up (added by the demo)\n\n"
        "- Appended through MCP by `capacities-mcp demo`\n"
        "- [ ] Try the same in Claude Desktop"
    )
    await _call(client, "append_blocks", {"id": object_id, "markdown": note}, max_lines)
    after = await _call(client, "get_object", {"id": object_id}, max_lines, tail=True)
    if "added by the demo" not in _result_text(after):
        raise RuntimeError("the appended content did not show up in get_object")
    return title


def _package_parent() -> str:
    """The directory holding the `capacities_mcp` package this process runs."""
    from pathlib import Path

    import capacities_mcp

    return str(Path(capacities_mcp.__file__).resolve().parent.parent)


def run(args: argparse.Namespace) -> int:
    import anyio

    try:
        return anyio.run(_demo, args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the demo is a first impression: one clear line, not a traceback
        print(f"\ncapacities-mcp demo failed: {exc}", file=sys.stderr)
        return 1
