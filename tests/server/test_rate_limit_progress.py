"""A call held back by the rate limit tells the client (progress) and the log, through a real client."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable

import httpx2
import pytest

from capacities_mcp.sandbox import FixedWindowLimiter, RateDecision, SandboxServer

from .helpers import connect, running_sandbox, text_of, tool_server

WINDOW = 4.0  # seconds: GET /space allows 10 requests per window


class WindowEndsOnCue(FixedWindowLimiter):
    """The sandbox's quotas on a clock that stands still until `ends_after(decision)` is true:
    then every window is over, as if `WINDOW` had passed. A slow machine can no longer end a
    window before the test has used it up; the client still waits out the reset it was told."""

    def __init__(self, ends_after: Callable[[RateDecision], bool]) -> None:
        self.now = 0.0
        super().__init__(WINDOW, clock=lambda: self.now)
        self._ends_after = ends_after

    def hit(self, caller: str, route_key: str, limit: int) -> RateDecision:
        decision = super().hit(caller, route_key, limit)
        if self._ends_after(decision):
            self.now += WINDOW
        return decision


def limit_on_cue(sandbox: SandboxServer, ends_after: Callable[[RateDecision], bool]) -> None:
    sandbox.runtime.limiter = WindowEndsOnCue(ends_after)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_waiting_for_the_quota_sends_progress_and_logs_once(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="capacities_mcp")
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    with running_sandbox(rate_limit_window=WINDOW) as sandbox:
        # The request that uses a quota up ends the window: the client, told "0 left, reset in
        # 4 s", waits and then finds a new window (on the real clock, ten calls slower than 4 s
        # never used a window up, and no call waited).
        limit_on_cue(sandbox, lambda decision: decision.allowed and decision.remaining == 0)
        # No space cache: every get_space asks GET /space and GET /space/structures again.
        server, _ = tool_server(
            sandbox, tools=["get_space"], space_ttl=0, client_options={"max_rate_limit_wait": 10.0}
        )
        async with connect(server, mode) as client:
            for _ in range(12):  # about the 6th call finds the window's 10 requests used up
                result = await client.call_tool("get_space", {}, progress_callback=on_progress)
                assert not result.is_error, text_of(result)
                if progress:
                    break
    assert progress, "no call had to wait"
    values = [value for value, _, _ in progress]
    assert values == sorted(set(values)) and values[0] > 0
    assert all("rate limit (GET /space" in (message or "") for _, _, message in progress)
    assert all(total is None for _, total, _ in progress)
    waits = [r.getMessage() for r in caplog.records if "for the rate limit of GET /space" in r.getMessage()]
    assert len(waits) == 1 and waits[0].startswith("get_space: waiting"), waits  # one line per wait


async def test_a_call_that_does_not_wait_sends_no_progress() -> None:
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    with running_sandbox() as sandbox:
        server, _ = tool_server(sandbox, tools=["get_space"])
        async with connect(server, "legacy") as client:
            result = await client.call_tool("get_space", {}, progress_callback=on_progress)
    assert not result.is_error and progress == []


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_real_429_is_sat_out_with_progress(mode: str) -> None:
    """Another program spent the quota, so our client learns of it only from the API's 429."""
    progress: list[str | None] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message)

    with running_sandbox(rate_limit_window=WINDOW) as sandbox:
        # The third refusal (the other program gets two, then our client its first) ends the
        # window, so our retry after the reset finds a new one; on the real clock, a slow start
        # of our server let the window end before its first request, which then met no 429.
        refusals = itertools.count(1)
        limit_on_cue(sandbox, lambda decision: not decision.allowed and next(refusals) == 3)
        headers = {"Authorization": f"Bearer {sandbox.api_token}"}
        with httpx2.Client(base_url=sandbox.base_url, headers=headers) as other:
            statuses = [other.get("/space").status_code for _ in range(12)]
        assert statuses[-1] == 429, statuses
        server, _ = tool_server(
            sandbox, tools=["get_space"], space_ttl=0, client_options={"max_rate_limit_wait": 10.0}
        )
        async with connect(server, mode) as client:
            result = await client.call_tool("get_space", {}, progress_callback=on_progress)
    assert not result.is_error, text_of(result)
    assert progress and all("rate limit (GET /space" in (message or "") for message in progress), progress
