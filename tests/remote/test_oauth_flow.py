"""The whole sign-in with a real MCP client (the SDK's client-side OAuth) against a multi-user
server and a sandbox with two accounts: discovery, registration (dynamic, or a Client ID
Metadata Document), consent, Capacities sign-in, tokens, then tool calls in the user's own space."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from .helpers_oauth import (
    ACCOUNTS,
    REDIRECT,
    Browser,
    document_server,
    remote_server,
    signed_in,
    text_of,
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(accounts=ACCOUNTS, rate_limit_window=0.05)) as server:
        yield server


async def test_metadata_documents_and_the_401_challenge(sandbox: SandboxServer) -> None:
    async with remote_server(sandbox) as server, httpx2.AsyncClient() as http:
        challenge = await http.post(server.url, json={})
        assert challenge.status_code == 401
        resource_metadata = f"{server.origin}/.well-known/oauth-protected-resource/mcp"
        assert f'resource_metadata="{resource_metadata}"' in challenge.headers["www-authenticate"]
        prm = (await http.get(resource_metadata)).json()
        assert prm["resource"] == server.url and prm["authorization_servers"] == [server.origin]
        asm = (await http.get(f"{server.origin}/.well-known/oauth-authorization-server")).json()
        assert asm["issuer"] == server.origin
        assert asm["client_id_metadata_document_supported"] is True
        assert asm["authorization_response_iss_parameter_supported"] is True
        assert asm["code_challenge_methods_supported"] == ["S256"]
        assert "none" in asm["token_endpoint_auth_methods_supported"]
        assert {"registration_endpoint", "revocation_endpoint"} <= set(asm)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_sign_in_through_dynamic_registration(sandbox: SandboxServer, mode: str) -> None:
    browser = Browser("alice")
    async with (
        remote_server(sandbox) as server,
        signed_in(server.url, browser, mode=mode) as (client, store, _),
    ):
        result = await client.call_tool("get_space", {})
        assert not result.is_error, text_of(result)
        assert "Demo space" in text_of(result)  # alice's is the main space
        assert store.client_info is not None and store.client_info.client_secret  # DCR gave one
        assert store.tokens is not None and store.tokens.refresh_token
        # The consent page named the client; no Capacities token ever reached the client.
        consent = next(url for url in browser.visited if "/consent?" in url)
        assert consent.startswith(server.origin)
        assert store.tokens.access_token not in repr(sandbox.state.oauth)
    await browser.aclose()


async def test_sign_in_through_a_client_metadata_document(sandbox: SandboxServer) -> None:
    def document(url: str) -> dict[str, Any]:
        return {
            "client_id": url,
            "client_name": "Document Client",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }

    browser = Browser("bob")
    async with (
        document_server({"/oauth/client.json": document}) as origin,
        remote_server(sandbox) as server,
        signed_in(server.url, browser, document_url=f"{origin}/oauth/client.json") as (client, store, _),
    ):
        result = await client.call_tool("get_space", {})
        assert "bob's space" in text_of(result), text_of(result)
        assert store.client_info is not None and store.client_info.client_id == f"{origin}/oauth/client.json"
        assert store.client_info.client_secret is None
        consent = await browser.http.get(next(url for url in browser.visited if "/consent?" in url))
        assert consent.status_code == 400 and "expired" in consent.text  # answered: single use
    await browser.aclose()
