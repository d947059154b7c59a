"""`capacities-mcp serve --transport http --multi-user`: the remote server, until Ctrl-C.

The `serve` options are the server's own (`server/_cli.py`); the router sends `--multi-user`
here. Errors in the configuration end the start with exit code 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys

from capacities_mcp._environment import ENV_ENCRYPTION_KEY

__all__ = ["run"]

_log = logging.getLogger("capacities_mcp.remote")


def _fail(message: str) -> int:
    print(f"capacities-mcp: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from capacities_mcp.server import SettingsError, configure_logging, resolve_settings

    from ._crypto import EncryptionKeyError, TokenCipher
    from ._settings import resolve_remote_settings

    try:
        settings = resolve_settings(args)
        remote = resolve_remote_settings(args, settings)
        if remote.redis_url is not None:
            cipher = TokenCipher.required_from_environment()
        else:
            cipher = TokenCipher.from_environment() or TokenCipher.ephemeral()
    except (SettingsError, EncryptionKeyError) as exc:
        return _fail(str(exc))
    configure_logging(settings.log_level, [remote.redis_url] if remote.redis_url else [])
    if cipher.is_ephemeral:
        _log.warning(
            "%s is not set: Capacities tokens are sealed with a key of this process only, so users "
            "sign in again after a restart",
            ENV_ENCRYPTION_KEY,
        )

    import anyio

    from capacities_mcp._collector import tune_garbage_collector

    tune_garbage_collector()
    try:
        anyio.run(_serve, settings, remote, cipher)
    except KeyboardInterrupt:
        pass
    except ValueError as exc:  # unknown tool or toolset names
        return _fail(str(exc))
    except Exception as exc:
        _log.debug("server failed", exc_info=True)
        print(f"capacities-mcp: the server stopped: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(settings: object, remote: object, cipher: object) -> None:
    from capacities_mcp.server import Settings, run_uvicorn

    from ._app import build_remote_app, open_runtime
    from ._crypto import TokenCipher
    from ._settings import RemoteSettings

    assert isinstance(settings, Settings) and isinstance(remote, RemoteSettings)
    assert isinstance(cipher, TokenCipher)
    async with open_runtime(settings, remote, cipher=cipher) as runtime:
        asgi = build_remote_app(runtime)
        store = "Redis" if remote.redis_url else "in-memory state"
        note = f" (multi-user, {store}; public URL {remote.resource_url})"
        await run_uvicorn(asgi, settings, kind="streamable HTTP", path="/mcp", note=note)
