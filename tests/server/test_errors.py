"""Every failure becomes a tool error that says what happened and what to do, never a crash.

End to end through a real MCP client and the sandbox over HTTP (faults, scopes, quotas, OAuth,
dead ports), plus unit tests of the mapping for cases a sandbox cannot produce.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from capacities_mcp.api import (
    CapacitiesApiError,
    CapacitiesConnectionError,
    CapacitiesOAuthError,
    CapacitiesValidationError,
    Issue,
    OAuthCredential,
    OAuthTokens,
)
from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server._errors import PartialWrite, ToolInputError, describe, redact, tool_error
from capacities_mcp.server._state import LookupFailed
from capacities_mcp.server.tools import ToolCatalog
from capacities_mcp.server.tools._registry import ToolInput, ToolOutput, ToolSpec, hints

from .helpers import (
    MISSING_ID,
    MODES,
    TASK_ID,
    WELCOME_ID,
    connect,
    error_of,
    everything,
    running_sandbox,
    text_of,
    tool_server,
)

each_mode = pytest.mark.parametrize("mode", MODES)


@pytest.fixture
def faulty() -> Iterator[SandboxServer]:
    """A sandbox of its own, since its fault switches affect every caller."""
    with running_sandbox() as sb:
        yield sb


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- API errors, end to end ------------------------------------------------------------------


@each_mode
async def test_unknown_id_is_404_with_next_step(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        results = [
            await client.call_tool("get_object", {"id": MISSING_ID}),
            await client.call_tool("append_blocks", {"id": MISSING_ID, "markdown": "x"}),
            await client.call_tool("delete_object", {"id": MISSING_ID}),
            await client.call_tool("delete_block", {"id": TASK_ID, "block_id": MISSING_ID}),
        ]
    for result in results:
        error = error_of(result)
        assert error["code"] == "cap_not_found" and error["status"] == 404
        assert error["message"]  # the API's own words are kept
        assert "search_objects" in text_of(result)


@each_mode
async def test_read_only_token_gets_403_naming_the_scope(sandbox: SandboxServer, mode: str) -> None:
    token = sandbox.mint_token(scopes=("api:read",))
    server, _ = tool_server(sandbox, token=token)
    async with connect(server, mode) as client:
        readable = await client.call_tool("get_object", {"id": TASK_ID})
        results = [
            await client.call_tool("create_object", {"structure": "Page", "title": "nope"}),
            await client.call_tool("append_to_daily_note", {"markdown": "nope"}),
            await client.call_tool("update_object", {"id": TASK_ID, "properties": {"Status": "Done"}}),
        ]
    assert not readable.is_error
    # The first 403 withdraws the write tools: later writes are refused here, with the same error.
    for result, status in zip(results, (403, None, None), strict=True):
        error = error_of(result)
        assert error["code"] == "cap_scope_insufficient" and error["status"] == status
        assert error["missing_scopes"] == ["api:write"]
        assert "lacks api:write" in text_of(result)
        assert token not in everything(result)


async def test_revoked_token_gets_401_with_sign_in_hint(sandbox: SandboxServer) -> None:
    token = sandbox.mint_token(scopes=("api:read", "api:write"))
    sandbox.revoke_token(token)
    server, _ = tool_server(sandbox, token=token)
    async with connect(server, "legacy") as client:
        result = await client.call_tool("get_space", {})
    error = error_of(result)
    assert error["code"] == "cap_not_authenticated" and error["status"] == 401
    assert "capacities-mcp auth login" in text_of(result)
    assert token not in everything(result)


@each_mode
async def test_rate_limit_says_when_to_retry(mode: str) -> None:
    with running_sandbox(rate_limit_window=60.0) as sb:
        server, _ = tool_server(sb)
        async with connect(server, mode) as client:
            results = [await client.call_tool("get_space", {"refresh": True}) for _ in range(12)]
            limited = [r for r in results if r.is_error]
            assert limited, "the 10/min quota of GET /space was never hit"
            error = error_of(limited[0])
            assert error["code"] == "cap_rate_limit_exceeded" and error["status"] == 429
            assert isinstance(error["retry_after"], (int, float)) and 0 < error["retry_after"] <= 60
            assert "retry after" in text_of(limited[0]).lower()
            # The cached copy still serves a plain get_space.
            cached = await client.call_tool("get_space", {})
            assert not cached.is_error


@each_mode
async def test_service_unavailable_and_server_error(faulty: SandboxServer, mode: str) -> None:
    server, _ = tool_server(faulty)
    async with connect(server, mode) as client:
        faulty.faults.status = 503
        unavailable = await client.call_tool("get_object", {"id": TASK_ID})
        faulty.faults.status = 500
        broken_read = await client.call_tool("create_object", {"structure": "Page", "title": "x"})
        faulty.faults.reset()
        assert not (await client.call_tool("get_space", {})).is_error  # structures cached now
        faulty.faults.status = 500
        broken_write = await client.call_tool(
            "create_object", {"structure": "Page", "title": "x", "allow_duplicate": True}
        )
        faulty.faults.reset()
        fine = await client.call_tool("get_object", {"id": TASK_ID})
    assert error_of(unavailable)["code"] == "cap_service_unavailable"
    assert error_of(unavailable)["status"] == 503 and "temporarily unavailable" in text_of(unavailable)
    assert error_of(unavailable)["maybe_applied"] is False  # a read changes nothing
    # The 500 answered the structure lookup (a read) before anything was written ...
    assert (
        error_of(broken_read)["code"] == "cap_server_error"
        and error_of(broken_read)["maybe_applied"] is False
    )
    # ... and here the write itself: it may have landed, so the model checks before retrying.
    assert (
        error_of(broken_write)["code"] == "cap_server_error"
        and error_of(broken_write)["maybe_applied"] is True
    )
    assert "check with get_object" in text_of(broken_write)
    assert "check with get_object" in error_of(broken_write)["next_step"]
    assert not fine.is_error


@each_mode
async def test_cloudflare_html_429_is_summarised(faulty: SandboxServer, mode: str) -> None:
    server, _ = tool_server(faulty)
    async with connect(server, mode) as client:
        faulty.faults.html_429 = True
        result = await client.call_tool("search_objects", {"query": "plan"})
        faulty.faults.reset()
    error = error_of(result)
    assert error["code"] == "cap_rate_limit_exceeded" and error["status"] == 429
    assert "<" not in text_of(result) and "HTML error page" in text_of(result)
    assert "1015" in text_of(result)


@each_mode
async def test_dropped_write_may_have_been_applied(faulty: SandboxServer, mode: str) -> None:
    server, _ = tool_server(faulty)
    async with connect(server, mode) as client:
        faulty.faults.drop_connection = True
        write = await client.call_tool("append_to_daily_note", {"markdown": "x"})
        read = await client.call_tool("search_objects", {"query": "plan"})
        faulty.faults.reset()
        after = await client.call_tool("get_space", {})
    error = error_of(write)
    assert error["code"] == "cap_connection_error" and error["maybe_applied"] is True
    assert "may or may not have been applied: check with get_object before retrying" in text_of(write)
    assert error_of(read)["maybe_applied"] is False
    assert not after.is_error


@each_mode
async def test_connection_refused(mode: str) -> None:
    server, _ = tool_server(token="cap-api-not-a-real-token", base_url=f"http://127.0.0.1:{_free_port()}")
    async with connect(server, mode) as client:
        result = await client.call_tool("get_space", {})
        again = await client.call_tool("search_objects", {"query": "x"})
    error = error_of(result)
    assert (
        error["code"] == "cap_connection_error" and error["status"] == 0 and error["maybe_applied"] is False
    )
    assert "Could not reach the Capacities API" in text_of(result) and "Nothing was changed" in text_of(
        result
    )
    assert "cap-api-not-a-real-token" not in everything(result)
    assert again.is_error  # still answering


@each_mode
async def test_oauth_refresh_failure_asks_to_sign_in_again(sandbox: SandboxServer, mode: str) -> None:
    credential = OAuthCredential(
        tokens=OAuthTokens("expired-access-token", "bogus-refresh-token", expires_at=time.time() - 100),
        client_id=sandbox.oauth_client_id,
    )
    server, _ = tool_server(sandbox, oauth=credential)
    async with connect(server, mode) as client:
        result = await client.call_tool("get_object", {"id": TASK_ID})
    error = error_of(result)
    assert error["code"] == "oauth_error"
    assert "sign in again: capacities-mcp auth login" in text_of(result).lower()
    assert "bogus-refresh-token" not in everything(result) and "expired-access-token" not in everything(
        result
    )


# --- bad inputs: always a clear tool error, and the server keeps answering -----------------------------


BAD_CALLS: list[tuple[str, dict[str, Any], str, str]] = [
    ("get_object", {"id": 123}, "id", "string"),
    ("get_object", {"id": "not-a-uuid"}, "id", "UUID"),
    ("get_object", {"id": TASK_ID, "max_tokens": 5}, "max_tokens", "greater than or equal to 500"),
    ("get_object", {"id": TASK_ID, "offset": -1}, "offset", "greater than or equal to 0"),
    ("get_object", {"id": TASK_ID, "format": "html"}, "format", "'markdown' or 'blocks'"),
    ("search_objects", {"query": ""}, "query", "at least 1 character"),
    ("search_objects", {"query": "x", "limit": 0}, "limit", "greater than or equal to 1"),
    ("search_objects", {"query": "x", "limit": "many"}, "limit", "valid integer"),
    ("search_objects", {"query": "x", "structure": "Bok"}, "structure", 'Did you mean "Book"'),
    ("list_objects", {}, "structure|tag|collection", "exactly one"),
    ("list_objects", {"structure": "Task", "tag": "Research"}, "structure|tag|collection", "exactly one"),
    ("list_objects", {"tag": "No such tag at all"}, "tag", "No tag titled"),
    ("list_objects", {"collection": "Nope"}, "collections", "No collection"),
    ("create_object", {"structure": "Bok", "title": "x"}, "structure", "Known structures"),
    (
        "create_object",
        {"structure": "Task", "title": "x", "properties": {"Status": "Doing"}},
        "properties.Status",
        "Options: Not started, In progress, Done",
    ),
    (
        "create_object",
        {"structure": "Task", "title": "x", "properties": {"Status": ["Done", "In progress"]}},
        "properties.Status",
        "takes one option",
    ),
    (
        "create_object",
        {"structure": "Task", "title": "x", "properties": {"Deadline": "next friday"}},
        "properties.Deadline",
        "not an ISO date",
    ),
    (
        "create_object",
        {"structure": "Task", "title": "x", "properties": {"Estimate": 3}},
        "properties.Estimate",
        "Writable properties",
    ),
    (
        "create_object",
        {"structure": "Book", "title": "x", "properties": {"Rating": "five"}},
        "properties.Rating",
        "expected a number",
    ),
    (
        "create_object",
        {"structure": "Task", "title": "x", "properties": {"Tags": ["No such tag"]}},
        "properties.Tags",
        "no object titled",
    ),
    (
        "create_object",
        {"structure": "Page", "title": "x", "properties": '{"broken json'},
        "properties",
        "valid list",
    ),
    (
        "append_blocks",
        {"id": TASK_ID, "markdown": "a", "blocks": [{"kind": "divider"}]},
        "markdown|blocks",
        "at most one",
    ),
    ("append_blocks", {"id": TASK_ID, "blocks": [{"kind": "Nope"}]}, "blocks[0].kind", "Input should be"),
    (
        "append_blocks",
        {"id": TASK_ID, "blocks": [{"kind": "text", "type": "x"}]},
        "blocks[0].type",
        "unknown field",
    ),
    (
        "append_blocks",
        {"id": TASK_ID, "blocks": [{"kind": "text", "depth": 1}]},
        "blocks[0].depth",
        "depth 1",
    ),
    (  # checked once, by the client against the API's block model
        "append_blocks",
        {"id": TASK_ID, "blocks": [{"kind": "bullet", "color": "blue"}]},
        "blocks[0].colorTheme",
        "color",
    ),
    ("create_object", {"structure": "Page", "title": "x", "blocks": []}, "blocks", "Unknown argument"),
    ("save_weblink", {"url": "https://example.com", "labels": ["x"]}, "labels", "It takes: url, title"),
    ("create_object", {"structure": "Daily note", "title": "x"}, "", "append_to_daily_note"),
    (
        "create_object",
        {"structure": "Page", "title": "x", "markdown": "x" * 200_001},
        "markdown",
        "at most 200000",
    ),
    ("append_blocks", {"id": TASK_ID}, "markdown|blocks", "exactly one"),
    (
        "append_blocks",
        {"id": TASK_ID, "markdown": "x", "position": "after_block"},
        "after_block_id",
        "required",
    ),
    ("append_blocks", {"id": TASK_ID, "blocks": '[{"kind": "code"}]'}, "blocks[0]", 'kind "code" needs text'),
    ("update_object", {"id": TASK_ID}, "(arguments)", "at least one change"),
    ("update_object", {"id": TASK_ID, "trash": True, "restore": True}, "trash|restore", "pick one"),
    ("update_block", {"id": TASK_ID, "block_id": "x"}, "text|done", "Nothing to change"),
    ("append_to_daily_note", {"markdown": "x", "date": "29/11/2026"}, "date", "not an ISO date"),
    ("save_weblink", {"url": "not a url"}, "url", "URL"),
]


@each_mode
async def test_bad_inputs_give_clear_tool_errors(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        for name, args, field, words in BAD_CALLS:
            result = await client.call_tool(name, args)
            assert result.is_error, (name, args, text_of(result))
            text = text_of(result)
            assert words.lower() in text.lower(), (name, args, text)
            error = error_of(result)
            assert error["code"] in ("invalid_arguments", "cap_invalid_input", "not_found_in_space"), error
            if field:
                assert field in [i["field"] for i in error.get("issues", [])] or field in text, (
                    name,
                    field,
                    error,
                )
            assert "errors.pydantic.dev" not in text
            assert "Created" not in text  # nothing half-done
        alive = await client.call_tool("get_space", {})
    assert not alive.is_error


@each_mode
async def test_missing_required_argument_names_the_field(sandbox: SandboxServer, mode: str) -> None:
    """The schema lists required arguments, so the SDK would reject a call without one in its own
    words (raw pydantic text, a docs URL, no structured content); ours names the field and rule."""
    server, _ = tool_server(sandbox)
    cases: list[tuple[str, dict[str, Any], list[str]]] = [
        ("search_objects", {"limit": 3}, ["query"]),
        ("update_block", {"id": TASK_ID}, ["block_id"]),
        ("append_blocks", {"markdown": "x"}, ["id"]),
        ("save_weblink", {"url": None}, ["url"]),
        ("delete_block", {}, ["id", "block_id"]),
    ]
    async with connect(server, mode) as client:
        for name, args, fields in cases:
            result = await client.call_tool(name, args)
            text = text_of(result)
            error = error_of(result)
            assert error["code"] == "invalid_arguments", (name, error)
            assert [i["field"] for i in error["issues"]] == fields, (name, error)
            assert all(i["message"] == "required, missing" for i in error["issues"]), (name, error)
            assert text.startswith(f"Invalid arguments for {name}:") and all(
                f"- {f}: required" in text for f in fields
            )
            assert "pydantic" not in text and "validation error for" not in text, text
        alive = await client.call_tool("get_object", {"id": TASK_ID})
    assert not alive.is_error


# --- unexpected exceptions -----------------------------------------------------------------------------


class _Nothing(ToolInput):
    pass


async def _explode(call: Any, args: _Nothing) -> Any:
    raise RuntimeError("internal detail with a secret cap-api-abcdef123456")


@each_mode
async def test_unexpected_exception_is_generic_logged_and_survivable(
    sandbox: SandboxServer, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    server, _ = tool_server(sandbox, tools=["get_space"])
    explode = ToolSpec(
        name="explode",
        title="Explode",
        description="Always crashes.",
        input_model=_Nothing,
        output_model=ToolOutput,
        handler=_explode,
        annotations=hints(read_only=True, idempotent=True),
    )
    assert server.catalog is not None
    catalog = server.catalog
    server.catalog = ToolCatalog(
        [*catalog.specs.values(), explode], structured_output=catalog.structured_output
    )
    caplog.set_level(logging.ERROR, logger="capacities_mcp.server.tools")
    async with connect(server, mode) as client:
        result = await client.call_tool("explode", {})
        alive = await client.call_tool("get_space", {})
    error = error_of(result)
    assert error["code"] == "internal_error"
    assert "RuntimeError" in text_of(result) and "secret" not in everything(result)
    records = [r for r in caplog.records if r.name == "capacities_mcp.server.tools"]
    assert records and records[0].exc_info is not None  # the traceback is in the log
    assert not alive.is_error


# --- the mapping itself --------------------------------------------------------------------------------


def test_rate_limit_text_and_payload() -> None:
    info = describe(
        CapacitiesApiError(429, "cap_rate_limit_exceeded", "Rate limit exceeded", retry_after=11.6),
        tool="get_object",
    )
    assert "retry after 12 s" in info.text.lower()
    assert info.payload() == {
        "error": {
            "code": "cap_rate_limit_exceeded",
            "status": 429,
            "message": "Rate limit exceeded",
            "next_step": "Retry after 12 s; do not retry at once.",
            "retry_after": 11.6,
            "missing_scopes": [],
            "maybe_applied": False,
        }
    }


def test_scope_error_names_missing_scopes() -> None:
    exc = CapacitiesApiError(403, "cap_scope_insufficient", "Missing scope", {"missingScopes": ["api:write"]})
    info = describe(exc, tool="create_object")
    assert "lacks api:write" in info.text and info.missing_scopes == ("api:write",)


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (400, "cap_invalid_input", "rejected the input"),
        (413, "cap_invalid_input", "too large"),
        (500, "cap_server_error", "server error"),
        (503, "cap_service_unavailable", "temporarily unavailable"),
        (403, "cap_object_creation_quota_reached", "quota"),
        (418, "cap_unknown", "Unexpected answer"),
    ],
)
def test_every_api_code_has_a_next_step(status: int, code: str, words: str) -> None:
    info = describe(CapacitiesApiError(status, code, "the API said this"), tool="t")
    assert words in info.text and "the API said this" in info.text and info.code == code


def test_connection_errors() -> None:
    maybe = describe(CapacitiesConnectionError("timed out", maybe_applied=True), tool="t")
    assert "may or may not have been applied: check with get_object before retrying" in maybe.text
    assert maybe.payload()["error"]["maybe_applied"] is True and maybe.status == 0
    not_sent = describe(CapacitiesConnectionError("refused", maybe_applied=False), tool="t")
    assert "Nothing was changed" in not_sent.text


def test_oauth_validation_lookup_and_input_errors() -> None:
    oauth = describe(CapacitiesOAuthError("refresh failed", status=400, error="invalid_grant"), tool="t")
    assert "capacities-mcp auth login" in oauth.text and "invalid_grant" in oauth.text
    validation = describe(
        CapacitiesValidationError([Issue(("blocks", 0, "lang"), "Invalid input: expected string")]), tool="t"
    )
    assert "blocks[0].lang: Invalid input: expected string" in validation.text
    assert validation.payload()["error"]["issues"] == [
        {"field": "blocks[0].lang", "message": "Invalid input: expected string"}
    ]
    lookup = describe(LookupFailed("No structure named X", field="structure"), tool="t")
    assert lookup.code == "not_found_in_space" and lookup.issues[0].field == "structure"
    custom = describe(ToolInputError("Bad", issues=[]), tool="t")
    assert custom.text == "Bad" and custom.code == "invalid_arguments"


def test_partial_write_keeps_the_created_id() -> None:
    cause = CapacitiesApiError(503, "cap_service_unavailable", "down")
    exc = PartialWrite('Created Page "x" (id 1)', cause, object_id="1", next_step="Use append_blocks.")
    info = describe(exc, tool="create_object")
    assert info.text.startswith('Created Page "x" (id 1), but the next step failed.')
    assert "Use append_blocks." in info.text and info.payload()["error"]["object_id"] == "1"


def test_tokens_are_masked_everywhere() -> None:
    secret = "cap-api-w77cg_ehcUz7dgfu8akNKETiw7xL_lWuoCjgnhPf"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    text = f"token {secret} header Bearer abcdefghijkl and {jwt}"
    masked = redact(text)
    assert secret not in masked and "abcdefghijkl" not in masked and jwt not in masked
    result = tool_error(CapacitiesApiError(401, "cap_not_authenticated", f"bad token {secret}"), tool="t")
    assert secret not in everything(result)
    html = describe(
        CapacitiesApiError(429, "cap_rate_limit_exceeded", "<html><body>error code: 1015</body></html>"),
        tool="t",
    )
    assert "<" not in html.text and "1015" in html.text


def test_long_api_messages_are_cut() -> None:
    info = describe(CapacitiesApiError(400, "cap_invalid_input", "x" * 10_000), tool="t")
    assert len(info.text) < 2_000


def test_welcome_id_is_a_real_seed_object(sandbox: SandboxServer) -> None:
    assert WELCOME_ID in sandbox.state.objects


@each_mode
async def test_too_large_payload_is_413_with_split_hint(sandbox: SandboxServer, mode: str) -> None:
    server, _ = tool_server(sandbox)
    block = {"kind": "text", "text": "y" * 1000}
    async with connect(server, mode) as client:
        result = await client.call_tool("append_blocks", {"id": WELCOME_ID, "blocks": [block] * 1500})
        alive = await client.call_tool("get_space", {})
    error = error_of(result)
    assert error["status"] == 413 and error["code"] == "cap_invalid_input"
    assert "too large" in text_of(result) and "smaller parts" in text_of(result)
    assert not alive.is_error


@each_mode
async def test_create_then_failed_content_reports_the_created_id(
    sandbox: SandboxServer, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from capacities_mcp.api._client import BlocksApi

    async def unavailable(self: Any, body: Any = None, /, **fields: Any) -> Any:
        raise CapacitiesApiError(503, "cap_service_unavailable", "Service unavailable", retry_after=5)

    monkeypatch.setattr(BlocksApi, "append", unavailable)
    server, _ = tool_server(sandbox)
    async with connect(server, mode) as client:
        result = await client.call_tool(
            "create_object",
            {
                "structure": "Task",
                "title": f"Half {mode}",
                "properties": {"Status": "Done"},
                "markdown": "body",
            },
        )
        error = error_of(result)
        created = await client.call_tool("get_object", {"id": error["object_id"]})
    assert error["code"] == "cap_service_unavailable"
    assert text_of(result).startswith(
        f'Created Task "Half {mode}" (id {error["object_id"]}), but the next step failed.'
    )
    assert "Do not create it again" in text_of(result) and "append_blocks" in text_of(result)
    assert not created.is_error and "- Status: Done" in text_of(created)
