"""`append_to_daily_note`: the quick-capture path (journal entries, meeting jots, links)."""

from __future__ import annotations

from pydantic import Field

from capacities_mcp.api import Issue
from capacities_mcp.api.models import MARKDOWN_MAX_LENGTH, daily_note_title

from .._errors import ToolInputError
from ._common import unlinked_note, with_full_links
from ._properties import parse_date
from ._registry import ToolCall, ToolInput, ToolOutput, ToolReply, ToolSpec, hints

__all__ = ["SPECS"]


class AppendToDailyNoteInput(ToolInput):
    markdown: str = Field(min_length=1, max_length=MARKDOWN_MAX_LENGTH, description="The entry, as Markdown.")
    date: str | None = Field(
        default=None, max_length=40, description="The day, YYYY-MM-DD (or an ISO date-time); default today."
    )
    no_timestamp: bool = Field(default=False, description="true: no automatic time heading before the entry.")


class AppendToDailyNoteOutput(ToolOutput):
    date: str = Field(description='The day written to, YYYY-MM-DD, or "today" when no date was given.')
    accepted: bool


def _day(text: str | None) -> str | None:
    """The day as the API wants it (ISO 8601 at UTC midnight), or None for "today".

    "Today" is left to Capacities, which picks it in the account's time zone: a date computed
    here (in UTC, or in the server's zone) can name yesterday or tomorrow near midnight.
    """
    if text is None or not text.strip():
        return None
    try:
        value, _ = parse_date(text)
    except ValueError as exc:
        raise ToolInputError("The date is not valid:", issues=[Issue.at("date", str(exc))]) from exc
    return daily_note_title(value)


async def append_to_daily_note(call: ToolCall, args: AppendToDailyNoteInput) -> ToolReply:
    day = _day(args.date)
    unlinked = await unlinked_note(call.state, args.markdown)
    await call.state.client.blocks.daily_note.append(
        date=day,
        no_time_stamp=args.no_timestamp or None,
        markdown=await with_full_links(call.state, args.markdown),
    )
    # Some daily note (its id unknown here) gets new blocks a little later.
    call.state.content.forget_block_ids()
    which = (
        f"the daily note of {day[:10]}" if day else "today's daily note (today in the account's time zone)"
    )
    text = (
        f"Accepted for {which}. Capacities processes daily-note appends "
        "asynchronously: the entry appears within seconds to minutes, so it may not be visible "
        "yet. Do not send it again." + unlinked
    )
    return ToolReply(text, AppendToDailyNoteOutput(date=day[:10] if day else "today", accepted=True))


APPEND_TO_DAILY_NOTE = ToolSpec(
    name="append_to_daily_note",
    title="Add to a daily note",
    description=(
        "Append Markdown to a day's daily note (default today). Capacities applies it "
        "asynchronously: visible shortly after."
    ),
    input_model=AppendToDailyNoteInput,
    output_model=AppendToDailyNoteOutput,
    handler=append_to_daily_note,
    annotations=hints(read_only=False, idempotent=False),
)

SPECS = (APPEND_TO_DAILY_NOTE,)
