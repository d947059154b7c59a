"""`capacities-mcp mirror status | sync | clear`: look at, fill or remove the local mirror.

`status` reads the mirror files only (no request, no credentials needed) and prints counts, ages
and sizes: never a title, a text or a token. `sync` crawls the space of the configured credentials
to completion, within the same quota share as the server. `clear` deletes the files; the server
builds them again on its next start.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
import time
from pathlib import Path

from capacities_mcp._environment import ENV_MIRROR_DIR

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("status", "sync", "clear"), help="what to do")
    parser.add_argument(
        "--mirror-dir",
        metavar="DIR",
        help=f"directory of the mirror files (default: ${ENV_MIRROR_DIR} or the user cache directory)",
    )


def _directory(args: argparse.Namespace) -> Path:
    import os

    from capacities_mcp.mirror import default_mirror_dir

    given = getattr(args, "mirror_dir", None) or (os.environ.get(ENV_MIRROR_DIR) or "").strip()
    return Path(given) if given else default_mirror_dir()


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.sqlite3")) if directory.is_dir() else []


def _status(directory: Path) -> int:
    from capacities_mcp.mirror import MirrorStore

    files = _files(directory)
    print(f"mirror directory: {directory}")
    if not files:
        print("no mirror yet (the server creates one on its first start with credentials)")
        return 0
    for path in files:
        print(f"\n{path.name}")
        try:
            with contextlib.closing(MirrorStore(path, read_only=True)) as store:
                stats = store.stats()
        except sqlite3.Error as exc:
            print(f"  unreadable ({exc}); the server rebuilds it on its next start")
            continue
        print(f"  objects: {stats.objects} known, {stats.fetched} with content, {stats.trashed} trashed")
        if stats.oldest_fetch:
            print(f"  oldest content: {_ago(stats.oldest_fetch)} ago")
        print(f"  last listing pass: {_ago(stats.last_pass) + ' ago' if stats.last_pass else 'not yet'}")
        print(f"  size on disk: {stats.size_bytes / 1024:.0f} KiB")
    return 0


def _ago(when: float) -> str:
    seconds = max(0, time.time() - when)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _clear(directory: Path) -> int:
    removed = 0
    for path in _files(directory):
        for part in path.parent.glob(path.name + "*"):
            part.unlink(missing_ok=True)
        removed += 1
    print(f"removed {removed} mirror file(s) from {directory}")
    return 0


def _sync(args: argparse.Namespace, directory: Path) -> int:
    import anyio

    from ._settings import SettingsError, resolve_settings

    try:
        settings = resolve_settings(argparse.Namespace())
    except SettingsError as exc:
        print(f"capacities-mcp: {exc}", file=sys.stderr)
        return 2
    if settings.backend == "sandbox":
        print(
            "capacities-mcp: mirror sync needs credentials (an API token in the environment or "
            "'capacities-mcp auth login'); the embedded sandbox keeps its mirror in memory",
            file=sys.stderr,
        )
        return 2
    return anyio.run(_crawl, settings, directory)


async def _crawl(settings: object, directory: Path) -> int:
    from capacities_mcp.mirror import Mirror, MirrorOptions, describe

    from ._settings import Settings

    assert isinstance(settings, Settings)
    async with settings.client_for() as client:
        mirror = Mirror(client, MirrorOptions(location=directory, relist_every=0.0))
        try:
            stats = await mirror.sync_once(force_listing=True)
            print(describe(stats))
        finally:
            await mirror.close()
    return 0


def run(args: argparse.Namespace) -> int:
    directory = _directory(args)
    if args.action == "status":
        return _status(directory)
    if args.action == "clear":
        return _clear(directory)
    return _sync(args, directory)
