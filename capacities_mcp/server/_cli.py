"""`capacities-mcp [serve]`: options and start-up of the MCP server.

Kept light to import (the router imports every command's `add_arguments` to build `--help`); the
SDK and the server are imported inside `run`. Nothing is ever written to stdout here: in stdio
mode stdout is the protocol channel, and messages for humans go to stderr.
"""

from __future__ import annotations

import argparse
import sys

from capacities_mcp._environment import DESCRIPTIONS

__all__ = ["add_arguments", "run"]


def _environment_help() -> str:
    """The `serve --help` epilog: every variable the server reads, from the one list of them."""
    width = max(map(len, DESCRIPTIONS)) + 2
    lines = [f"  {name:<{width}}{meaning}" for name, meaning in DESCRIPTIONS.items()]
    return (
        "environment:\n" + "\n".join(lines) + "\n\n"
        "Without credentials (or with --sandbox) an embedded sandbox with demo data is started.\n"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _environment_help()
    parser.add_argument(
        "--transport",
        choices=("stdio", "http", "sse"),
        default="stdio",
        help="stdio (default, how MCP hosts start servers), http (streamable HTTP at /mcp) or "
        "sse (legacy HTTP+SSE at /sse)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000; 0 = any free port)")
    parser.add_argument(
        "--allowed-host",
        dest="allowed_hosts",
        action="append",
        metavar="HOST[:PORT]",
        help="extra Host header value accepted over HTTP (e.g. mcp.example.com:*); repeatable",
    )
    parser.add_argument(
        "--allowed-origin",
        dest="allowed_origins",
        action="append",
        metavar="ORIGIN",
        help="browser Origin accepted over HTTP (e.g. https://app.example.com); repeatable",
    )
    parser.add_argument(
        "--max-sessions",
        type=int,
        metavar="N",
        help="HTTP: most MCP sessions open at once; a new one then ends the longest-idle (default 100)",
    )
    parser.add_argument(
        "--session-idle-timeout",
        type=float,
        metavar="S",
        help="HTTP: seconds without a request after which a session is closed (default 600)",
    )
    parser.add_argument(
        "--header-timeout",
        type=float,
        metavar="S",
        help="HTTP: seconds a connection has to send complete request headers (default 10)",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        metavar="S",
        help="HTTP: seconds a client has to send a request body; 408 after that (default 30)",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="use an embedded local sandbox with demo data instead of your Capacities space",
    )
    multi = parser.add_argument_group("multi-user (remote) mode")
    multi.add_argument(
        "--multi-user",
        action="store_true",
        help="with --transport http: every MCP client signs its user in with their own Capacities "
        "account (OAuth); see docs/remote.md",
    )
    multi.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL users reach this server at, e.g. https://mcp.example.org (http only on "
        "loopback; default http://127.0.0.1:<port>)",
    )
    multi.add_argument(
        "--oauth-client-id",
        metavar="ID",
        help="this server's client id at Capacities OAuth (default capacities-mcp)",
    )
    multi.add_argument(
        "--redis-url",
        metavar="URL",
        help="shared state for several replicas, e.g. redis://redis:6379/0 (default: in memory)",
    )
    parser.add_argument(
        "--no-mirror",
        action="store_true",
        help="keep no local mirror of the space (search then matches titles only, no query_objects)",
    )
    parser.add_argument(
        "--mirror-dir",
        metavar="DIR",
        help="directory of the local mirror's files (default: the user cache directory)",
    )
    parser.add_argument("--read-only", action="store_true", help="register only tools that never write")
    parser.add_argument(
        "--structured-output",
        action="store_true",
        help="tools publish outputSchema and send structuredContent beside the Markdown text "
        "(for programs; models read the text)",
    )
    parser.add_argument(
        "--tools", action="append", metavar="NAME[,NAME...]", help="register only these tools"
    )
    parser.add_argument(
        "--toolsets",
        action="append",
        metavar="SET[,SET...]",
        help="register only these groups of tools (e.g. objects,blocks)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="log level on stderr (default INFO)",
    )


def _fail(message: str) -> int:
    from ._logging import redact

    print(f"capacities-mcp: {redact(message)}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Resolve settings, build the server and serve until the client goes away or Ctrl-C."""
    from ._logging import configure_logging
    from ._settings import SettingsError, resolve_settings

    try:
        settings = resolve_settings(args)
    except SettingsError as exc:
        return _fail(str(exc))
    configure_logging(settings.log_level, settings.secrets())

    from ._app import build_app

    try:
        app = build_app(settings)
    except ValueError as exc:  # unknown tool or toolset names, malformed prompt files
        return _fail(str(exc))

    import logging

    import anyio

    if settings.backend == "sandbox":
        logging.getLogger("capacities_mcp.server").warning(
            "%s: starting the embedded sandbox with demo data (not your Capacities space)",
            settings.sandbox_reason or "sandbox requested",
        )
    from capacities_mcp._collector import tune_garbage_collector

    tune_garbage_collector()
    try:
        if settings.transport == "stdio":
            from ._stdio import serve_stdio

            anyio.run(serve_stdio, app.server)
        else:
            from ._http import serve_http

            anyio.run(serve_http, app)
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # one readable line; the traceback only at --log-level DEBUG
        logging.getLogger("capacities_mcp.server").debug("server failed", exc_info=True)
        from ._logging import redact

        print(
            f"capacities-mcp: the server stopped: {type(exc).__name__}: {redact(str(exc))}", file=sys.stderr
        )
        return 1
    return 0
