"""A cached virtual environment for a framework that cannot share ours.

langchain-mcp-adapters requires mcp<2 while we run on mcp 2.x, so it gets its own venv, made on
first use under `.cache/compat-venvs/` (git-ignored) and reused while its pins are unchanged. It
talks to our server the way any host does: by starting `capacities-mcp serve` over stdio.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock

from .helpers import REPO_ROOT

VENV_ROOT = REPO_ROOT / ".cache" / "compat-venvs"


def _python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def framework_python(name: str, requirements: Sequence[str], timeout: float = 600) -> Path:
    """The interpreter of a venv holding exactly `requirements`, created once and then reused.

    The directory name carries a hash of the pins, so changing a pin makes a new venv; a marker
    file written last means "complete", so an install killed half-way is redone, and a file
    lock keeps two test runs from building the same venv at once.
    """
    digest = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()[:12]
    venv = VENV_ROOT / f"{name}-{digest}"
    done = venv / ".complete"
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    with FileLock(str(VENV_ROOT / f"{name}-{digest}.lock")):
        if not done.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
            install = [str(_python_of(venv)), "-m", "pip", "install", "--quiet", *requirements]
            completed = subprocess.run(install, capture_output=True, text=True, timeout=timeout)
            if completed.returncode != 0:
                raise RuntimeError(f"installing {list(requirements)} failed:\n{completed.stderr[-3000:]}")
            done.write_text("\n".join(requirements) + "\n")
    return _python_of(venv)
