"""A cached virtual environment for a framework that cannot share ours.

langchain-mcp-adapters requires mcp<2 while we run on mcp 2.x, so it gets its own venv, made on
first use under `.cache/compat-venvs/` (git-ignored). It talks to our server the way any host
does: by starting `capacities-mcp serve` over stdio.

The venv sees our environment's packages (`--system-site-packages`) and installs only what must
differ (mcp 1.x shadows our mcp 2.x inside it) or is missing: about 30 s instead of 2 minutes on
CI's 2 cores. So it is rebuilt whenever its pins or our environment's installed versions change.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock

from .helpers import REPO_ROOT

VENV_ROOT = REPO_ROOT / ".cache" / "compat-venvs"


def _python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _installed_versions() -> list[str]:
    return sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())


def framework_python(name: str, requirements: Sequence[str], timeout: float = 600) -> Path:
    """The interpreter of a venv with `requirements` over our packages, made once, then reused.

    The directory name carries a hash of the pins and of what our environment has installed,
    so a change to either makes a new venv; a marker file written last means "complete", so an
    install killed half-way is redone, and a file lock keeps two test runs from building the
    same venv at once.
    """
    key = "\n".join([sys.version, *requirements, *_installed_versions()])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    venv = VENV_ROOT / f"{name}-{digest}"
    done = venv / ".complete"
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    with FileLock(str(VENV_ROOT / f"{name}-{digest}.lock")):
        if not done.exists():
            create = [sys.executable, "-m", "venv", "--clear", "--system-site-packages", str(venv)]
            subprocess.run(create, check=True, timeout=120)
            install = [str(_python_of(venv)), "-m", "pip", "install", "--quiet", *requirements]
            completed = subprocess.run(install, capture_output=True, text=True, timeout=timeout)
            if completed.returncode != 0:
                raise RuntimeError(f"installing {list(requirements)} failed:\n{completed.stderr[-3000:]}")
            done.write_text("\n".join(requirements) + "\n")
            _remove_stale(name, keep=venv)
    return _python_of(venv)


def _remove_stale(name: str, keep: Path) -> None:
    """Venvs of `name` built for other pins or another environment are never used again."""
    for old in VENV_ROOT.glob(f"{name}-*"):
        if old.is_dir() and old != keep:
            shutil.rmtree(old, ignore_errors=True)
        elif old.suffix == ".lock" and old.stem != keep.name:
            old.unlink(missing_ok=True)
