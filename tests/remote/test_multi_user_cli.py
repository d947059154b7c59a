"""`capacities-mcp serve --transport http --multi-user` as users start it: the command alone
works against the configured API (a sandbox here) with the in-memory State, and configurations
that cannot work are refused at start with one line and exit code 2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from capacities_mcp._environment import ENV_API_TOKEN, ENV_API_URL, ENV_ENCRYPTION_KEY, ENV_PUBLIC_URL
from capacities_mcp.cli import main
from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from ..server.helpers_process import base_env, http_server
from .helpers_oauth import ACCOUNTS, Browser, signed_in, text_of
from .helpers_replicas import free_socket


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(accounts=ACCOUNTS, rate_limit_window=0.05)) as server:
        yield server


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--multi-user"], {}, "--transport http"),
        (["--transport", "http", "--multi-user", "--sandbox"], {}, "point CAPACITIES_API_URL"),
        (["--transport", "http", "--multi-user", "--public-url", "http://mcp.example.org"], {}, "https"),
        (["--transport", "http", "--multi-user", "--public-url", "https://x.org/mcp"], {}, "without path"),
        (["--transport", "http", "--multi-user", "--host", "0.0.0.0"], {}, "needs --public-url"),
        (
            ["--transport", "http", "--multi-user", "--redis-url", "redis://127.0.0.1:1/0"],
            {},
            ENV_ENCRYPTION_KEY,
        ),
        (["--transport", "http", "--multi-user"], {ENV_ENCRYPTION_KEY: "k1:short"}, "32 random bytes"),
        (["--transport", "http", "--multi-user"], {ENV_PUBLIC_URL: "ftp://x"}, "--public-url"),
    ],
)
def test_configurations_that_cannot_work(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env: dict[str, str],
    says: str,
) -> None:
    for name in (ENV_API_URL, ENV_API_TOKEN, ENV_ENCRYPTION_KEY, ENV_PUBLIC_URL):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", *args]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1, err


async def test_the_command_alone_serves_users_of_the_configured_api(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    with free_socket() as probe:
        port = probe.getsockname()[1]
    # A personal token in the environment is ignored: it would give everyone one space.
    env = base_env(tmp_path, {ENV_API_URL: sandbox.base_url, ENV_API_TOKEN: sandbox.api_token})
    args = ["--transport", "http", "--multi-user", "--port", str(port)]
    browser = Browser("bob")
    with http_server(env, args, timeout=90) as process:
        assert process.url == f"http://127.0.0.1:{port}/mcp"
        assert f"{ENV_ENCRYPTION_KEY} is not set" in process.stderr_text()
        async with signed_in(process.url, browser) as (client, _, _):
            result = await client.call_tool("get_space", {})
            assert "bob's space" in text_of(result), text_of(result)
    await browser.aclose()
