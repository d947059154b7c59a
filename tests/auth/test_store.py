"""The token store on its own: format, file modes, atomic writes under SIGKILL, the lock."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from capacities_mcp.api import CapacitiesOAuthError, OAuthCredential, OAuthTokens
from capacities_mcp.auth import StoredCredentials, TokenStore, TokenStoreError, load_stored_credentials

WRITER = Path(__file__).with_name("_writer.py")


def oauth_credentials(n: int = 1, base_url: str = "http://127.0.0.1:9") -> StoredCredentials:
    return StoredCredentials(
        kind="oauth",
        base_url=base_url,
        client_id="capacities-mcp",
        scopes=("api:read", "api:write", "offline_access"),
        tokens=OAuthTokens(f"at-{n}", f"rt-{n}", 2_000_000_000.0 + n),
    )


def test_nothing_stored_is_none(tmp_path: Path) -> None:
    assert load_stored_credentials(tmp_path / "credentials.json") is None


def test_env_var_chooses_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sub" / "creds.json"
    monkeypatch.setenv("CAPACITIES_MCP_TOKEN_STORE", str(path))
    TokenStore().write(oauth_credentials())
    stored = load_stored_credentials()
    assert stored is not None and stored.store is not None
    assert stored.store.path == path
    assert stored.tokens == OAuthTokens("at-1", "rt-1", 2_000_000_001.0)


def test_default_location_is_the_user_config_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.delenv("CAPACITIES_MCP_TOKEN_STORE", raising=False)
    expected = Path(platformdirs.user_config_dir("capacities-mcp", appauthor=False))
    assert TokenStore().path == expected / "credentials.json"


def test_round_trip_and_modes(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "new-dir" / "credentials.json")
    written = store.write(oauth_credentials())
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    read = store.read()
    assert read == written
    assert read is not None and read.created_at is not None and read.updated_at is not None
    # Rewrites keep 0600 even with a permissive umask.
    old = os.umask(0)
    try:
        store.write(oauth_credentials(2))
    finally:
        os.umask(old)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert list(store.path.parent.glob("*.tmp")) == []


def test_reprs_hide_tokens(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "c.json")
    stored = store.write(oauth_credentials())
    token = store.write(StoredCredentials(kind="api_token", base_url="http://x", api_token="cap-api-secret"))
    for text in (repr(stored), repr(token), str(stored), repr(stored.client_kwargs())):
        assert "at-1" not in text and "rt-1" not in text and "cap-api-secret" not in text


def test_client_kwargs(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "c.json")
    store.write(StoredCredentials(kind="api_token", base_url="http://x", api_token="cap-api-t"))
    stored = store.read()
    assert stored is not None
    assert stored.client_kwargs() == {"api_token": "cap-api-t", "base_url": "http://x"}

    store.write(oauth_credentials())
    stored = store.read()
    assert stored is not None
    kwargs = stored.client_kwargs()
    assert set(kwargs) == {"oauth", "base_url"}
    credential = kwargs["oauth"]
    assert isinstance(credential, OAuthCredential)
    assert credential.client_id == "capacities-mcp"
    assert credential.tokens.refresh_token == "rt-1"
    assert credential.on_token_refreshed and credential.refresh_lock and credential.load_tokens


async def test_hooks_persist_and_adopt(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "c.json")
    store.write(oauth_credentials(1))
    stored = store.read()
    assert stored is not None
    credential = stored.client_kwargs()["oauth"]
    assert isinstance(credential, OAuthCredential)
    assert credential.on_token_refreshed and credential.refresh_lock and credential.load_tokens

    async with credential.refresh_lock():
        assert await credential.load_tokens() == OAuthTokens("at-1", "rt-1", 2_000_000_001.0)
        await credential.on_token_refreshed(OAuthTokens("at-2", "rt-2", 5.0))
    after = store.read()
    assert after is not None and after.tokens == OAuthTokens("at-2", "rt-2", 5.0)
    assert after.scopes == stored.scopes and after.created_at == stored.created_at

    # Another process rotated: load_tokens hands out the newer set.
    store.write(oauth_credentials(3))
    assert (await credential.load_tokens()) == OAuthTokens("at-3", "rt-3", 2_000_000_003.0)

    # Signed out elsewhere, or replaced by another sign-in: a clear OAuth error, no refresh.
    store.write(StoredCredentials(kind="api_token", base_url="http://x", api_token="cap-api-t"))
    with pytest.raises(CapacitiesOAuthError, match="auth login"):
        await credential.load_tokens()
    store.delete()
    with pytest.raises(CapacitiesOAuthError, match=r"Signed out.*auth login"):
        await credential.load_tokens()


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"[]", b'{"version": 99}', b'{"version": 1, "kind": "oauth", "base_url": "x"}'],
)
def test_broken_files_are_reported_without_their_content(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(content)
    with pytest.raises(TokenStoreError, match="auth login") as info:
        load_stored_credentials(path)
    assert str(path) in str(info.value)


def test_secret_content_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"version": 1, "kind": "oauth", "access_token": "secret-at", ')
    with pytest.raises(TokenStoreError) as info:
        load_stored_credentials(path)
    assert "secret-at" not in str(info.value)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_sigkill_while_writing_never_leaves_a_broken_file(tmp_path: Path) -> None:
    """A writer killed at a random moment leaves the old or the new file, whole, every time."""
    path = tmp_path / "credentials.json"
    store = TokenStore(path)
    rng = random.Random(1234)
    seen: set[int] = set()
    helper = subprocess.Popen(
        [sys.executable, str(WRITER), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert helper.stdin is not None and helper.stdout is not None
    n = 0
    try:
        for _ in range(150):
            helper.stdin.write(f"{n}\n")
            helper.stdin.flush()
            ready, pid = helper.stdout.readline().split()
            assert ready == "ready"
            time.sleep(rng.uniform(0.0, 0.03))
            os.kill(int(pid), signal.SIGKILL)
            assert helper.stdout.readline() == "dead\n"

            data = json.loads(path.read_bytes())  # parses: never torn
            stored = store.read()
            assert stored is not None and stored.tokens is not None
            version = int(stored.tokens.refresh_token.removeprefix("rt-"))
            assert version >= n
            assert stored.tokens.access_token == f"at-{version}"
            assert data["space"]["title"] == str(version) * 20_000
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            seen.add(version - n)
            n = version + 1
    finally:
        helper.stdin.close()
        helper.wait(timeout=10)
        helper.stdout.close()
    # The kills landed at different points of the loop, not always before the first rewrite.
    assert len(seen) >= 3


def _locked_increment(store_path: str, counter_path: str, rounds: int) -> None:
    store = TokenStore(store_path)
    counter = Path(counter_path)
    for _ in range(rounds):
        with store.lock():
            value = int(counter.read_text())
            time.sleep(0.001)
            counter.write_text(str(value + 1))


def test_lock_excludes_other_processes(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_locked_increment, args=(str(tmp_path / "c.json"), str(counter), 50))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert counter.read_text() == "200"


async def test_async_lock_excludes_tasks_of_one_process(tmp_path: Path) -> None:
    """Two tasks (say two clients in one server) must not hold the lock together."""
    store = TokenStore(tmp_path / "c.json")
    inside = 0
    most = 0

    async def hold() -> None:
        nonlocal inside, most
        for _ in range(5):
            async with store.alock():
                inside += 1
                most = max(most, inside)
                await anyio.sleep(0.01)
                inside -= 1

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(hold)
    assert most == 1


async def test_async_lock_cancelled_while_waiting_does_not_leak(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "c.json")
    with store.lock():
        with anyio.move_on_after(0.5):
            async with store.alock():
                pytest.fail("acquired a held lock")
    # Had a worker thread taken the lock after the cancel, this would time out.
    with anyio.fail_after(5):
        async with store.alock(timeout=3):
            pass


async def test_async_lock_times_out_clearly(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "c.json")
    with store.lock(), pytest.raises(TokenStoreError, match="held the lock"):
        async with store.alock(timeout=0.5):
            pass
