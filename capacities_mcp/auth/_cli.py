"""`capacities-mcp auth login|status|logout`: sign in, see what is stored, sign out.

These are interactive commands (stdout is not an MCP channel here): progress and the sign-in URL
go to stderr, `status` reports on stdout. Tokens are never printed.

Kept light to import: `capacities-mcp` builds every command's parser on start, so the HTTP
client and the store are only imported when an `auth` command actually runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

from .._environment import ENV_API_TOKEN, ENV_API_URL, ENV_TOKEN_STORE

if TYPE_CHECKING:
    from ._store import SecretStorage, StoredCredentials, TokenStore

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="auth_command", metavar="{login,status,logout}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store",
        metavar="PATH",
        help=f"credentials file (default: ${ENV_TOKEN_STORE}, else "
        "<user config dir>/capacities-mcp/credentials.json)",
    )

    login = sub.add_parser(
        "login",
        parents=[common],
        help="sign in with OAuth in the browser (or store a personal API token)",
        description="Sign in to Capacities with OAuth (Authorization Code + PKCE, loopback "
        "redirect) and store the tokens; or store a personal API token with --token/--token-stdin.",
    )
    login.add_argument("--client-id", default=None, help="OAuth client id (default: capacities-mcp)")
    login.add_argument(
        "--scopes",
        nargs="+",
        metavar="SCOPE",
        help="scopes to request (default: api:read api:write offline_access)",
    )
    login.add_argument(
        "--api-url",
        default=None,
        help=f"API base URL (default: ${ENV_API_URL}, else https://api.capacities.io)",
    )
    login.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up when the browser step is not done by then (default: 300)",
    )
    login.add_argument("--no-browser", action="store_true", help="only print the sign-in URL, do not open it")
    login.add_argument(
        "--keyring",
        action="store_true",
        help="keep the tokens in the OS keyring instead of the credentials file "
        "(needs: pip install 'capacities-mcp[keyring]')",
    )
    token = login.add_mutually_exclusive_group()
    token.add_argument(
        "--token",
        metavar="TOKEN",
        help="store this personal API token (cap-api-...) instead; prefer --token-stdin, "
        "since a command line can be seen by other users and lands in shell history",
    )
    token.add_argument("--token-stdin", action="store_true", help="read a personal API token from stdin")

    sub.add_parser(
        "status",
        parents=[common],
        help="show which space and credential are stored (never the token)",
        description="Show the stored credential: space (via GET /space), API URL, kind, "
        "scopes and access-token expiry. Exit code 1 when not signed in or not working.",
    )
    sub.add_parser(
        "logout",
        parents=[common],
        help="revoke the OAuth grant and delete the stored credentials",
        description="Revoke the OAuth grant at the server (best effort) and delete the stored "
        "credentials, even when the revocation fails.",
    )


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "auth_command", None)
    if command is None:
        print("usage: capacities-mcp auth {login,status,logout} [options]", file=sys.stderr)
        return EXIT_USAGE

    import anyio

    from ._login import LoginError
    from ._store import TokenStore, TokenStoreError

    store = TokenStore(args.store) if args.store else TokenStore()
    try:
        if command == "login":
            return anyio.run(_login, args, store)
        if command == "status":
            return anyio.run(_status, store)
        if command == "logout":
            return anyio.run(_logout, store)
    except LoginError as exc:
        _err(str(exc))
        return exc.exit_code
    except TokenStoreError as exc:
        _err(f"Credentials store: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _err("Stopped; nothing was changed.")
        return EXIT_INTERRUPTED
    raise AssertionError(f"unknown auth command {command!r}")


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def _login(args: argparse.Namespace, store: TokenStore) -> int:
    from ._login import (
        DEFAULT_SCOPES,
        DEFAULT_TIMEOUT_SECONDS,
        LoginError,
        oauth_login,
        open_browser,
        token_login,
    )
    from ._store import DEFAULT_CLIENT_ID, default_api_url

    base_url = args.api_url or default_api_url()
    storage: SecretStorage = "keyring" if args.keyring else "file"
    if args.token is not None or args.token_stdin:
        token = args.token if args.token is not None else sys.stdin.readline()
        stored = await token_login(store, base_url=base_url, token=token, say=_err, storage=storage)
        _err(f"Stored a personal API token for space {_space(stored)} in {store.path}.")
        return EXIT_OK

    scopes = _split_scopes(args.scopes) if args.scopes else DEFAULT_SCOPES
    timeout = DEFAULT_TIMEOUT_SECONDS if args.timeout is None else args.timeout
    if timeout <= 0:
        raise LoginError("--timeout must be positive")
    stored = await oauth_login(
        store,
        base_url=base_url,
        client_id=args.client_id or DEFAULT_CLIENT_ID,
        scopes=scopes,
        timeout=timeout,
        browser=None if args.no_browser else open_browser,
        say=_err,
        storage=storage,
    )
    _err(f"Signed in to {_space(stored)} ({stored.base_url}); credentials stored in {store.path}.")
    if os.environ.get(ENV_API_TOKEN):
        _err(f"Note: {ENV_API_TOKEN} is set, and the server uses it instead of this sign-in.")
    return EXIT_OK


async def _status(store: TokenStore) -> int:
    from ..api import CapacitiesApiError, CapacitiesClient, CapacitiesError, CapacitiesOAuthError

    stored = store.read()
    if os.environ.get(ENV_API_TOKEN):
        print(f"{ENV_API_TOKEN} is set: the server uses that token, not the stored credentials.")
    if stored is None:
        print(f"Not signed in (no credentials at {store.path}).")
        print("Run `capacities-mcp auth login` to sign in.")
        return EXIT_FAILED

    space_line: str
    ok = True
    try:
        async with CapacitiesClient(**stored.client_kwargs()) as client:
            space = await client.space.get()
        space_line = f"{space.title} (id {space.id})"
    except CapacitiesOAuthError as exc:
        ok = False
        space_line = f"unknown: the sign-in no longer works ({exc.message})"
    except CapacitiesApiError as exc:
        ok = False
        if exc.status == 401:
            space_line = "unknown: Capacities rejected the stored credential (401)"
        else:
            space_line = f"unknown: GET /space failed ({exc})"
    except CapacitiesError as exc:
        ok = False
        space_line = f"unknown: GET /space failed ({exc})"
    # A refresh on the way has rotated the tokens: show the expiry of the current ones.
    stored = store.read() or stored

    print(f"Space:        {space_line}")
    print(f"API URL:      {stored.base_url}")
    if stored.kind == "oauth":
        print(f"Credential:   OAuth (client id {stored.client_id})")
        print(f"Scopes:       {' '.join(stored.scopes) or 'unknown'}")
        print(f"Access token: {_expiry(stored)}")
        has_refresh = stored.tokens is not None and bool(stored.tokens.refresh_token)
        print(f"Refresh:      {'yes (offline access)' if has_refresh else 'no refresh token'}")
    else:
        print("Credential:   personal API token (does not expire; scopes chosen when created)")
    mode = store.file_mode()
    mode_text = f"mode {mode:04o}" if mode is not None else "missing"
    warn = " (too open: should be 0600)" if mode is not None and mode & 0o077 else ""
    where = "; tokens in the OS keyring" if stored.storage == "keyring" else ""
    print(f"Stored in:    {store.path} ({mode_text}{warn}{where})")
    if not ok:
        print("Run `capacities-mcp auth login` to sign in again.")
        return EXIT_FAILED
    return EXIT_OK


async def _logout(store: TokenStore) -> int:
    import anyio.to_thread
    import httpx2

    from ._login import LoginError, discover_endpoints, revoke_grant
    from ._store import TokenStoreError

    async with store.alock():
        try:
            stored = await anyio.to_thread.run_sync(store.read)
        except TokenStoreError:
            stored = None
            _err("The credentials file was unreadable; removing it.")
        warning: str | None = None
        if stored is not None and stored.kind == "oauth" and stored.tokens is not None:
            assert stored.client_id is not None
            token = stored.tokens.refresh_token or stored.tokens.access_token
            try:
                async with httpx2.AsyncClient(timeout=30.0) as http:
                    endpoints = await discover_endpoints(http, stored.base_url)
                    await revoke_grant(http, endpoints, token=token, client_id=stored.client_id)
            except LoginError as exc:
                warning = str(exc)
        removed = await anyio.to_thread.run_sync(store.delete)

    if stored is None and not removed:
        print(f"Not signed in (no credentials at {store.path}); nothing to do.")
        return EXIT_OK
    if stored is not None and stored.kind == "oauth":
        if warning is None:
            print("Revoked the OAuth grant at Capacities.")
        else:
            print(
                f"Could not revoke the OAuth grant at Capacities ({warning}). To cut it off, "
                "remove the connection in Capacities: Settings > Capacities API > Connections."
            )
    elif stored is not None:
        print(
            "A personal API token cannot be revoked from here: delete it in Capacities "
            "(Settings > Capacities API) if it is no longer needed."
        )
    print(f"Removed the stored credentials ({store.path}).")
    return EXIT_OK


def _split_scopes(values: list[str]) -> tuple[str, ...]:
    """`--scopes a b`, `--scopes "a b"` and `--scopes a,b` all mean the same."""
    return tuple(s for value in values for s in value.replace(",", " ").split())


def _space(stored: StoredCredentials) -> str:
    return f'"{stored.space_title}"' if stored.space_title else "your space"


def _expiry(stored: StoredCredentials) -> str:
    expires_at = stored.tokens.expires_at if stored.tokens is not None else None
    if expires_at is None:
        return "expiry unknown"
    left = expires_at - time.time()
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(expires_at))
    if left <= 0:
        return f"expired {_duration(-left)} ago ({when}); renewed automatically on next use"
    return f"expires in {_duration(left)} ({when}); renewed automatically"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
