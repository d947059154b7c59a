"""`capacities-mcp demo`: the README's first command must work, quickly, and show the real thing."""

from __future__ import annotations

import time
from pathlib import Path

from .helpers_process import base_env, run_cli


def test_demo_walks_through_the_tools(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_cli(["demo"], base_env(tmp_path), timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    calls = [line for line in out.splitlines() if line.startswith("> ")]
    assert [call.split("(")[0] for call in calls] == [
        "> get_space",
        "> search_objects",
        "> get_object",
        "> append_blocks",
        "> get_object",
    ]
    assert "Demo space" in out
    assert "added by the demo" in out.split("> append_blocks")[-1]  # visible in the final read
    assert "ERROR" not in out
    assert elapsed < 20, f"the demo took {elapsed:.1f} s"
