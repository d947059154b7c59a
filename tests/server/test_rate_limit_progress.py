"""A call held back by the rate limit tells the client (progress) and the log, through a real client."""

from __future__ import annotations

import logging

import httpx2
import pytest

from .helpers import connect, running_sandbox, text_of, tool_server

WINDOW = 4.0  # seconds: GET /space allows 10 requests per window


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_waiting_for_the_quota_sends_progress_and_logs_once(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="capacities_mcp")
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    with running_sandbox(rate_limit_window=WINDOW) as sandbox:
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
