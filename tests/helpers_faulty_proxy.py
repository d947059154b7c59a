"""An HTTP proxy on loopback that lets a write through, then breaks the answer.

    with FaultyProxy(sandbox.base_url) as proxy:
        client = CapacitiesClient(api_token=..., base_url=proxy.base_url)
        proxy.fault = "503"       # every write now reaches the sandbox, the client gets a 503

Between a client and a real sandbox, it reproduces what no in-process fake can: the API applied
the request and the answer was lost on the way back. Faults (`FAULTS`), for the requests that
`breaks(method, path)` selects (by default the writes):

* after forwarding: `drop` (close without an answer), `stall` (no answer for `stall_seconds`,
  past the client's read timeout), `502` (an HTML page), `503` (the API's error body,
  `Retry-After: 1`), `504` (empty), `truncated_200` (half the body, with a matching
  Content-Length: unreadable JSON), `cut_200` (full Content-Length, half the body, then close);
* without forwarding, so provably nothing changed: `refuse_400` (the API's invalid-input error)
  and `refuse_429` (the API's rate-limit error, `Retry-After: 0.05`).

`forwarded` records every request that reached the sandbox. One request per connection
(`Connection: close`), one thread per connection; server tests can reuse it as is.
"""

from __future__ import annotations

import http.client
import json
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, BinaryIO
from urllib.parse import urlsplit

AFTER_FORWARDING = ("drop", "stall", "502", "503", "504", "truncated_200", "cut_200")
WITHOUT_FORWARDING = ("refuse_400", "refuse_429")
FAULTS = AFTER_FORWARDING + WITHOUT_FORWARDING
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass(frozen=True)
class ProxiedRequest:
    method: str
    target: str  # path and query
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    cut_in_half: bool = False  # declare the whole body, send half, close
    silent_for: float = 0.0  # say nothing for this long, then close


def _is_write(method: str, path: str) -> bool:
    return method != "GET" and path != "/objects/search"


def _api_error(status: int, reason: str, code: str, message: str, **headers: str) -> _Answer:
    body = json.dumps({"code": code, "message": message}).encode()
    return _Answer(status, reason, [("Content-Type", "application/json"), *headers.items()], body)


class FaultyProxy:
    """A loopback HTTP/1.1 proxy to `upstream_url` that breaks selected answers (see module doc)."""

    def __init__(self, upstream_url: str, *, breaks: Callable[[str, str], bool] = _is_write) -> None:
        parts = urlsplit(upstream_url)
        assert parts.hostname is not None and parts.port is not None
        self._upstream = (parts.hostname, parts.port)
        self.breaks = breaks
        self.fault: str | None = None
        self.stall_seconds = 2.0
        self.forwarded: list[ProxiedRequest] = []
        self._lock = threading.Condition()
        self._in_flight = 0
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def forwarded_with(self, marker: str) -> int:
        """How many requests whose body contains `marker` reached the upstream.

        First waits for connections still being handled (a client that timed out does not wait
        for its request to be forwarded; the test must).
        """
        with self._lock:
            assert self._lock.wait_for(lambda: self._in_flight == 0, timeout=30), "proxy stuck"
            return sum(marker.encode() in request.body for request in self.forwarded)

    def _arrived(self) -> None:
        with self._lock:
            self._in_flight += 1

    def _settled(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._lock.notify_all()

    def answer(self, request: ProxiedRequest) -> _Answer | None:
        """What the client gets for `request`; None: the connection is closed without an answer."""
        fault = self.fault if self.fault is not None and self.breaks(request.method, request.path) else None
        if fault == "refuse_400":
            return _api_error(400, "Bad Request", "cap_invalid_input", "Refused by the proxy")
        if fault == "refuse_429":
            return _api_error(
                429, "Too Many Requests", "cap_rate_limit_exceeded", "Rate limit", **{"Retry-After": "0.05"}
            )
        upstream = self._forward(request)
        if fault == "stall":
            return _Answer(0, "", [], b"", silent_for=self.stall_seconds)
        return _break(fault, upstream) if fault is not None else upstream

    def _forward(self, request: ProxiedRequest) -> _Answer:
        connection = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            headers = {k: v for k, v in request.headers if k.lower() not in _HOP_BY_HOP}
            connection.request(request.method, request.target, body=request.body or None, headers=headers)
            response = connection.getresponse()
            body = response.read()
            with self._lock:
                self.forwarded.append(request)
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            return _Answer(response.status, response.reason, kept, body)
        finally:
            connection.close()


def _break(fault: str, upstream: _Answer) -> _Answer | None:
    if fault == "drop":
        return None
    if fault == "502":
        return _Answer(502, "Bad Gateway", [("Content-Type", "text/html")], b"<html>502 Bad Gateway</html>")
    if fault == "503":
        return _api_error(
            503, "Service Unavailable", "cap_service_unavailable", "Unavailable", **{"Retry-After": "1"}
        )
    if fault == "504":
        return _Answer(504, "Gateway Timeout", [], b"")
    if fault == "truncated_200":
        return _Answer(
            upstream.status, upstream.reason, upstream.headers, upstream.body[: len(upstream.body) // 2]
        )
    if fault == "cut_200":
        return _Answer(upstream.status, upstream.reason, upstream.headers, upstream.body, cut_in_half=True)
    raise AssertionError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: FaultyProxy

    def process_request(self, request: Any, client_address: Any) -> None:
        self.proxy._arrived()  # on accept, before the handler thread even starts
        super().process_request(request, client_address)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        try:
            request = _read_request(self.rfile)
            answer = self.server.proxy.answer(request) if request is not None else None
        finally:
            self.server.proxy._settled()
        if answer is None:
            return  # closing the socket is the whole answer
        if answer.silent_for:
            threading.Event().wait(answer.silent_for)
            return
        _write_answer(self.wfile, answer)


def _read_request(stream: BinaryIO) -> ProxiedRequest | None:
    request_line = stream.readline(65536).decode("latin-1").strip()
    if not request_line:
        return None
    method, target, _version = request_line.split(" ", 2)
    headers: list[tuple[str, str]] = []
    while True:
        line = stream.readline(65536).decode("latin-1")
        if line in ("\r\n", "\n", ""):
            break
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
    return ProxiedRequest(method, target, headers, stream.read(length) if length else b"")


def _write_answer(stream: BinaryIO, answer: _Answer) -> None:
    head = [f"HTTP/1.1 {answer.status} {answer.reason}"]
    head += [f"{name}: {value}" for name, value in answer.headers]
    head += [f"Content-Length: {len(answer.body)}", "Connection: close", "", ""]
    body = answer.body[: len(answer.body) // 2] if answer.cut_in_half else answer.body
    stream.write("\r\n".join(head).encode("latin-1") + body)
    stream.flush()
