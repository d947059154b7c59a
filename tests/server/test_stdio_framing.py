"""Every message on stdio gets an answer (issue 10, item 5).

The SDK's stdio reader dropped malformed lines without a word, and read a request with a float,
object or null id as a notification: the client waited for its timeout. The real command runs
here with raw lines written to its stdin; each malformed line must get exactly one JSON-RPC error
(-32700 for what is not JSON, -32600 otherwise, on the request's id when it has a valid one), and
the server must still answer the next valid request. Valid lines that need no answer
(notifications, a client's response, a blank line) must still get none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from capacities_mcp.sandbox import SandboxServer

from .helpers_process import sandbox_env, stdio_params
from .helpers_stdio import RawStdio, raw_stdio_server

PARSE_ERROR = -32700
INVALID_REQUEST = -32600


def _call(request_id: Any, arguments: Any, **envelope: Any) -> str:
    message = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call"}
    message["params"] = {"name": "search_objects", "arguments": arguments}
    message.update(envelope)
    return json.dumps(message)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# (name, raw line, expected code, expected id)
MALFORMED: list[tuple[str, str | bytes, int, Any]] = [
    ("truncated JSON", '{"jsonrpc": "2.0", "id": 1, "method": "ping"', PARSE_ERROR, None),
    ("not JSON", "hello server", PARSE_ERROR, None),
    ("invalid UTF-8", b'\xff\xfe{"jsonrpc": "2.0", "id": 2, "method": "ping"}', PARSE_ERROR, None),
    ("trailing garbage", '{"jsonrpc": "2.0", "id": 3, "method": "ping"} x', PARSE_ERROR, None),
    ("batch", json.dumps([{"jsonrpc": "2.0", "id": 4, "method": "ping"}]), INVALID_REQUEST, 4),
    ("empty batch", "[]", INVALID_REQUEST, None),
    ("JSON scalar", "42", INVALID_REQUEST, None),
    ("jsonrpc 1.0", json.dumps({"jsonrpc": "1.0", "id": 5, "method": "ping"}), INVALID_REQUEST, 5),
    ("no jsonrpc", json.dumps({"id": 6, "method": "ping"}), INVALID_REQUEST, 6),
    (
        "array params",
        json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": [1]}),
        INVALID_REQUEST,
        7,
    ),
    (
        "string params",
        json.dumps({"jsonrpc": "2.0", "id": 8, "method": "tools/list", "params": "all"}),
        INVALID_REQUEST,
        8,
    ),
    ("float id", json.dumps({"jsonrpc": "2.0", "id": 9.5, "method": "ping"}), INVALID_REQUEST, None),
    ("null id", json.dumps({"jsonrpc": "2.0", "id": None, "method": "ping"}), INVALID_REQUEST, None),
    ("object id", json.dumps({"jsonrpc": "2.0", "id": {"n": 10}, "method": "ping"}), INVALID_REQUEST, None),
    ("boolean id", json.dumps({"jsonrpc": "2.0", "id": True, "method": "ping"}), INVALID_REQUEST, None),
    ("method not a string", json.dumps({"jsonrpc": "2.0", "id": 11, "method": 11}), INVALID_REQUEST, 11),
    ("neither request nor response", json.dumps({"jsonrpc": "2.0", "id": 12}), INVALID_REQUEST, 12),
    (
        "invalid notification",
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized", "params": [1]}),
        INVALID_REQUEST,
        None,
    ),
    ("lone surrogate", _call(13, {"query": "\ud800"}), INVALID_REQUEST, 13),
    ("reversed surrogate pair", _call(14, {"query": "\udc00\ud800"}), INVALID_REQUEST, 14),
    ("nested 300 deep", _call(15, {"query": "x", "extra": json.loads(_nested(300))}), INVALID_REQUEST, 15),
    ("nested 5,000 deep", _call(16, {"query": "x"}).replace('"x"', _nested(5000)), INVALID_REQUEST, 16),
    ("5,000-digit number", _call(17, {"query": "x"}).replace('"x"', "9" * 5000), INVALID_REQUEST, 17),
    (
        "string id, bad version",
        json.dumps({"jsonrpc": 2, "id": "s-18", "method": "ping"}),
        INVALID_REQUEST,
        "s-18",
    ),
]

# Valid lines the server must stay silent on.
UNANSWERED: list[tuple[str, str]] = [
    ("blank line", "   "),
    ("notification", json.dumps({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"})),
    ("client response", json.dumps({"jsonrpc": "2.0", "id": 424242, "result": {}})),
    (
        "client error response",
        json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -1, "message": "client side"}}),
    ),
]


@pytest.fixture(scope="module")
def server(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawStdio]:
    """One server for every case: a malformed line must not cost the connection either."""
    with raw_stdio_server(sandbox_env(sandbox, tmp_path_factory.mktemp("framing"))) as raw:
        raw.handshake()
        yield raw
    assert not raw.garbage


def _replies_before_ping(server: RawStdio, line: str | bytes, ping_id: str) -> list[dict[str, Any]]:
    """What the line got: every reply before the answer to a ping sent right after it."""
    server.send(line)
    server.send_message({"jsonrpc": "2.0", "id": ping_id, "method": "ping"})
    *before, ping = server.replies_through(ping_id)
    assert ping == {"jsonrpc": "2.0", "id": ping_id, "result": {}}
    return before


@pytest.mark.parametrize(
    ("line", "code", "request_id"), [case[1:] for case in MALFORMED], ids=[c[0] for c in MALFORMED]
)
def test_a_malformed_line_gets_exactly_one_error(
    server: RawStdio, line: str | bytes, code: int, request_id: Any
) -> None:
    replies = _replies_before_ping(server, line, ping_id=f"after-{code}-{request_id}")
    assert len(replies) == 1, replies
    (reply,) = replies
    assert reply["id"] == request_id and reply["error"]["code"] == code, reply
    assert "result" not in reply and reply["error"]["message"]


@pytest.mark.parametrize("line", [case[1] for case in UNANSWERED], ids=[case[0] for case in UNANSWERED])
def test_valid_lines_that_need_no_answer_get_none(server: RawStdio, line: str) -> None:
    assert _replies_before_ping(server, line, ping_id="after-silence") == []


def test_the_error_does_not_echo_the_input(server: RawStdio) -> None:
    """The caller's data stays out of the error message (it may be huge, or private)."""
    secret = "private-" + "x" * 10_000
    (reply,) = _replies_before_ping(server, _call(19, {"query": secret + "\ud800"}), ping_id="after-echo")
    assert reply["id"] == 19 and "private-" not in reply["error"]["message"]
    assert len(reply["error"]["message"]) < 300


def test_a_valid_request_between_malformed_ones_is_answered_normally(server: RawStdio) -> None:
    server.send("{not json")
    result = server.request("tools-after-garbage", "tools/list")
    assert any(tool["name"] == "search_objects" for tool in result["result"]["tools"])


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_sdk_client_gets_an_error_not_a_timeout(
    sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory, mode: str
) -> None:
    """Arguments nested past the parser's depth: the official client sees an error at once."""
    env = sandbox_env(sandbox, tmp_path_factory.mktemp("client"))
    deep: Any = "bottom"
    for _ in range(230):
        deep = [deep]
    async with Client(stdio_params(env), mode=mode) as client:
        with anyio.fail_after(20), pytest.raises(MCPError) as raised:
            await client.call_tool("search_objects", {"query": "x", "extra": deep})
        assert raised.value.code == INVALID_REQUEST
        hits = await client.call_tool("search_objects", {"query": "Sourdough"})
        assert not hits.is_error
