"""Contract tests: the sandbox checked against the official SDK and the official OpenAPI document.

Shared pieces: where the fixtures live, and the one-time installation of the official
`@capacities/api` client (plus zod) with npm, guarded by a file lock so parallel runs don't collide.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
import pytest
from filelock import FileLock

CONTRACT_DIR = Path(__file__).resolve().parent
NODE_DIR = CONTRACT_DIR / "node"
SDK_PACKAGE = "@capacities/api"
SDK_VERSION = "1.0.1"
_STAMP_NAME = ".capacities-contract-stamp"
_NPM_TIMEOUT = 300.0


def _manifest_digest() -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        path = NODE_DIR / name
        if path.exists():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _installed_version(package: str) -> str | None:
    manifest = NODE_DIR / "node_modules" / package / "package.json"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return version if isinstance(version, str) else None


def _install_is_current(stamp: Path, digest: str) -> bool:
    try:
        return stamp.read_text(encoding="utf-8") == digest and (
            _installed_version(SDK_PACKAGE) == SDK_VERSION
        )
    except OSError:
        return False


def ensure_node_packages() -> str:
    """Installs the node packages of `tests/contract/node` once; returns the `node` executable.

    Skips only when node or npm is missing. An npm failure (network, registry) fails the test:
    CI has registry access, so a failed install is a real problem, not a reason to skip.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
        pytest.skip(f"{missing} not installed: the official TypeScript SDK cannot run")
    digest = _manifest_digest()
    stamp = NODE_DIR / "node_modules" / _STAMP_NAME
    lock_name = "capacities-mcp-contract-npm-" + hashlib.sha256(str(NODE_DIR).encode()).hexdigest()[:16]
    with FileLock(str(Path(tempfile.gettempdir()) / f"{lock_name}.lock"), timeout=_NPM_TIMEOUT + 60):
        if _install_is_current(stamp, digest):
            return node
        env = {**os.environ, "npm_config_update_notifier": "false"}
        try:
            proc = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund"],
                cwd=NODE_DIR,
                env=env,
                capture_output=True,
                text=True,
                timeout=_NPM_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"`npm install` in {NODE_DIR} timed out after {exc.timeout}s", pytrace=False)
        if proc.returncode != 0:
            pytest.fail(
                f"`npm install` in {NODE_DIR} failed (exit {proc.returncode}); network or registry "
                f"problem?\n--- stderr ---\n{proc.stderr[-4000:]}\n--- stdout ---\n{proc.stdout[-2000:]}",
                pytrace=False,
            )
        version = _installed_version(SDK_PACKAGE)
        if version != SDK_VERSION:
            pytest.fail(f"npm installed {SDK_PACKAGE} {version}, expected {SDK_VERSION}", pytrace=False)
        stamp.write_text(digest, encoding="utf-8")
    return node


@pytest.fixture(scope="session")
def node_executable() -> str:
    return ensure_node_packages()
