"""Crash-safe file replacement, shared by the sandbox's data file and the token store."""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path

__all__ = ["atomic_write", "fsync_dir", "remove_orphaned_temp_files"]

_TEMP_SUFFIX = ".tmp"


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old or the new content, never a mix.

    A temporary file in the same directory (mode 0600), written and fsynced, renamed over
    `path`, then the directory fsynced so the rename itself survives a power cut.
    """
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=_TEMP_SUFFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o600)  # in case the platform's mkstemp was looser
        os.replace(temp_name, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp_name)
        raise
    fsync_dir(directory)


def remove_orphaned_temp_files(path: Path) -> list[Path]:
    """Delete the temporary files a crash in `atomic_write` left next to `path`; returns them.

    Only for the one writer of `path` (e.g. the holder of its lock): another writer's temporary
    file may be in use. They hold a complete or partial copy of data that was never committed.
    """
    removed: list[Path] = []
    for candidate in path.parent.glob(f"{_temp_prefix(path)}*{_TEMP_SUFFIX}"):
        with suppress(OSError):
            candidate.unlink()
            removed.append(candidate)
    return removed


def fsync_dir(directory: Path) -> None:
    """Make a rename or unlink durable; a no-op where directories cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
