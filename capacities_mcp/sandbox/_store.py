"""The sandbox's state: one space, its structures and objects, and the credentials bound to it.

Objects are kept in the readable wire form `GET /object` returns, plus three private fields
(`deleted`, `createdAt`, `lastUpdatedAt`). Tokens are kept only as SHA-256 hashes, so the data
file never holds a usable credential. With a data file, every change is written atomically
(temp file in the same directory, fsync, `os.replace`): a crash leaves the old or the new file,
never a torn one. One sandbox at a time may serve a data file: it holds an exclusive lock on
`<file>.lock` from start to stop, and a second sandbox on the same file refuses to start
(otherwise each would overwrite the other's changes).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .._files import atomic_write, remove_orphaned_temp_files

__all__ = [
    "PERSONAL_TOKEN_PREFIX",
    "DataFileInUseError",
    "DataFileLock",
    "SandboxStore",
    "TokenGrant",
    "hash_token",
]

PERSONAL_TOKEN_PREFIX = "cap-api-"
logger = logging.getLogger("capacities_mcp.sandbox")
_FORMAT_VERSION = 1
_PUBLIC_OBJECT_KEYS = ("id", "structureId", "collections", "properties", "blocks", "files")  # files: media


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenGrant:
    """What a bearer token may do: its scopes, the OAuth grant it belongs to (if any), and the
    account whose space it opens (None: the main one)."""

    kind: str  # "personal" | "oauth"
    scopes: frozenset[str]
    grant_id: str | None = None
    account: str | None = None


class DataFileInUseError(RuntimeError):
    """Another sandbox (this process or another) is serving the same data file."""


class DataFileLock:
    """An exclusive lock on `<data file>.lock`, held while a sandbox serves the file.

    The lock sits beside the data file, not on it: every save replaces the data file (a new
    inode), which would silently drop a lock taken on the old one. It is an OS file lock
    (`filelock`, as the auth token store uses), so the OS releases it when the process dies and
    a crash never leaves a stale claim behind.
    """

    def __init__(self, data_file: Path) -> None:
        self.data_file = data_file
        self.path = data_file.with_name(data_file.name + ".lock")
        self._lock = FileLock(self.path, is_singleton=False, thread_local=False)

    def acquire(self) -> None:
        if self._lock.is_locked:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise DataFileInUseError(
                f"The data file {self.data_file} is in use by another running sandbox; stop "
                "that one or start this one with another --data file"
            ) from None

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)


class SandboxStore:
    """All state behind one lock; handlers hold `lock` for the whole of a read-modify-write."""

    def __init__(
        self,
        *,
        space: dict[str, Any],
        structures: list[dict[str, Any]],
        content_property: dict[str, str],
        objects: Iterable[dict[str, Any]] = (),
        data_file: Path | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.space = space
        self.structures = structures
        self.content_property = dict(content_property)
        self.objects: dict[str, dict[str, Any]] = {obj["id"]: obj for obj in objects}
        self.data_file = data_file
        self.personal_tokens: dict[str, dict[str, Any]] = {}
        # OAuth state that must outlive a restart (codes are short-lived and stay in memory).
        self.oauth: dict[str, dict[str, Any]] = {"grants": {}, "access": {}, "refresh": {}}
        self.file_lock = DataFileLock(data_file) if data_file is not None else None

    # --- structures ----------------------------------------------------------------------------

    def structure(self, structure_id: str) -> dict[str, Any] | None:
        return next((s for s in self.structures if s["id"] == structure_id), None)

    def content_property_of(self, structure_id: str) -> str:
        """The block property that holds an object's main content."""
        return self.content_property.get(structure_id, "content")

    def collection_ids(self, structure_id: str | None = None) -> set[str]:
        return {
            c["id"]
            for s in self.structures
            if structure_id is None or s["id"] == structure_id
            for c in s.get("collections", [])
        }

    # --- objects -------------------------------------------------------------------------------

    def get_object(self, object_id: str, *, include_trashed: bool = False) -> dict[str, Any] | None:
        obj = self.objects.get(object_id)
        if obj is None or (obj.get("deleted") and not include_trashed):
            return None
        return obj

    def live_objects(self) -> Iterator[dict[str, Any]]:
        """Objects not in the trash, in creation order."""
        return (obj for obj in self.objects.values() if not obj.get("deleted"))

    @staticmethod
    def title_of(obj: dict[str, Any]) -> str:
        for value in obj["properties"].values():
            if value.get("type") == "title":
                return str(value["title"].get("value") or "")
        return ""

    def find_by_title(self, title: str, structure_ids: Iterable[str] | None = None) -> dict[str, Any] | None:
        """The first live object with exactly this title (case-insensitive)."""
        wanted = title.strip().casefold()
        allowed = set(structure_ids) if structure_ids is not None else None
        for obj in self.live_objects():
            if allowed is not None and obj["structureId"] not in allowed:
                continue
            if self.title_of(obj).strip().casefold() == wanted:
                return obj
        return None

    @staticmethod
    def public(obj: dict[str, Any]) -> dict[str, Any]:
        """The object as the API returns it: no private bookkeeping fields."""
        return {key: obj[key] for key in _PUBLIC_OBJECT_KEYS if key in obj}

    def object_url(self, object_id: str) -> str:
        return f"https://app.capacities.io/{self.space['id']}/{object_id}"

    # --- personal tokens -----------------------------------------------------------------------

    def mint_personal_token(self, scopes: Iterable[str]) -> str:
        token = PERSONAL_TOKEN_PREFIX + secrets.token_urlsafe(30)
        with self.lock:
            self.personal_tokens[hash_token(token)] = {"scopes": sorted(set(scopes))}
            self.save()
        return token

    def revoke_personal_token(self, token: str) -> bool:
        with self.lock:
            removed = self.personal_tokens.pop(hash_token(token), None) is not None
            if removed:
                self.save()
            return removed

    def personal_grant(self, token: str) -> TokenGrant | None:
        record = self.personal_tokens.get(hash_token(token))
        if record is None:
            return None
        return TokenGrant("personal", frozenset(record["scopes"]))

    # --- persistence ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": _FORMAT_VERSION,
            "space": self.space,
            "structures": self.structures,
            "contentProperty": self.content_property,
            "objects": list(self.objects.values()),
            "personalTokens": self.personal_tokens,
            "oauth": self.oauth,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, data_file: Path | None = None) -> SandboxStore:
        if data.get("format") != _FORMAT_VERSION:
            raise ValueError(f"Unsupported sandbox data format {data.get('format')!r}")
        store = cls(
            space=data["space"],
            structures=data["structures"],
            content_property=data["contentProperty"],
            objects=data["objects"],
            data_file=data_file,
        )
        store.personal_tokens = dict(data.get("personalTokens", {}))
        oauth = data.get("oauth", {})
        store.oauth = {key: dict(oauth.get(key, {})) for key in ("grants", "access", "refresh")}
        return store

    @classmethod
    def load(cls, path: Path) -> SandboxStore:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return cls.from_json(data, data_file=path)

    def claim(self) -> None:
        """Become the one writer of the data file; `DataFileInUseError` if another sandbox is.

        On becoming it, remove the temporary files an earlier writer's crash left behind: as the
        lock holder, no other writer can be using them.
        """
        if self.file_lock is None or self.data_file is None:
            return
        newly = not self.file_lock.held
        self.file_lock.acquire()
        if newly:
            removed = remove_orphaned_temp_files(self.data_file)
            if removed:
                logger.info("sandbox: removed %d temporary file(s) left by a crash", len(removed))

    def release(self) -> None:
        """Let another sandbox serve the data file (a later save claims it again)."""
        if self.file_lock is not None:
            self.file_lock.release()

    def save(self) -> None:
        """Write the whole state atomically, if there is a data file."""
        if self.data_file is None:
            return
        with self.lock:
            self.claim()  # never overwrite a file another sandbox is serving
            payload = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))
            atomic_write(self.data_file, payload.encode("utf-8"))
