"""Node tools the test suite needs, installed by the suite itself on first use.

A folder with a `package.json` and `package-lock.json` is installed once with `npm install`
(guarded by a file lock so parallel runs don't collide, and stamped with the lock file's hash so
it is reinstalled only when that changes). Skips only when node or npm is missing; an npm
failure fails the test, since CI has registry access and a failed install is a real problem.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from filelock import FileLock

__all__ = ["ensure_node_packages", "installed_version"]

_STAMP_NAME = ".capacities-mcp-test-stamp"
_NPM_TIMEOUT = 300.0


def _manifest_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        path = folder / name
        if path.exists():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def installed_version(folder: Path, package: str) -> str | None:
    manifest = folder / "node_modules" / package / "package.json"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return version if isinstance(version, str) else None


def _is_current(folder: Path, digest: str, expected: Mapping[str, str]) -> bool:
    try:
        stamp = (folder / "node_modules" / _STAMP_NAME).read_text(encoding="utf-8")
    except OSError:
        return False
    return stamp == digest and all(
        installed_version(folder, package) == version for package, version in expected.items()
    )


def ensure_node_packages(folder: Path, expected: Mapping[str, str]) -> str:
    """Install `folder`'s node packages once; returns the `node` executable.

    `expected` maps package names to the versions that must end up installed.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
        pytest.skip(f"{missing} not installed: needed for {', '.join(expected)}")
    digest = _manifest_digest(folder)
    lock_name = "capacities-mcp-npm-" + hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    with FileLock(str(Path(tempfile.gettempdir()) / f"{lock_name}.lock"), timeout=_NPM_TIMEOUT + 60):
        if _is_current(folder, digest, expected):
            return node
        env = {**os.environ, "npm_config_update_notifier": "false"}
        try:
            proc = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund"],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=_NPM_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"`npm install` in {folder} timed out after {exc.timeout}s", pytrace=False)
        if proc.returncode != 0:
            pytest.fail(
                f"`npm install` in {folder} failed (exit {proc.returncode}); network or registry "
                f"problem?\n--- stderr ---\n{proc.stderr[-4000:]}\n--- stdout ---\n{proc.stdout[-2000:]}",
                pytrace=False,
            )
        for package, version in expected.items():
            found = installed_version(folder, package)
            if found != version:
                pytest.fail(f"npm installed {package} {found}, expected {version}", pytrace=False)
        (folder / "node_modules" / _STAMP_NAME).write_text(digest, encoding="utf-8")
    return node
