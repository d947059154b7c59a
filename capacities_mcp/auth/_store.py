"""The token store: one JSON file that several processes share safely.

Why it looks the way it does:

* OAuth refresh tokens rotate on every use and reusing a rotated one revokes the whole grant, so
  the store is the single source of truth for "the current token set". Every process that
  refreshes does so under one cross-process file lock, re-reads the file first, and adopts
  tokens another process already rotated instead of spending a refresh token that is dead
  (`OAuthCredential.refresh_lock` / `load_tokens`).
* A crash while writing must never leave half a file: a broken store would log the user out (or
  worse, lose a freshly rotated refresh token). Writes go to a temporary file in the same
  directory, are fsynced, then `os.replace`d over the old file, and the directory is fsynced.
* The file holds secrets: mode 0600 in a 0700 directory, and nothing here ever prints, logs or
  returns a token as text (reprs hide them).
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.to_thread
from filelock import FileLock, Timeout

from .._environment import ENV_API_URL, ENV_TOKEN_STORE
from .._files import atomic_write, fsync_dir
from ..api import DEFAULT_BASE_URL, CapacitiesOAuthError, OAuthCredential, OAuthTokens

__all__ = [
    "APP_NAME",
    "DEFAULT_API_URL",
    "DEFAULT_CLIENT_ID",
    "CredentialKind",
    "SecretStorage",
    "StoredCredentials",
    "TokenStore",
    "TokenStoreError",
    "default_api_url",
    "default_store_path",
    "load_stored_credentials",
]

APP_NAME = "capacities-mcp"
DEFAULT_API_URL = DEFAULT_BASE_URL
DEFAULT_CLIENT_ID = "capacities-mcp"
FORMAT_VERSION = 1
LOGIN_HINT = "run `capacities-mcp auth login` to sign in again"

# How long a process waits for another one's refresh before giving up. A refresh is one HTTP
# request (30 s client timeout at most), so a much longer wait means a stuck process.
LOCK_TIMEOUT_SECONDS = 120.0
# Temporary files older than this are leftovers of a killed writer, never a write in progress.
_STALE_TEMP_SECONDS = 600.0

CredentialKind = Literal["oauth", "api_token"]
# Where the secrets live: in the JSON file itself, or in the OS keyring (file keeps the rest).
SecretStorage = Literal["file", "keyring"]
_SECRET_FIELDS = ("access_token", "refresh_token", "api_token")


class TokenStoreError(Exception):
    """The credentials file exists but cannot be used (unreadable, not ours, wrong format)."""


def default_api_url() -> str:
    """`CAPACITIES_API_URL` when set (sandbox, staging), else the real API."""
    return normalize_base_url(os.environ.get(ENV_API_URL) or DEFAULT_API_URL)


def normalize_base_url(url: str) -> str:
    """One spelling per API base, so the stored base matches the OAuth `resource` exactly."""
    return url.strip().rstrip("/")


def default_store_path() -> Path:
    """`CAPACITIES_MCP_TOKEN_STORE` when set, else `<user config dir>/credentials.json`."""
    override = os.environ.get(ENV_TOKEN_STORE)
    if override:
        return Path(override).expanduser()
    import platformdirs  # only needed for the default location

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "credentials.json"


@dataclass(frozen=True)
class StoredCredentials:
    """What one sign-in left in the store: a personal token or an OAuth token set.

    `client_kwargs()` turns it into `CapacitiesClient(**kwargs)` arguments whose OAuth hooks
    write rotated tokens back to the same store under its cross-process lock.
    """

    kind: CredentialKind
    base_url: str
    client_id: str | None = None
    scopes: tuple[str, ...] = ()
    tokens: OAuthTokens | None = None
    api_token: str | None = field(default=None, repr=False)
    space_id: str | None = None
    space_title: str | None = None
    created_at: float | None = None
    updated_at: float | None = None
    storage: SecretStorage = "file"
    store: TokenStore | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind == "oauth" and (self.tokens is None or not self.client_id):
            raise TokenStoreError("OAuth credentials need tokens and a client id")
        if self.kind == "api_token" and not self.api_token:
            raise TokenStoreError("personal-token credentials need the token")

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `CapacitiesClient`: the credential plus `base_url`."""
        if self.kind == "api_token":
            return {"api_token": self.api_token, "base_url": self.base_url}
        assert self.tokens is not None and self.client_id is not None
        store = self.store or TokenStore()
        return {
            "oauth": store.oauth_credential(self),
            "base_url": self.base_url,
        }

    # -- (de)serialization: the file format is versioned so later releases can migrate it --

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "kind": self.kind,
            "base_url": self.base_url,
        }
        if self.kind == "oauth":
            assert self.tokens is not None
            data.update(
                client_id=self.client_id,
                scopes=list(self.scopes),
                access_token=self.tokens.access_token,
                refresh_token=self.tokens.refresh_token,
                expires_at=self.tokens.expires_at,
            )
        else:
            data["api_token"] = self.api_token
        if self.space_id is not None:
            data["space"] = {"id": self.space_id, "title": self.space_title}
        data["created_at"] = self.created_at
        data["updated_at"] = self.updated_at
        if self.storage == "keyring":
            data["storage"] = "keyring"
        return data

    @classmethod
    def from_json(cls, data: object, store: TokenStore | None = None) -> StoredCredentials:
        if not isinstance(data, dict):
            raise TokenStoreError("not a JSON object")
        version = data.get("version")
        if version != FORMAT_VERSION:
            raise TokenStoreError(f"unknown format version {version!r}")
        kind = data.get("kind")
        base_url = data.get("base_url")
        if not isinstance(base_url, str) or not base_url:
            raise TokenStoreError("missing base_url")
        space = data.get("space")
        space_id = space.get("id") if isinstance(space, dict) else None
        space_title = space.get("title") if isinstance(space, dict) else None
        common: dict[str, Any] = {
            "base_url": base_url,
            "space_id": space_id if isinstance(space_id, str) else None,
            "space_title": space_title if isinstance(space_title, str) else None,
            "created_at": _number(data.get("created_at")),
            "updated_at": _number(data.get("updated_at")),
            "storage": "keyring" if data.get("storage") == "keyring" else "file",
            "store": store,
        }
        if kind == "oauth":
            access, refresh = data.get("access_token"), data.get("refresh_token")
            client_id, scopes = data.get("client_id"), data.get("scopes")
            if not isinstance(access, str) or not isinstance(refresh, str) or not access:
                raise TokenStoreError("OAuth entry without its tokens")
            if not isinstance(client_id, str) or not client_id:
                raise TokenStoreError("OAuth entry without a client id")
            return cls(
                kind="oauth",
                client_id=client_id,
                scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list) else (),
                tokens=OAuthTokens(access, refresh, _number(data.get("expires_at"))),
                **common,
            )
        if kind == "api_token":
            token = data.get("api_token")
            if not isinstance(token, str) or not token:
                raise TokenStoreError("personal-token entry without its token")
            return cls(kind="api_token", api_token=token, **common)
        raise TokenStoreError(f"unknown credential kind {kind!r}")

    def same_grant_as(self, other: StoredCredentials) -> bool:
        """True when `other` is the same sign-in (same API, client and kind), maybe rotated."""
        return (self.kind, self.base_url, self.client_id) == (
            other.kind,
            other.base_url,
            other.client_id,
        )


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


class TokenStore:
    """One credentials file plus the lock that serializes its writers.

    The file lock (`<file>.lock`) is taken for every change of the stored credentials: refreshes
    (by the OAuth manager, via `refresh_lock`), sign-in and sign-out. Reads need no lock because
    writes are atomic replacements.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        # Only the default app directory is ours to tighten; an explicit path may sit in a
        # shared directory (e.g. /tmp) whose mode we must not touch.
        self._owns_dir = path is None and not os.environ.get(ENV_TOKEN_STORE)

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    # -- reading --

    def read(self) -> StoredCredentials | None:
        """The stored credentials, or None when nothing is stored."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenStoreError(
                f"cannot read the credentials file {self.path}: {exc.strerror or exc}"
            ) from None
        try:
            data = json.loads(raw)
            if isinstance(data, dict) and data.get("storage") == "keyring":
                data = {**data, **self._keyring_secrets()}
            return StoredCredentials.from_json(data, store=self)
        except (ValueError, TokenStoreError) as exc:
            # Never echo the content: it may hold tokens.
            raise TokenStoreError(
                f"the credentials file {self.path} is not usable ({_reason(exc)}); "
                f"{LOGIN_HINT} or delete the file"
            ) from None

    @property
    def keyring_account(self) -> str:
        """The keyring entry of this store: one per credentials file."""
        return os.path.abspath(self.path)

    def _keyring_secrets(self) -> dict[str, str]:
        from ._keyring import KeyringUnavailable, load_secrets

        try:
            secrets = load_secrets(self.keyring_account)
        except KeyringUnavailable as exc:
            raise TokenStoreError(f"the tokens are in the OS keyring, but {exc}") from None
        if secrets is None:
            raise TokenStoreError("the OS keyring has no entry for these credentials")
        return secrets

    def _uses_keyring(self) -> bool:
        """Whether the file on disk says its secrets are in the keyring (no keyring access)."""
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and data.get("storage") == "keyring"

    def file_mode(self) -> int | None:
        """Permission bits of the file (for `auth status`), None when there is no file."""
        try:
            return stat.S_IMODE(self.path.stat().st_mode)
        except FileNotFoundError:
            return None

    # -- writing (callers hold the lock) --

    def write(self, credentials: StoredCredentials) -> StoredCredentials:
        """Replace the stored credentials atomically; returns what was written."""
        now = time.time()
        written = replace(
            credentials,
            created_at=credentials.created_at or now,
            updated_at=now,
            store=self,
        )
        data = written.to_json()
        self._ensure_dir()
        had_keyring_entry = self._uses_keyring()
        if written.storage == "keyring":
            from ._keyring import KeyringUnavailable, save_secrets

            secrets = {k: data.pop(k) for k in _SECRET_FIELDS if isinstance(data.get(k), str)}
            try:
                # Secrets first: the file must never point at a keyring entry older than it.
                save_secrets(self.keyring_account, secrets)
            except KeyringUnavailable as exc:
                raise TokenStoreError(f"cannot use the OS keyring: {exc}") from None
        payload = json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"
        self._atomic_write(payload)
        if had_keyring_entry and written.storage == "file":
            self._delete_keyring_entry()
        return written

    def delete(self) -> bool:
        """Remove the credentials file (and its keyring entry); True when there was one."""
        had_keyring_entry = self._uses_keyring()
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        fsync_dir(self.path.parent)
        if had_keyring_entry:
            self._delete_keyring_entry()
        return True

    def _delete_keyring_entry(self) -> None:
        from ._keyring import KeyringUnavailable, delete_secrets

        with suppress(KeyringUnavailable):
            delete_secrets(self.keyring_account)

    def _ensure_dir(self) -> None:
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(parents=True, exist_ok=True)
            with suppress(OSError):
                directory.chmod(0o700)
        elif self._owns_dir and os.name == "posix":
            with suppress(OSError):
                if stat.S_IMODE(directory.stat().st_mode) & 0o077:
                    directory.chmod(0o700)

    def _atomic_write(self, payload: bytes) -> None:
        self._remove_stale_temp_files()
        atomic_write(self.path, payload)

    def _remove_stale_temp_files(self) -> None:
        """Drop temp files left by a writer that was killed mid-write (never a live one)."""
        cutoff = time.time() - _STALE_TEMP_SECONDS
        with suppress(OSError):
            for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
                with suppress(OSError):
                    if leftover.stat().st_mtime < cutoff:
                        leftover.unlink()

    # -- locking --

    @contextmanager
    def lock(self, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
        """The cross-process lock, blocking (for the CLI and plain threads)."""
        self._ensure_dir()
        lock = self._new_lock()
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise TokenStoreError(
                f"another process has held the lock {self.lock_path} for over {timeout:.0f} s"
            ) from None
        try:
            yield
        finally:
            lock.release()

    @asynccontextmanager
    async def alock(self, timeout: float = LOCK_TIMEOUT_SECONDS) -> AsyncIterator[None]:
        """The cross-process lock without blocking the event loop.

        Acquisition runs in a worker thread in short slices, so a cancelled task never leaves a
        thread behind that later takes the lock and keeps it forever.
        """
        await anyio.to_thread.run_sync(self._ensure_dir)
        lock = self._new_lock()
        deadline = time.monotonic() + timeout
        while not await anyio.to_thread.run_sync(_try_acquire, lock, 0.2):
            if time.monotonic() >= deadline:
                raise TokenStoreError(
                    f"another process has held the lock {self.lock_path} for over {timeout:.0f} s"
                )
        try:
            yield
        finally:
            # Release even when cancelled: a held flock would stall every other process.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(lock.release)

    def _new_lock(self) -> FileLock:
        # A fresh lock object (own file descriptor) per acquisition: flock() then excludes other
        # tasks and threads of this process as well, and thread_local=False lets a worker thread
        # other than the acquiring one release it.
        return FileLock(str(self.lock_path), mode=0o600, thread_local=False, is_singleton=False)

    # -- the hooks of OAuthCredential --

    def oauth_credential(self, credentials: StoredCredentials) -> OAuthCredential:
        """An `OAuthCredential` whose refreshes are serialized through this store."""
        if credentials.kind != "oauth" or credentials.tokens is None:
            raise ValueError("not OAuth credentials")
        assert credentials.client_id is not None
        store = self

        async def load_tokens() -> OAuthTokens | None:
            """Re-read the store (called under the lock) to adopt tokens rotated elsewhere."""
            current = await anyio.to_thread.run_sync(store.read)
            if current is None:
                raise CapacitiesOAuthError(
                    f"Signed out: the stored Capacities credentials were removed; {LOGIN_HINT}",
                    error="signed_out",
                )
            if not current.same_grant_as(credentials):
                raise CapacitiesOAuthError(
                    "The stored Capacities credentials were replaced by a different sign-in "
                    f"({current.kind} for {current.base_url}); restart this process to use "
                    f"them, or {LOGIN_HINT}",
                    error="credentials_changed",
                )
            return current.tokens

        async def on_token_refreshed(tokens: OAuthTokens) -> None:
            """Persist the rotated set before it is used (the old refresh token is now dead)."""

            def save() -> None:
                current = store.read()
                base = current if current is not None and current.same_grant_as(credentials) else credentials
                store.write(replace(base, tokens=tokens))

            await anyio.to_thread.run_sync(save)

        return OAuthCredential(
            tokens=credentials.tokens,
            client_id=credentials.client_id,
            on_token_refreshed=on_token_refreshed,
            refresh_lock=self.alock,
            load_tokens=load_tokens,
        )


def _try_acquire(lock: FileLock, timeout: float) -> bool:
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        return False
    return True


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at line {exc.lineno}"
    return str(exc) or type(exc).__name__


def load_stored_credentials(path: Path | str | None = None) -> StoredCredentials | None:
    """The credentials `capacities-mcp auth login` stored, or None when there are none.

    Raises `TokenStoreError` when a credentials file exists but cannot be used, so a broken
    store is reported instead of silently running without credentials.
    """
    return TokenStore(path).read()
