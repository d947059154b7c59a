"""Whether the configured credentials work: checked soon after start, then kept current.

Why: with a bogus token or a wrong URL the server used to start without a word and fail each call
after a second of retries. Now the runtime checks the credentials in the background right after
start (never before the MCP handshake), logs one line, and this state feeds three places: the
server's instructions, ONE notice line in each tool result while a problem stands, and the tool
list (a token without api:write loses the write tools, announced with tools/list_changed).

After the check, every answer of the API keeps the state current (the client's observer hook):
a success clears a problem, a 401 or a refused connection brings one back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import anyio

from capacities_mcp._environment import ENV_API_TOKEN, ENV_API_URL
from capacities_mcp.api import CapacitiesApiError, CapacitiesConnectionError, CapacitiesOAuthError

if TYPE_CHECKING:
    from capacities_mcp.api import CapacitiesError, Route

    from ._state import SpaceCache

__all__ = ["PROBLEMS", "Connection", "Status"]

_log = logging.getLogger("capacities_mcp.server")

Status = Literal["unchecked", "checking", "ok", "rejected", "forbidden", "unreachable", "failed"]
PROBLEMS: frozenset[str] = frozenset({"rejected", "forbidden", "unreachable", "failed"})

# The error codes whose own text already names each problem (no notice line on top of them);
# a failed check is named by the code it failed with.
_NAMED_BY = {
    "rejected": frozenset({"cap_not_authenticated", "oauth_error"}),
    "forbidden": frozenset({"cap_scope_insufficient"}),
    "unreachable": frozenset({"cap_connection_error"}),
}
_SIGN_IN = f"set a valid {ENV_API_TOKEN} or run 'capacities-mcp auth login'"
WRITE_SCOPE = "api:write"
WRITE_SCOPE_ADVICE = (
    f"Tell the user; writing needs a token with {WRITE_SCOPE} (Capacities → Settings → Capacities API) "
    "or signing in again with write access."
)
"""The next step whenever a write is refused for want of the write scope."""


@dataclass
class Connection:
    """The credentials' state for one client; `problem` is one line with the next step."""

    url: str
    status: Status = "unchecked"
    problem: str | None = None
    space_title: str | None = None
    writes_refused: bool = False
    writes_reason: str | None = None
    # Log each change of status (off for the embedded sandbox, which says what it is itself).
    log_changes: bool = True
    _listeners: list[Callable[[Connection], None]] = field(default_factory=list, repr=False)
    _tools_changed: bool = False
    _failed_with: str | None = None
    _checked: anyio.Event | None = field(default=None, repr=False)

    # --- what the tools read -------------------------------------------------------------------

    def notice(self, error_code: str | None = None) -> str | None:
        """The line a tool result carries while a problem stands; None when the result's own
        error (`error_code`) already names it, or when there is none."""
        if self.status not in PROBLEMS or self.problem is None:
            return None
        named_by = _NAMED_BY.get(self.status, frozenset({self._failed_with}))
        if error_code is not None and error_code in named_by:
            return None
        return f"Capacities connection problem: {self.problem}"

    def take_tools_changed(self) -> bool:
        """True once after the tool list changed (the caller announces it to its client)."""
        changed, self._tools_changed = self._tools_changed, False
        return changed

    def on_change(self, listener: Callable[[Connection], None]) -> None:
        """Call `listener` after every change of status or of the write refusal."""
        self._listeners.append(listener)

    async def wait_checked(self) -> None:
        """Until the start-up check has an answer (tests, and callers that want to know)."""
        if self.status in ("unchecked", "checking"):
            await self._event().wait()

    # --- what changes it -----------------------------------------------------------------------

    def refuse_writes(self, reason: str, *, announce: bool = True) -> bool:
        """Writes cannot work with these credentials; True when this is news.

        `announce`: tell connected clients (tools/list_changed); off when known before any
        client could have listed the tools.
        """
        if self.writes_refused:
            return False
        self.writes_refused, self.writes_reason, self._tools_changed = True, reason, announce
        _log.warning("write tools withdrawn: %s", reason)
        self._changed()
        return True

    async def check(self, space: SpaceCache) -> None:
        """The start-up check: `GET /space` (+ structures), which also warms the space cache."""
        self.status = "checking"
        try:
            snapshot = await space.get()
        except anyio.get_cancelled_exc_class():
            self.status = "unchecked"  # the holder left first: the next one checks again
            raise
        except Exception as exc:  # every failure is a state, none escapes the background task
            self._failed_with = exc.code if isinstance(exc, CapacitiesApiError) else None
            self._set(*(_judge(exc, self.url, read=True) or ("failed", _failed(exc, self.url))))
        else:
            self.space_title = snapshot.space.title
            self._set("ok", None)
        self._event().set()

    async def observe(self, route: Route, _model: Any, _result: Any, error: CapacitiesError | None) -> None:
        """The client's observer: each answer keeps the state current after the check."""
        if (
            isinstance(error, CapacitiesApiError)
            and error.status == 403
            and not route.is_read
            and WRITE_SCOPE in (error.missing_scopes or [WRITE_SCOPE])
        ):
            self.refuse_writes(f"the token lacks {WRITE_SCOPE} (Capacities answered 403 to {route.name})")
            return
        if self.status in ("unchecked", "checking"):
            return  # the check decides the first state (and logs it once)
        if error is None:
            if self.status in PROBLEMS:
                self._set("ok", None)
            return
        judged = _judge(error, self.url, read=route.is_read)
        if judged is not None:
            self._set(*judged)

    def _set(self, status: Status, problem: str | None) -> None:
        if status == self.status and problem == self.problem:
            return
        self.status, self.problem = status, problem
        if self.log_changes:
            _log_status(self)
        self._changed()

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:
                _log.warning("a connection listener failed", exc_info=True)

    def _event(self) -> anyio.Event:
        if self._checked is None:
            self._checked = anyio.Event()
        return self._checked


def _judge(exc: BaseException, url: str, *, read: bool) -> tuple[Status, str] | None:
    """(status, problem line) for failures that say something about the credentials or the URL."""
    if isinstance(exc, CapacitiesOAuthError):
        return "rejected", f"signing in to Capacities failed ({exc.error or exc.status}); {_SIGN_IN}."
    if isinstance(exc, CapacitiesConnectionError):
        if exc.request_sent:
            return None  # a timeout or a dropped answer: the network hiccuped, the URL may be fine
        cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else "no connection"
        return (
            "unreachable",
            f"could not reach the Capacities API at {url} ({cause}); check {ENV_API_URL} and the network.",
        )
    if isinstance(exc, CapacitiesApiError) and exc.status == 401:
        return "rejected", f"the Capacities API at {url} rejected the token (401); {_SIGN_IN}."
    if isinstance(exc, CapacitiesApiError) and exc.status == 403 and read:
        return "forbidden", f"the token may not read this space (403, lacks api:read); {_SIGN_IN}."
    return None


def _failed(exc: BaseException, url: str) -> str:
    what = f"{exc.status} {exc.code}" if isinstance(exc, CapacitiesApiError) else type(exc).__name__
    return f"the start-up check of the Capacities API at {url} failed ({what}); calls may fail too."


def _log_status(connection: Connection) -> None:
    if connection.status == "ok":
        space = f'space "{connection.space_title}"' if connection.space_title else "it answers again"
        _log.info("connected to the Capacities API at %s: %s", connection.url, space)
    elif connection.status == "failed":
        _log.warning("%s", connection.problem)
    elif connection.problem is not None:
        _log.error("%s", connection.problem[:1].upper() + connection.problem[1:])
