"""`capacities-mcp [serve]`: options, settings resolution, logging hygiene, start-up failures."""

from __future__ import annotations

import argparse
import io
import logging
from pathlib import Path

import pytest

from capacities_mcp.cli import build_parser
from capacities_mcp.server._logging import RedactSecrets
from capacities_mcp.server._settings import Settings, SettingsError, is_loopback, resolve_settings

from .helpers_process import base_env, run_cli

TOKEN = "cap-api-SECRET-token-for-tests-0123456789"


def serve_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *argv])


def no_store(tmp_path: Path) -> dict[str, str]:
    return {"CAPACITIES_MCP_TOKEN_STORE": str(tmp_path / "none.json")}


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`resolve_settings` may read the token store: never the developer's real one."""
    monkeypatch.setenv("CAPACITIES_MCP_TOKEN_STORE", str(tmp_path / "none.json"))


def test_defaults_are_stdio_on_loopback() -> None:
    args = serve_args()
    assert (args.transport, args.host, args.port, args.read_only) == ("stdio", "127.0.0.1", 8000, False)


def test_env_token_is_used_and_never_shown(tmp_path: Path) -> None:
    env = {
        "CAPACITIES_API_TOKEN": TOKEN,
        "CAPACITIES_API_URL": "http://127.0.0.1:9",
        "CAPACITIES_API_VERSION": "1.0.0",
        **no_store(tmp_path),
    }
    settings = resolve_settings(serve_args(), env)
    assert settings.backend == "env"
    assert settings.api_url == "http://127.0.0.1:9" and settings.api_version == "1.0.0"
    assert TOKEN not in repr(settings)
    assert TOKEN in settings.secrets()
    client = settings.client_for()
    assert client.base_url == "http://127.0.0.1:9"
    assert TOKEN not in repr(client)


def test_no_credentials_means_embedded_sandbox(tmp_path: Path) -> None:
    settings = resolve_settings(serve_args(), no_store(tmp_path))
    assert settings.backend == "sandbox"
    assert settings.sandbox_reason is not None and "CAPACITIES_API_TOKEN" in settings.sandbox_reason


def test_sandbox_flag_wins_over_a_token(tmp_path: Path) -> None:
    settings = resolve_settings(
        serve_args("--sandbox"), {"CAPACITIES_API_TOKEN": TOKEN, **no_store(tmp_path)}
    )
    assert settings.backend == "sandbox"


def test_stored_credentials_are_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from capacities_mcp.auth import StoredCredentials, TokenStore

    path = tmp_path / "creds.json"
    TokenStore(path).write(
        StoredCredentials(kind="api_token", base_url="http://127.0.0.1:7", api_token=TOKEN)
    )
    monkeypatch.setenv("CAPACITIES_MCP_TOKEN_STORE", str(path))
    settings = resolve_settings(serve_args(), {})
    assert settings.backend == "stored"
    assert TOKEN in settings.secrets()
    assert settings.client_for().base_url == "http://127.0.0.1:7"
    # CAPACITIES_API_URL still points the stored credential elsewhere (e.g. at a sandbox).
    moved = resolve_settings(serve_args(), {"CAPACITIES_API_URL": "http://127.0.0.1:8"})
    assert moved.client_for().base_url == "http://127.0.0.1:8"


def test_broken_store_refuses_instead_of_falling_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "creds.json"
    path.write_text("{not json")
    monkeypatch.setenv("CAPACITIES_MCP_TOKEN_STORE", str(path))
    with pytest.raises(SettingsError, match="auth login"):
        resolve_settings(serve_args(), {})


def test_tool_lists_and_read_only_env(tmp_path: Path) -> None:
    settings = resolve_settings(
        serve_args(
            "--tools", "get_space, get_object", "--tools", "search_objects", "--toolsets", "objects,blocks"
        ),
        {"CAPACITIES_MCP_READ_ONLY": "true", **no_store(tmp_path)},
    )
    assert settings.tools == ("get_space", "get_object", "search_objects")
    assert settings.toolsets == ("objects", "blocks")
    assert settings.read_only is True
    assert resolve_settings(serve_args(), no_store(tmp_path)).read_only is False


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("::", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


LONG_SECRET = "a-long-random-secret-of-32-chars!"


def test_public_bind_needs_http_token(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CAPACITIES_MCP_HTTP_TOKEN"):
        resolve_settings(serve_args("--transport", "http", "--host", "0.0.0.0"), no_store(tmp_path))
    ok = resolve_settings(
        serve_args("--transport", "sse", "--host", "0.0.0.0"),
        {"CAPACITIES_MCP_HTTP_TOKEN": LONG_SECRET, **no_store(tmp_path)},
    )
    assert ok.http_token == LONG_SECRET and LONG_SECRET not in repr(ok)
    # stdio never listens, so the host does not matter there.
    assert resolve_settings(serve_args("--host", "0.0.0.0"), no_store(tmp_path)).transport == "stdio"


def test_help_lists_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    out = capsys.readouterr().out
    for name in ("CAPACITIES_API_TOKEN", "CAPACITIES_MCP_HTTP_TOKEN", "--read-only", "--toolsets", "sse"):
        assert name in out


def test_redaction_masks_secrets_everywhere() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(["my-custom-secret-value"]))
    logger = logging.getLogger("capacities_mcp.test_redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("token %s and %s", TOKEN, "my-custom-secret-value")
        logger.warning("header Authorization: Bearer abcdefghijklmnop")
        # A rotated OAuth access token (a JWT) is in no configured-secrets list: masked by shape.
        logger.warning("refreshed: %s", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyb3RhdGVkIn0.c2lnbmF0dXJlLXgy")
        try:
            raise RuntimeError(f"failed with {TOKEN}")
        except RuntimeError:
            logger.exception("boom")
        logger.warning("a bearer token is required")  # prose stays readable
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "SECRET" not in text and "my-custom-secret-value" not in text and "abcdefghijklmnop" not in text
    assert "eyJzdWIiOiJyb3RhdGVkIn0" not in text and "refreshed: ***" in text
    assert "cap-api-***" in text and "Bearer ***" in text
    assert "a bearer token is required" in text


def test_settings_repr_has_no_secrets() -> None:
    settings = Settings(api_token=TOKEN, http_token="http-secret-123456")
    assert TOKEN not in repr(settings) and "http-secret-123456" not in repr(settings)


def test_unknown_tool_name_exits_2_with_a_reason(tmp_path: Path) -> None:
    result = run_cli(
        ["serve", "--tools", "no_such_tool"], base_env(tmp_path, {"CAPACITIES_API_TOKEN": TOKEN})
    )
    assert result.returncode == 2
    assert "no_such_tool" in result.stderr
    assert result.stdout == ""
    assert TOKEN not in result.stderr
