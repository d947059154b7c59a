"""`--keyring`: tokens in the OS keyring (a fake in-memory backend here), the rest in the file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from capacities_mcp.api import CapacitiesClient
from capacities_mcp.auth import TokenStoreError, _login, load_stored_credentials
from capacities_mcp.cli import main
from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from .helpers import FakeBrowser

pytest.importorskip("keyring")  # the optional `keyring` extra

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps entries in a dict (no OS service in tests)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def fake_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def test_oauth_tokens_in_the_keyring(
    store_path: Path, fake_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SandboxConfig(port=0, auto_approve=True, access_token_lifetime=2.0)
    with SandboxServer(config) as sb:
        monkeypatch.setattr(_login, "open_browser", FakeBrowser())
        assert main(["auth", "login", "--keyring", "--api-url", sb.base_url]) == 0

        on_disk = json.loads(store_path.read_text())
        assert on_disk["storage"] == "keyring" and on_disk["kind"] == "oauth"
        assert not {"access_token", "refresh_token", "api_token"} & set(on_disk)
        [(service, account)] = fake_keyring.entries
        assert service == "capacities-mcp" and account == str(store_path)

        stored = load_stored_credentials()
        assert stored is not None and stored.storage == "keyring" and stored.tokens is not None
        first_refresh_token = stored.tokens.refresh_token

        async def use() -> None:
            # 2 s tokens: this refreshes, and the rotated tokens must land in the keyring.
            async with CapacitiesClient(**stored.client_kwargs()) as client:
                await client.space.get()

        anyio.run(use)
        secrets = json.loads(fake_keyring.entries[(service, account)])
        assert secrets["refresh_token"] != first_refresh_token
        assert "access_token" not in json.loads(store_path.read_text())

        assert main(["auth", "logout"]) == 0
        assert fake_keyring.entries == {}
        assert not store_path.exists()


def test_personal_token_in_the_keyring(
    sandbox: SandboxServer, store_path: Path, fake_keyring: MemoryKeyring
) -> None:
    assert (
        main(["auth", "login", "--keyring", "--api-url", sandbox.base_url, "--token", sandbox.api_token]) == 0
    )
    assert sandbox.api_token not in store_path.read_text()
    stored = load_stored_credentials()
    assert stored is not None and stored.api_token == sandbox.api_token

    # Back to the file: the keyring entry is not left behind.
    assert main(["auth", "login", "--api-url", sandbox.base_url, "--token", sandbox.api_token]) == 0
    assert fake_keyring.entries == {}
    assert sandbox.api_token in store_path.read_text()


def test_missing_keyring_entry_is_a_clear_error(
    sandbox: SandboxServer, store_path: Path, fake_keyring: MemoryKeyring
) -> None:
    assert (
        main(["auth", "login", "--keyring", "--api-url", sandbox.base_url, "--token", sandbox.api_token]) == 0
    )
    fake_keyring.entries.clear()
    with pytest.raises(TokenStoreError, match=r"keyring has no entry.*auth login"):
        load_stored_credentials()
