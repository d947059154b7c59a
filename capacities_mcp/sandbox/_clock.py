"""The sandbox's one clock: everything date-relative (seed dates, daily notes, timestamps) asks it.

Injectable so tests can run the demo space on any day (a leap day, New Year's Eve at 23:30 UTC)
without touching the process clock. The sandbox works in UTC throughout, whatever the process
time zone.
"""

from __future__ import annotations

import datetime as dt
import time

__all__ = ["Clock"]


class Clock:
    """Now, in UTC; from the system clock, or running on from a chosen instant.

    `Clock()` follows the system clock. `Clock.starting_at(instant)` starts at `instant` and
    advances in real time, so timestamps taken during a test still increase.
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("Clock.starting_at needs an aware datetime (for example with tzinfo=UTC)")
        self._start = start.astimezone(dt.UTC) if start is not None else None
        self._started = time.monotonic()

    @classmethod
    def starting_at(cls, instant: dt.datetime) -> Clock:
        return cls(instant)

    def now(self) -> dt.datetime:
        if self._start is None:
            return dt.datetime.now(dt.UTC)
        return self._start + dt.timedelta(seconds=time.monotonic() - self._started)

    def today(self) -> dt.date:
        """The current UTC day (the sandbox's "today", as Capacities' is the account's day)."""
        return self.now().date()

    def now_iso(self) -> str:
        """Now as the API writes timestamps: UTC, milliseconds, `Z`."""
        return self.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def __repr__(self) -> str:
        return "Clock()" if self._start is None else f"Clock.starting_at({self._start.isoformat()})"
