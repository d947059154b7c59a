"""`capacities-mcp sandbox`: run the local Capacities-compatible API until Ctrl-C.

Prints the base URL and a fresh personal API token (printing it is this command's job), so that
`CAPACITIES_API_URL=... CAPACITIES_API_TOKEN=... capacities-mcp` can use it, and on stderr the
admin token the fault switches and OAuth auto-approval require. Light to import:
the sandbox itself is imported inside `run`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType

from capacities_mcp._environment import (
    ENV_API_TOKEN,
    ENV_API_URL,
    ENV_SANDBOX_ADMIN_TOKEN,
    ENV_SANDBOX_READ_ONLY_TOKEN,
)

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument(
        "--data",
        metavar="FILE",
        default=None,
        help="keep the space in this JSON file across restarts (default: in memory only)",
    )
    parser.add_argument(
        "--read-only-token", action="store_true", help="also print a token with only api:read"
    )
    parser.add_argument(
        "--rate-limit-window",
        type=float,
        default=60.0,
        metavar="S",
        help="length of the rate-limit windows in seconds (default 60, as the real API)",
    )
    parser.add_argument(
        "--daily-note-delay",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds a daily-note append stays queued before it shows (default 0)",
    )
    parser.add_argument(
        "--auto-approve",
        action="store_true",
        help="OAuth: approve authorization requests that carry the admin token (header "
        "X-Sandbox-Admin-Token) without showing the consent page; others still see it",
    )
    parser.add_argument(
        "--no-seed", action="store_true", help="start from an empty space instead of the demo space"
    )
    parser.add_argument(
        "--seed-size",
        type=int,
        default=0,
        metavar="N",
        help="add N generated objects to the demo space (pages, tasks, books, people, projects, "
        "CJK notes...; the same for the same N), for tests and benchmarks at scale",
    )
    parser.add_argument(
        "--seed-random",
        type=int,
        default=0,
        metavar="K",
        help="vary the generated objects of --seed-size (default 0)",
    )
    parser.add_argument(
        "--account",
        dest="accounts",
        action="append",
        metavar="NAME",
        help="an account with its own space, chosen on the OAuth consent page (repeatable; the "
        "first is the main space); for trying a multi-user server",
    )


def _log_to_stderr() -> None:
    """The sandbox's warnings (a bind beyond loopback, a failed request) on stderr, one line each."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("capacities-mcp sandbox: %(message)s"))
    logger = logging.getLogger("capacities_mcp.sandbox")
    logger.addHandler(handler)
    logger.propagate = False


def run(args: argparse.Namespace) -> int:
    from ._config import SandboxConfig
    from ._server import SandboxServer

    if args.port < 0 or args.port > 65535:
        print("capacities-mcp sandbox: --port must be between 0 and 65535", file=sys.stderr)
        return 2
    if args.rate_limit_window <= 0:
        print("capacities-mcp sandbox: --rate-limit-window must be > 0", file=sys.stderr)
        return 2
    if args.seed_size and args.no_seed:
        print("capacities-mcp sandbox: --seed-size adds to the demo space; drop --no-seed", file=sys.stderr)
        return 2
    try:  # the config checks its values (the --seed-size range among them)
        config = SandboxConfig(
            host=args.host,
            port=args.port,
            data_file=args.data,
            rate_limit_window=args.rate_limit_window,
            daily_note_delay=max(0.0, args.daily_note_delay),
            auto_approve=args.auto_approve,
            seed=not args.no_seed,
            seed_size=args.seed_size,
            seed_random=args.seed_random,
            admin_token=os.environ.get(ENV_SANDBOX_ADMIN_TOKEN) or None,
            accounts=tuple(dict.fromkeys(args.accounts or ())),
        )
    except ValueError as exc:
        print(f"capacities-mcp sandbox: {exc}", file=sys.stderr)
        return 2
    _log_to_stderr()
    try:
        sandbox = SandboxServer(config).start()
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"capacities-mcp sandbox: cannot start: {exc}", file=sys.stderr)
        return 1
    from capacities_mcp._collector import tune_garbage_collector

    tune_garbage_collector()  # after the seed: the demo space is frozen out of later passes
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    lines = [
        f"Capacities sandbox running at {sandbox.base_url}",
        f"{ENV_API_URL}={sandbox.base_url}",
        f"{ENV_API_TOKEN}={sandbox.api_token}",
    ]
    if args.read_only_token:
        lines.append(f"{ENV_SANDBOX_READ_ONLY_TOKEN}={sandbox.mint_token(('api:read',))}")
    lines.append(f"OAuth client id: {sandbox.oauth_client_id} (redirect URIs: http://127.0.0.1:<port>/...)")
    if config.accounts:
        lines.append(f"Accounts (chosen on the consent page): {', '.join(config.accounts)}")
    if config.data_file is not None:
        lines.append(f"Data file: {config.data_file}")
    if config.seed_size:
        lines.append(
            f"Objects: {len(sandbox.state.objects)} (the demo space and {config.seed_size} generated)"
        )
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)
    print(
        f"Admin token (header X-Sandbox-Admin-Token, for /_sandbox/faults and --auto-approve): "
        f"{sandbox.admin_token}",
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            if not sandbox.running:
                print("capacities-mcp sandbox: the server stopped unexpectedly", file=sys.stderr)
                return 1
    finally:
        sandbox.stop()
    return 0
