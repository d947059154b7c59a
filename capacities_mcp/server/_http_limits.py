"""Bounds on what one HTTP client can hold: sessions, idle time, header and body read time.

Without them any local process could open sessions until memory ran out (10,000 in 18 s, after
which every new client got 503 for half an hour), or park hundreds of connections on half a
header or half a body forever. Each bound is a setting (`--max-sessions`,
`--session-idle-timeout`, `--header-timeout`, `--body-timeout`):

* streamable HTTP sessions: the SDK's own `max_sessions` and idle timeout, plus
  `evict_longest_idle_sessions`: at the limit a new client ends the longest-idle session
  instead of being refused (the SDK alone answers 503 until one expires);
* SSE sessions (one open stream each): `SseSessionLimit`, the same two rules for streams;
* request headers: `header_timeout_protocol`, because uvicorn arms no timer before the first
  request of a connection and cancels its keep-alive timer on any byte received;
* request bodies: `BodyReadTimeout`, answering 408 when a body is not complete in time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyReadTimeout", "SseSessionLimit", "evict_longest_idle_sessions", "header_timeout_protocol"]

_log = logging.getLogger("capacities_mcp.server")

_TIMEOUT_408 = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 33\r\nconnection: close\r\n\r\nThe request was not sent in time."
)


_NOTICE_INTERVAL = 60.0
_last_notice: dict[str, float] = {}


def _notice(event: str) -> None:
    """A warning when a limit starts to bite, then at most once a minute per kind of event.

    Under a flood the limits act thousands of times a second; a line each would flood the log.
    """
    now = time.monotonic()
    if now - _last_notice.get(event, -math.inf) >= _NOTICE_INTERVAL:
        _last_notice[event] = now
        _log.warning("capacities-mcp: %s", event)


# --- streamable HTTP sessions -------------------------------------------------------------------


def evict_longest_idle_sessions(manager: Any) -> bool:
    """Make the SDK session manager end its longest-idle session when a new one would not fit.

    Hooks the manager's admission step (private SDK API, checked here: without it the SDK's own
    behaviour, 503 at the limit, stays and a warning says so). A session with a request in
    flight (an open GET stream included) is never evicted; if every session is busy, the new
    client still gets 503. The evicted session ends as an idle timeout would end it: its id
    answers 404 from then on and its client starts a new session.
    """
    admit = getattr(manager, "_admit_session", None)
    sessions = getattr(manager, "_server_instances", None)
    owners = getattr(manager, "_session_owners", {})
    limit = getattr(manager, "max_sessions", None)
    if admit is None or not isinstance(sessions, dict) or limit is None:
        _log.warning("capacities-mcp: this MCP SDK cannot evict idle sessions; at the limit new ones get 503")
        return False

    def admit_with_eviction(requestor: Any) -> Any:
        if len(sessions) >= limit:
            _evict_one(sessions, owners)
        return admit(requestor)

    manager._admit_session = admit_with_eviction
    return True


def _evict_one(sessions: dict[str, Any], owners: dict[str, Any]) -> None:
    idle = [
        (transport.idle_scope.deadline, session_id)
        for session_id, transport in sessions.items()
        if getattr(transport, "idle_scope", None) is not None
        and getattr(transport, "_requests_in_flight", 1) == 0
        and math.isfinite(transport.idle_scope.deadline)
    ]
    if not idle:
        return
    _, session_id = min(idle)
    transport = sessions.pop(session_id)
    owners.pop(session_id, None)
    transport.idle_scope.cancel()  # its server task ends and terminates the transport
    _notice("session limit reached: new sessions end the longest-idle ones")


# --- SSE sessions ---------------------------------------------------------------------------------


class SseSessionLimit:
    """At most `max_sessions` open SSE streams, each closed after `idle_timeout` without a message.

    Activity is a message sent on the stream (every answer to the client goes there), not the
    keep-alive comments the SSE library sends by itself. At the limit, a new stream closes the
    longest-idle one.
    """

    def __init__(self, app: ASGIApp, *, path: str, max_sessions: int, idle_timeout: float) -> None:
        self.app = app
        self._path = path
        self._max = max_sessions
        self._idle = idle_timeout
        self._streams: set[anyio.CancelScope] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != self._path:
            await self.app(scope, receive, send)
            return
        if len(self._streams) >= self._max:
            oldest = min(self._streams, key=lambda stream: stream.deadline)
            self._streams.discard(oldest)
            oldest.cancel()
            _notice("SSE session limit reached: new streams end the longest-idle ones")
        finished = False

        async def tracked_send(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.body":
                finished = not message.get("more_body", False)
                if not message.get("body", b"").startswith(b":"):  # ":" starts an SSE comment
                    stream.deadline = anyio.current_time() + self._idle
            await send(message)

        with anyio.CancelScope(deadline=anyio.current_time() + self._idle) as stream:
            self._streams.add(stream)
            try:
                await self.app(scope, receive, tracked_send)
            finally:
                self._streams.discard(stream)
        if stream.cancelled_caught and not finished:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


# --- request bodies -------------------------------------------------------------------------------


class BodyReadTimeout:
    """408 (and the connection closed) when a request body is not complete `seconds` after its start.

    One deadline for the whole body, not per read: a client trickling a byte now and then must
    not hold the connection open. Once the body is complete `receive()` is not limited, since
    streaming responses wait on it for the client's disconnect.
    """

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self._seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = anyio.current_time() + self._seconds
        body_complete = False
        timed_out = False
        response_started = False

        async def timed_receive() -> Message:
            nonlocal body_complete, timed_out
            if body_complete:
                return await receive()
            with anyio.move_on_at(deadline):
                message = await receive()
                body_complete = message["type"] != "http.request" or not message.get("more_body", False)
                return message
            timed_out = True
            request.cancel()
            await anyio.lowlevel.checkpoint()  # raises the cancellation
            raise AssertionError("unreachable: the request scope was cancelled")

        async def tracked_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        with anyio.CancelScope() as request:
            await self.app(scope, timed_receive, tracked_send)
        if timed_out and not response_started:
            _notice("request bodies not complete in time are answered 408")
            await _send_408(send)


async def _send_408(send: Send) -> None:
    body = b"The request body was not sent in time."
    await send(
        {
            "type": "http.response.start",
            "status": 408,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- request headers ------------------------------------------------------------------------------


def header_timeout_protocol(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing connections that do not send complete headers in time.

    The deadline starts when the connection opens and again after each response, and is not
    pushed back by bytes that arrive: half a header sent slowly is still half a header.
    """

    class HeaderTimeoutProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_header_timer()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self._arm_header_timer()

        def _arm_header_timer(self) -> None:
            self._disarm_header_timer()
            self._header_timer = self.loop.call_later(seconds, self._on_header_timeout)

        def _disarm_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _on_header_timeout(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.write(_TIMEOUT_408)
                self.transport.close()

    return HeaderTimeoutProtocol
