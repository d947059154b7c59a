"""The date-sensitive tools and the plan_week prompt at awkward instants and in extreme time zones.

The sandbox clock is pinned at a leap day and half an hour either side of New Year (UTC); each
test runs with the process time zone at UTC, UTC+14 and UTC-12. Two of the sandboxes are also
seeded under an extreme zone, chosen so that the local date differs from the UTC date. Every
expected date is computed from the pinned clock, so the suite passes on any day, and a local-time
slip anywhere on the path (seed, sandbox, API client, tools) shows up as a shifted date.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from capacities_mcp.sandbox import Clock, SandboxServer
from capacities_mcp.server._prompts import load_prompt_specs, register_prompts, render_template

from .helpers import connect, running_sandbox, text_of, tool_server

DAY = dt.timedelta(days=1)


class TimeZone(NamedTuple):
    name: str  # POSIX `Etc/GMT` names invert the sign: Etc/GMT-14 is UTC+14
    hours: int


UTC_ZONE = TimeZone("UTC", 0)
EARLIEST = TimeZone("Etc/GMT-14", 14)
LATEST = TimeZone("Etc/GMT+12", -12)
TIME_ZONES = (UTC_ZONE, EARLIEST, LATEST)


class Instant(NamedTuple):
    at: dt.datetime
    seeded_in: TimeZone  # the process time zone while the demo space is seeded


INSTANTS = {
    "leap-day": Instant(dt.datetime(2028, 2, 29, 12, 0, tzinfo=dt.UTC), UTC_ZONE),
    # Local time is already New Year's Day in UTC+14, still New Year's Eve in UTC-12.
    "new-years-eve": Instant(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), EARLIEST),
    "new-years-day": Instant(dt.datetime(2027, 1, 1, 0, 30, tzinfo=dt.UTC), LATEST),
}

# Seeded task dates, in days from the sandbox's today (capacities_mcp/sandbox/_seed.py `_tasks`).
TASK_DATES = {
    "Draft Q3 planning agenda": ("Deadline", 2),
    "Review pull request for search API": ("Deadline", 0),
    "Fix flaky integration test": ("Deadline", -1),
    "Migrate notes to the new API": ("Deadline", 7),
    "Renew passport": ("Deadline", 30),
    "Read chapter 4 of Thinking, Fast and Slow": ("Date", 1),
    "Book flights to Lisbon": ("Completed", -3),
}


def _use_time_zone(monkeypatch: pytest.MonkeyPatch, zone: TimeZone) -> None:
    monkeypatch.setenv("TZ", zone.name)
    time.tzset()
    offset = dt.datetime.now().astimezone().utcoffset()
    assert offset == dt.timedelta(hours=zone.hours), f"TZ={zone.name} did not take effect"


@pytest.fixture(scope="module", params=list(INSTANTS.values()), ids=list(INSTANTS))
def instant(request: pytest.FixtureRequest) -> Instant:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def today(instant: Instant) -> dt.date:
    """The UTC date at the pinned instant (the nearest midnight is 30 minutes of test time away)."""
    return instant.at.date()


@pytest.fixture(scope="module")
def sandbox(instant: Instant) -> Iterator[SandboxServer]:
    """One demo sandbox per instant, seeded (and then serving) with its clock pinned there."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _use_time_zone(monkeypatch, instant.seeded_in)
        with running_sandbox(clock=Clock.starting_at(instant.at)) as server:
            monkeypatch.undo()
            time.tzset()
            yield server
    time.tzset()


@pytest.fixture(scope="module")
def server(sandbox: SandboxServer) -> MCPServer[Any]:
    """Every tool and prompt, on the instant's sandbox (each test connects its own client)."""
    server, names = tool_server(sandbox)
    assert "plan_week" in register_prompts(server, available_tools=names)
    return server


@pytest.fixture(params=TIME_ZONES, ids=[zone.name for zone in TIME_ZONES])
def process_time_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[TimeZone]:
    _use_time_zone(monkeypatch, request.param)
    yield request.param
    monkeypatch.undo()
    time.tzset()


def _note_title(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00.000Z"


async def _listed(client: Client, structure: str) -> dict[str, str]:
    """Title -> id of every object of `structure` (one page holds the demo space's)."""
    result = await client.call_tool("list_objects", {"structure": structure, "page_size": 100})
    assert not result.is_error, text_of(result)
    data: dict[str, Any] = result.structured_content or {}
    assert not data["has_more"]
    return {ref["title"]: ref["id"] for ref in data["results"]}


def _week_ending(today: dt.date) -> set[str]:
    return {_note_title(today - days * DAY) for days in range(7)}


async def _daily_note_text(client: Client, notes: dict[str, str], day: dt.date) -> str:
    result = await client.call_tool("get_object", {"id": notes[_note_title(day)]})
    assert not result.is_error, text_of(result)
    return text_of(result)


async def test_task_dates_count_from_the_clocks_today(
    server: MCPServer[Any], today: dt.date, process_time_zone: TimeZone
) -> None:
    async with connect(server, "legacy") as client:
        tasks = await _listed(client, "Task")
        for title, (name, days) in TASK_DATES.items():
            result = await client.call_tool("get_object", {"id": tasks[title]})
            assert not result.is_error, text_of(result)
            expected = (today + days * DAY).isoformat()
            assert f"- {name}: {expected}" in text_of(result), (title, text_of(result))
            properties = {p["name"]: p["value"] for p in (result.structured_content or {})["properties"]}
            assert properties[name] == {"start": expected, "end": None}, title


async def test_daily_notes_are_the_week_ending_today(
    server: MCPServer[Any], today: dt.date, process_time_zone: TimeZone
) -> None:
    async with connect(server, "legacy") as client:
        notes = await _listed(client, "Daily note")
    assert set(notes) == _week_ending(today)


async def test_append_to_daily_note_of_a_given_day(
    server: MCPServer[Any], today: dt.date, process_time_zone: TimeZone
) -> None:
    """Yesterday: 28 February on the leap day, last year's 31 December on New Year's Day."""
    yesterday = today - DAY
    entry = f"Dated entry, process in {process_time_zone.name}"
    async with connect(server, "legacy") as client:
        result = await client.call_tool(
            "append_to_daily_note", {"markdown": entry, "date": yesterday.isoformat(), "no_timestamp": True}
        )
        assert not result.is_error, text_of(result)
        notes = await _listed(client, "Daily note")
        text = await _daily_note_text(client, notes, yesterday)
    assert result.structured_content == {"date": yesterday.isoformat(), "accepted": True}
    assert entry in text
    assert set(notes) == _week_ending(today)  # no note for a shifted day


async def test_append_to_daily_note_without_a_day_lands_on_the_clocks_today(
    sandbox: SandboxServer, server: MCPServer[Any], today: dt.date, process_time_zone: TimeZone
) -> None:
    entry = f"Undated entry, process in {process_time_zone.name}"
    async with connect(server, "legacy") as client:
        before = sandbox.config.clock.now()
        result = await client.call_tool("append_to_daily_note", {"markdown": entry})
        after = sandbox.config.clock.now()
        assert not result.is_error, text_of(result)
        notes = await _listed(client, "Daily note")
        text = await _daily_note_text(client, notes, today)
    assert result.structured_content == {"date": "today", "accepted": True}
    assert set(notes) == _week_ending(today)  # no note for the process's local day
    # The entry, under a time heading in UTC (the clock's time, not the process's local time).
    stamps = {f"### {moment:%H:%M}\n\n{entry}" for moment in (before, after)}
    assert any(stamp in text for stamp in stamps), text


async def test_plan_week_prompt_carries_no_date_of_its_own(
    server: MCPServer[Any], today: dt.date, process_time_zone: TimeZone
) -> None:
    """The prompt leaves "this week" to the model and the tools, so no clock can make it stale."""
    day = today.isoformat()
    spec = next(spec for spec in load_prompt_specs() if spec.name == "plan_week")
    async with connect(server, "legacy") as client:
        default = await client.get_prompt("plan_week", {})
        given = await client.get_prompt("plan_week", {"week_of": day})
    default_text = default.messages[0].content.text  # type: ignore[union-attr]
    given_text = given.messages[0].content.text  # type: ignore[union-attr]
    assert default_text == render_template(spec, {})
    assert "Help me plan my week (the week of: this week)" in default_text
    assert re.findall(r"\d{4}-\d{2}-\d{2}", default_text) == []
    # A bare date reads as a week, not as "Help me plan 2026-12-07" (issue 11, item 10).
    assert f"Help me plan my week (the week of: {day}) from the open tasks" in given_text
    assert re.findall(r"\d{4}-\d{2}-\d{2}", given_text) == [day]
