"""HTTP transports: DNS-rebinding protection, the bearer token, refusing unsafe binds, /health."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server._http import HttpGuard, transport_security
from capacities_mcp.server._settings import Settings

from .helpers_process import ServerProcess, http_server, run_cli, sandbox_env

HTTP_TOKEN = "test-http-token-7f3a9c0e5b1d4e2f"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"},
    },
}
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def env(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return sandbox_env(sandbox, tmp_path_factory.mktemp("security"))


@pytest.fixture(scope="module")
def loopback(env: dict[str, str]) -> Iterator[ServerProcess]:
    with http_server(env, ["--transport", "http"]) as server:
        yield server


@pytest.fixture(scope="module")
def public(env: dict[str, str]) -> Iterator[ServerProcess]:
    """Bound to every interface (reached here through 127.0.0.1), so a token is required."""
    with http_server(
        {**env, "CAPACITIES_MCP_HTTP_TOKEN": HTTP_TOKEN}, ["--transport", "http", "--host", "0.0.0.0"]
    ) as server:
        server.url = server.url.replace("0.0.0.0", "127.0.0.1")
        yield server


def post(url: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.post(url, content=json.dumps(INIT), headers={**JSON_HEADERS, **(headers or {})}, timeout=10)


def test_loopback_rejects_foreign_origin_and_host(loopback: ServerProcess) -> None:
    assert post(loopback.url).status_code == 200
    assert post(loopback.url, {"Origin": "http://127.0.0.1:5173"}).status_code == 200
    assert post(loopback.url, {"Origin": "http://evil.example"}).status_code == 403
    assert post(loopback.url, {"Host": "evil.example"}).status_code == 421


def test_health(loopback: ServerProcess, public: ServerProcess) -> None:
    for server in (loopback, public):  # no token needed, nothing secret in it
        response = httpx2.get(server.origin + "/health", timeout=5)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok" and body["server"] == "capacities"
        assert HTTP_TOKEN not in response.text


def test_public_bind_without_token_refuses_to_start(env: dict[str, str]) -> None:
    for transport in ("http", "sse"):
        result = run_cli(["serve", "--transport", transport, "--host", "0.0.0.0", "--port", "0"], env)
        assert result.returncode == 2
        assert "CAPACITIES_MCP_HTTP_TOKEN" in result.stderr and "0.0.0.0" in result.stderr
        assert result.stdout == ""


def test_public_bind_checks_the_token(public: ServerProcess) -> None:
    missing = post(public.url)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = post(public.url, {"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and "invalid_token" in wrong.headers["www-authenticate"]
    assert post(public.url, {"Authorization": f"Basic {HTTP_TOKEN}"}).status_code == 401
    assert post(public.url, {"Authorization": f"Bearer {HTTP_TOKEN}"}).status_code == 200
    # a browser page from elsewhere is refused even with the token
    assert (
        post(
            public.url, {"Authorization": f"Bearer {HTTP_TOKEN}", "Origin": "http://evil.example"}
        ).status_code
        == 403
    )
    assert HTTP_TOKEN not in public.stderr_text()


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_client_with_the_token_works(public: ServerProcess, mode: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {HTTP_TOKEN}"}, timeout=30) as http,
        Client(streamable_http_client(public.url, http_client=http), mode=mode) as client,
    ):
        result = await client.call_tool("get_space", {})
        assert not result.is_error


async def test_client_without_the_token_fails(public: ServerProcess) -> None:
    with pytest.raises(Exception):  # noqa: B017 - the transport's error for a 401 varies by mode
        async with Client(public.url) as client:
            await client.list_tools()


def test_transport_security_settings() -> None:
    local = transport_security(Settings(transport="http", host="127.0.0.1", allowed_hosts=("mcp.local:*",)))
    assert local.enable_dns_rebinding_protection
    assert "127.0.0.1:*" in local.allowed_hosts and "mcp.local:*" in local.allowed_hosts
    public = transport_security(Settings(transport="http", host="0.0.0.0", http_token="x" * 20))
    assert not public.enable_dns_rebinding_protection  # Host unknown in advance: the token guards
    named = transport_security(
        Settings(transport="http", host="0.0.0.0", http_token="x" * 20, allowed_hosts=("mcp.example.com",))
    )
    assert named.enable_dns_rebinding_protection and named.allowed_hosts == ["mcp.example.com"]


async def test_guard_in_process(tmp_path: Path) -> None:
    """The guard alone, on a trivial app: token compare, scheme, /health exemption, Origin."""

    async def ok_app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guard = HttpGuard(ok_app, token=HTTP_TOKEN, check_origin=True, allowed_origins=("https://ok.example",))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=guard), base_url="http://t") as http:
        assert (await http.get("/mcp")).status_code == 401
        assert (
            await http.get("/mcp", headers={"Authorization": "Bearer " + HTTP_TOKEN[:-1]})
        ).status_code == 401
        assert (await http.get("/mcp", headers={"Authorization": "bearer " + HTTP_TOKEN})).status_code == 204
        assert (await http.get("/health")).status_code == 204
        assert (await http.post("/health")).status_code == 401
        headers = {"Authorization": "Bearer " + HTTP_TOKEN}
        assert (
            await http.get("/mcp", headers={**headers, "Origin": "https://ok.example"})
        ).status_code == 204
        assert (
            await http.get("/mcp", headers={**headers, "Origin": "https://bad.example"})
        ).status_code == 403


def test_secrets_of_any_length_are_masked_in_logs() -> None:
    import io
    import logging

    from capacities_mcp.server._logging import RedactSecrets

    settings = Settings(api_token="k9", http_token="Zq7")  # too short to serve, never to mask
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(settings.secrets()))
    logger = logging.getLogger("capacities_mcp.test_short_secrets")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("configured %s and %s; header Authorization: Bearer x1", "k9", "Zq7")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "k9" not in text and "Zq7" not in text and "x1" not in text
    assert "Bearer ***" in text
