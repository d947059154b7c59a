"""`capacities-mcp auth login|status|logout` against the sandbox's OAuth provider, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import pytest

from capacities_mcp.api import CapacitiesApiError, CapacitiesClient, CapacitiesOAuthError
from capacities_mcp.auth import TokenStore, _login, load_stored_credentials
from capacities_mcp.cli import main
from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from .helpers import FakeBrowser


def login(sb: SandboxServer, *extra: str) -> int:
    return main(["auth", "login", "--api-url", sb.base_url, *extra])


def stored_secrets(path: Path) -> list[str]:
    data = json.loads(path.read_text())
    return [data[k] for k in ("access_token", "refresh_token", "api_token") if data.get(k)]


# -- the whole flow --


def test_login_with_consent_page_stores_working_tokens(
    sandbox: SandboxServer,
    store_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    browser = FakeBrowser(decision="approve")
    monkeypatch.setattr(_login, "open_browser", browser)

    assert login(sandbox) == 0

    out = capsys.readouterr()
    assert browser.callback_status == 200 and "close this tab" in browser.callback_body
    # The URL is always printed, even when a browser was opened.
    assert browser.opened[0] in out.err
    query = parse_qs(urlsplit(browser.opened[0]).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["capacities-mcp"]
    assert query["scope"] == ["api:read api:write offline_access"]
    assert query["resource"] == [sandbox.base_url]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    redirect = urlsplit(query["redirect_uri"][0])
    assert (redirect.scheme, redirect.hostname, redirect.path) == ("http", "127.0.0.1", "/callback")
    assert redirect.port not in (None, 0)

    stored = load_stored_credentials()
    assert stored is not None and stored.kind == "oauth"
    assert stored.base_url == sandbox.base_url
    assert stored.client_id == "capacities-mcp"
    assert stored.scopes == ("api:read", "api:write", "offline_access")
    assert stored.space_title and stored.space_id
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    for secret in stored_secrets(store_path):
        assert secret not in out.out and secret not in out.err

    async def use() -> str:
        async with CapacitiesClient(**stored.client_kwargs()) as client:
            return (await client.space.get()).title

    assert anyio.run(use) == stored.space_title


def test_login_with_auto_approve_and_custom_scopes(
    auto_sandbox: SandboxServer, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = FakeBrowser()
    monkeypatch.setattr(_login, "open_browser", browser)
    assert login(auto_sandbox, "--scopes", "api:read", "offline_access", "--timeout", "30") == 0
    stored = load_stored_credentials()
    assert stored is not None and stored.scopes == ("api:read", "offline_access")


def test_login_replacing_an_oauth_sign_in_revokes_the_old_grant(
    auto_sandbox: SandboxServer, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_login, "open_browser", FakeBrowser())
    assert login(auto_sandbox) == 0
    first = load_stored_credentials()
    assert first is not None and first.tokens is not None
    assert login(auto_sandbox) == 0
    second = load_stored_credentials()
    assert second is not None and second.tokens is not None
    assert second.tokens.refresh_token != first.tokens.refresh_token
    assert refresh_status(auto_sandbox, first.tokens.refresh_token) == 400
    assert refresh_status(auto_sandbox, second.tokens.refresh_token) == 200


def test_login_as_a_real_command_with_no_browser(auto_sandbox: SandboxServer, store_path: Path) -> None:
    """The installed command, in its own process: prints the URL, waits, stores, exits 0."""
    env = {**os.environ, "CAPACITIES_MCP_TOKEN_STORE": str(store_path)}
    env.pop("CAPACITIES_API_TOKEN", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "capacities_mcp",
            "auth",
            "login",
            "--no-browser",
            "--api-url",
            auto_sandbox.base_url,
            "--timeout",
            "60",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    try:
        url = None
        for line in process.stderr:
            if line.strip().startswith("http"):
                url = line.strip()
                break
        assert url is not None and url.startswith(auto_sandbox.base_url + "/oauth/authorize?")
        browser = FakeBrowser()
        browser(url)
        assert browser.callback_status == 200
        assert process.wait(timeout=60) == 0
        rest = process.stderr.read()
        assert "Signed in" in rest
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stderr.close()
        if process.stdout is not None:
            process.stdout.close()
    stored = load_stored_credentials(store_path)
    assert stored is not None and stored.kind == "oauth"


# -- the ways it can fail --


def test_access_denied(
    sandbox: SandboxServer,
    store_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    browser = FakeBrowser(decision="deny")
    monkeypatch.setattr(_login, "open_browser", browser)
    assert login(sandbox) == 1
    assert "Access was denied" in capsys.readouterr().err
    assert browser.callback_status == 200 and "declined" in browser.callback_body
    assert not store_path.exists()


def test_state_mismatch_is_rejected(
    auto_sandbox: SandboxServer,
    store_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    browser = FakeBrowser(forge_state=True)
    monkeypatch.setattr(_login, "open_browser", browser)
    assert login(auto_sandbox) == 1
    assert "state mismatch" in capsys.readouterr().err
    assert browser.callback_status == 400
    assert not store_path.exists()


def test_timeout_gives_up_cleanly(
    sandbox: SandboxServer, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    assert login(sandbox, "--no-browser", "--timeout", "1") == 3
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert "/oauth/authorize?" in err
    assert "timed out" in err and "--timeout" in err
    assert not store_path.exists()


async def test_listener_ignores_other_paths_and_answers_only_once() -> None:
    with _login.LoopbackReceiver("the-state") as receiver:
        base = receiver.redirect_uri.removesuffix("/callback")
        async with httpx2.AsyncClient() as http:
            assert (await http.get(base + "/favicon.ico")).status_code == 404
            ok = await http.get(receiver.redirect_uri, params={"code": "c1", "state": "the-state"})
            assert ok.status_code == 200
            await http.get(receiver.redirect_uri, params={"code": "c2", "state": "the-state"})
        result = await receiver.wait(1)
    assert result.code == "c1" and result.error is None


async def test_discovery_falls_back_to_fixed_urls() -> None:
    async with httpx2.AsyncClient(timeout=2) as http:
        endpoints = await _login.discover_endpoints(http, "http://127.0.0.1:9/")
    assert endpoints == _login.OAuthEndpoints(
        "http://127.0.0.1:9/oauth/authorize",
        "http://127.0.0.1:9/oauth/token",
        "http://127.0.0.1:9/oauth/revoke",
    )


async def test_discovery_reads_the_metadata(sandbox: SandboxServer) -> None:
    async with httpx2.AsyncClient(timeout=5) as http:
        endpoints = await _login.discover_endpoints(http, sandbox.base_url)
    assert endpoints.discovered
    assert endpoints.token_endpoint == sandbox.base_url + "/oauth/token"
    assert endpoints.revocation_endpoint == sandbox.base_url + "/oauth/revoke"


def test_pkce_pair() -> None:
    pairs = {_login.Pkce.new() for _ in range(20)}
    assert len(pairs) == 20
    for pair in pairs:
        assert 43 <= len(pair.verifier) <= 128
        assert set(pair.verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        digest = hashlib.sha256(pair.verifier.encode()).digest()
        assert pair.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# -- status --


def test_status_shows_space_and_expiry_but_no_token(
    auto_sandbox: SandboxServer,
    store_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(_login, "open_browser", FakeBrowser())
    assert login(auto_sandbox) == 0
    capsys.readouterr()
    assert main(["auth", "status"]) == 0
    out = capsys.readouterr().out
    stored = load_stored_credentials()
    assert stored is not None and stored.space_title
    assert stored.space_title in out and auto_sandbox.base_url in out
    assert "OAuth" in out and "api:read api:write offline_access" in out
    assert "expires in" in out and "mode 0600" in out
    for secret in stored_secrets(store_path):
        assert secret not in out


def test_status_when_not_signed_in(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["auth", "status"]) == 1
    assert "Not signed in" in capsys.readouterr().out


# -- personal tokens --


def test_token_login_verifies_then_stores(
    sandbox: SandboxServer, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert login(sandbox, "--token", "cap-api-wrong") == 1
    assert "rejected" in capsys.readouterr().err
    assert not store_path.exists()

    assert login(sandbox, "--token", sandbox.api_token) == 0
    stored = load_stored_credentials()
    assert stored is not None and stored.kind == "api_token"
    assert stored.client_kwargs() == {"api_token": sandbox.api_token, "base_url": sandbox.base_url}
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600

    assert main(["auth", "status"]) == 0
    out = capsys.readouterr().out
    assert "personal API token" in out and sandbox.api_token not in out


def test_token_from_stdin(sandbox: SandboxServer, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(sandbox.api_token + "\n"))
    assert login(sandbox, "--token-stdin") == 0
    stored = load_stored_credentials()
    assert stored is not None and stored.api_token == sandbox.api_token


def test_api_url_from_environment(
    sandbox: SandboxServer, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPACITIES_API_URL", sandbox.base_url + "/")
    assert main(["auth", "login", "--token", sandbox.api_token]) == 0
    stored = load_stored_credentials()
    assert stored is not None and stored.base_url == sandbox.base_url


# -- logout --


def refresh_status(sb: SandboxServer, refresh_token: str) -> int:
    response = httpx2.post(
        sb.base_url + "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "capacities-mcp"},
    )
    return response.status_code


def test_logout_revokes_the_grant_and_deletes_the_file(
    auto_sandbox: SandboxServer,
    store_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(_login, "open_browser", FakeBrowser())
    assert login(auto_sandbox) == 0
    stored = load_stored_credentials()
    assert stored is not None and stored.tokens is not None
    capsys.readouterr()

    assert main(["auth", "logout"]) == 0
    out = capsys.readouterr().out
    assert "Revoked" in out and "Removed" in out
    assert not store_path.exists()

    async def old_access_token_works() -> bool:
        assert stored.tokens is not None
        async with CapacitiesClient(
            api_token=stored.tokens.access_token, base_url=auto_sandbox.base_url
        ) as c:
            try:
                await c.space.get()
            except CapacitiesApiError as exc:
                assert exc.status == 401
                return False
            return True

    assert not anyio.run(old_access_token_works)
    assert refresh_status(auto_sandbox, stored.tokens.refresh_token) == 400

    assert main(["auth", "logout"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_logout_works_when_revocation_fails(
    store: TokenStore, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from capacities_mcp.api import OAuthTokens
    from capacities_mcp.auth import StoredCredentials

    store.write(
        StoredCredentials(
            kind="oauth",
            base_url="http://127.0.0.1:9",  # nothing listens there
            client_id="capacities-mcp",
            tokens=OAuthTokens("at", "rt", None),
        )
    )
    assert main(["auth", "logout"]) == 0
    out = capsys.readouterr().out
    assert "Could not revoke" in out and "Connections" in out and "Removed" in out
    assert not store_path.exists()


# -- a refresh token that no longer works --


def test_revoked_grant_gives_a_clear_oauth_error(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = SandboxConfig(port=0, auto_approve=True, access_token_lifetime=2.0)
    with SandboxServer(config) as sb:
        monkeypatch.setattr(_login, "open_browser", FakeBrowser())
        assert login(sb) == 0
        stored = load_stored_credentials()
        assert stored is not None and stored.tokens is not None
        # The user removes the connection elsewhere (same effect as an expired refresh token).
        assert (
            httpx2.post(
                sb.base_url + "/oauth/revoke",
                data={"token": stored.tokens.refresh_token, "client_id": "capacities-mcp"},
            ).status_code
            == 200
        )

        async def call() -> None:
            async with CapacitiesClient(**stored.client_kwargs()) as client:
                await client.space.get()

        with pytest.raises(CapacitiesOAuthError) as info:
            anyio.run(call)
        assert "invalid_grant" in str(info.value)
        assert "sign in again" in str(info.value)

        capsys.readouterr()
        assert main(["auth", "status"]) == 1
        out = capsys.readouterr().out
        assert "no longer works" in out and "capacities-mcp auth login" in out


# -- the command itself --


def test_auth_without_a_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["auth"]) == 2
    assert "login" in capsys.readouterr().err


def test_cli_module_is_light_to_import() -> None:
    """`capacities-mcp` imports every command's parser on start; auth must not pull in HTTP."""
    code = (
        "import sys, capacities_mcp.auth._cli; "
        "print(*(m in sys.modules for m in ('httpx2', 'filelock', 'capacities_mcp.auth._store')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False", "False"]
