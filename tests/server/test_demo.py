"""`capacities-mcp demo`: the README's first command must work and show the real thing.

Start-up speed is measured by bench/startup_memory.py (ratios against a baseline in the same
run), not asserted here: a wall-clock bound (it was 20 s) failed on a busy machine, not on slow
code.
"""

from __future__ import annotations

from pathlib import Path

from .helpers_process import base_env, run_cli


def test_demo_walks_through_the_tools(tmp_path: Path) -> None:
    result = run_cli(["demo"], base_env(tmp_path), timeout=60)
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
