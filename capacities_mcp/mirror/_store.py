"""The mirror's SQLite file: objects, their text per block, a full-text index, crawl progress.

One file per space, opened in WAL mode with a busy timeout, so several server processes can share
it: every write is one short transaction, and a lease row decides which process crawls. The file
is private (0600). A file that is not a database, fails its integrity check or has another schema
version is deleted and built again: it is a cache, the space itself is the truth.

The full-text index is a contentless FTS5 table (the text lives once, in `objects.blocks`), fed
with CJK and Hangul characters spaced out (`fts_text`). Without FTS5 (some SQLite builds) the
mirror still works; content search then scans the stored text without ranking.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._extract import Record, fts_text

__all__ = [
    "MEMORY",
    "SCHEMA_VERSION",
    "MirrorStats",
    "MirrorStore",
    "fts5_available",
]

MEMORY = ":memory:"
# 2: no copies of properties, collections, tags, sizes that nothing read; 3: sizes in the
# server's token estimate
SCHEMA_VERSION = 3
NO_FTS5_WARNING = (
    "SQLite here has no FTS5: the mirror still stores objects, but content search scans the text "
    "(slower, unranked, no word-order freedom beyond all-words-present)"
)

_log = logging.getLogger("capacities_mcp.mirror")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    structure_id TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    keys TEXT,
    blocks TEXT,
    tokens INTEGER,
    trashed INTEGER NOT NULL DEFAULT 0,
    fetched_at REAL,
    listed_at REAL,
    indexed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS objects_by_structure ON objects (structure_id, trashed);
CREATE INDEX IF NOT EXISTS objects_by_fetch ON objects (trashed, fetched_at);
CREATE TABLE IF NOT EXISTS listing (structure_id TEXT PRIMARY KEY, cursor TEXT, done INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until REAL NOT NULL);
"""
_FTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5("
    "title, body, content='', tokenize='unicode61 remove_diacritics 2')"
)


def fts5_available() -> bool:
    try:
        with contextlib.closing(sqlite3.connect(MEMORY)) as db:
            db.execute("CREATE VIRTUAL TABLE probe USING fts5(a)")
        return True
    except sqlite3.OperationalError:
        return False


@dataclass(frozen=True)
class MirrorStats:
    """How complete and fresh the mirror is (never any content)."""

    objects: int  # known, not trashed
    fetched: int  # of those, content mirrored
    trashed: int
    oldest_fetch: float | None  # wall time of the least recently fetched object
    last_pass: float | None  # wall time the last full listing pass finished
    size_bytes: int


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


class MirrorStore:
    """Thread-safe access to one mirror database (one connection, one lock, short transactions)."""

    def __init__(self, location: str | Path, *, read_only: bool = False) -> None:
        """`read_only`: look at an existing file without changing it (`capacities-mcp mirror
        status`): nothing is created, checked or rebuilt; a file that is not a mirror raises
        sqlite3.Error on first use."""
        self.location = str(location)
        self.path = None if self.location == MEMORY else Path(self.location)
        self.has_fts = fts5_available()
        if not self.has_fts and not read_only:
            _log.warning(NO_FTS5_WARNING)
        self._lock = threading.RLock()
        self.rebuilt = False
        self._db = self._open_read_only() if read_only else self._open()

    # --- opening, rebuilding --------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.path is not None:
            _create_private(self.path)
        db = sqlite3.connect(self.location, isolation_level=None, check_same_thread=False, timeout=10.0)
        db.execute("PRAGMA busy_timeout = 10000")
        if self.path is not None:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
        return db

    def _open(self) -> sqlite3.Connection:
        try:
            db = self._connect()
            if self._usable(db):
                return db
            db.close()
        except sqlite3.DatabaseError as exc:
            _log.warning("mirror database unreadable (%s): rebuilding it", exc)
        if self.path is not None:
            _remove(self.path)
        self.rebuilt = True
        db = self._connect()
        self._create(db)
        return db

    def _open_read_only(self) -> sqlite3.Connection:
        if self.path is None:
            raise ValueError("only a mirror file can be opened read-only")
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)

    def _usable(self, db: sqlite3.Connection) -> bool:
        """True when the file holds our current schema and passes a quick integrity check."""
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            self._create(db)
            return True
        if "meta" not in tables:
            return False
        row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None or row[0] != str(SCHEMA_VERSION):
            _log.info("mirror database has another schema version: rebuilding it")
            return False
        if ("fts" in tables) != self.has_fts:
            return False
        return bool(db.execute("PRAGMA quick_check").fetchone()[0] == "ok")

    def _create(self, db: sqlite3.Connection) -> None:
        script = (
            "BEGIN IMMEDIATE;"
            + _SCHEMA
            + (_FTS + ";" if self.has_fts else "")
            + f"INSERT OR REPLACE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
            + "COMMIT;"
        )
        try:
            db.executescript(script)
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    def rebuild(self) -> None:
        """Start over with an empty database (after it turned out corrupt while in use)."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            if self.path is not None:
                _remove(self.path)
            self.rebuilt = True
            self._db = self._connect()
            self._create(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    # --- the full-text index --------------------------------------------------------------------

    def _unindex(self, db: sqlite3.Connection, rowid: int) -> None:
        """Take an object out of the index, with exactly the values it was indexed with."""
        if not self.has_fts:
            return
        row = db.execute("SELECT title, blocks, indexed FROM objects WHERE rowid=?", (rowid,)).fetchone()
        if row is None or not row[2]:
            return
        db.execute(
            "INSERT INTO fts (fts, rowid, title, body) VALUES ('delete', ?, ?, ?)",
            (rowid, fts_text(row[0]), fts_text(_body(row[1]))),
        )
        db.execute("UPDATE objects SET indexed=0 WHERE rowid=?", (rowid,))

    def _index(self, db: sqlite3.Connection, rowid: int) -> None:
        if not self.has_fts:
            return
        row = db.execute("SELECT title, blocks FROM objects WHERE rowid=?", (rowid,)).fetchone()
        db.execute(
            "INSERT INTO fts (rowid, title, body) VALUES (?, ?, ?)",
            (rowid, fts_text(row[0]), fts_text(_body(row[1]))),
        )
        db.execute("UPDATE objects SET indexed=1 WHERE rowid=?", (rowid,))

    # --- writing objects ------------------------------------------------------------------------

    def put(self, record: Record, fetched_at: float | None = None) -> bool:
        """An object as just read in full (crawl, or write-through of a read or write), as of
        `fetched_at` (now when not given). False, and nothing changed, when the stored copy is
        newer: fetched or found gone after `fetched_at` (a read that waited in the mirror's queue
        must not undo a write or a delete made meanwhile)."""
        fetched_at = time.time() if fetched_at is None else fetched_at
        values = (
            record.structure_id,
            record.title,
            json.dumps(record.keys, ensure_ascii=False, separators=(",", ":")),
            json.dumps(record.blocks, ensure_ascii=False, separators=(",", ":")),
            record.tokens,
            fetched_at,
        )
        with self.transaction() as db:
            row = db.execute("SELECT rowid, fetched_at FROM objects WHERE id=?", (record.id,)).fetchone()
            if row is None:
                rowid = _inserted(
                    db.execute("INSERT INTO objects (id, structure_id) VALUES (?, ?)", (record.id, ""))
                )
            elif row[1] is not None and row[1] > fetched_at:
                return False
            else:
                rowid = row[0]
                self._unindex(db, rowid)
            db.execute(
                "UPDATE objects SET structure_id=?, title=?, keys=?, blocks=?, tokens=?, fetched_at=?, "
                "trashed=0 WHERE rowid=?",
                (*values, rowid),
            )
            self._index(db, rowid)
        return True

    def listed(
        self, summaries: list[tuple[str, str, str]], listed_at: float | None, seen_at: float | None = None
    ) -> None:
        """Objects seen in a listing page: (id, structure id, title). New ones wait for a fetch;
        a changed title is indexed at once; a trashed one listed again is fetched again.

        `listed_at` None: seen elsewhere (a search), which says nothing about the listing pass,
        so the time it was last listed stays (`sweep` would take the object for gone).
        `seen_at`: when the listing was answered; an object fetched or found gone after that is
        newer than the listing, and its title and state stay.
        """
        with self.transaction() as db:
            for object_id, structure_id, title in summaries:
                row = db.execute(
                    "SELECT rowid, title, trashed, fetched_at FROM objects WHERE id=?", (object_id,)
                ).fetchone()
                if row is None:
                    rowid = _inserted(
                        db.execute(
                            "INSERT INTO objects (id, structure_id, title, listed_at) VALUES (?, ?, ?, ?)",
                            (object_id, structure_id, title, listed_at),
                        )
                    )
                    self._index(db, rowid)
                    continue
                rowid, old_title, trashed, fetched_at = row
                newer = seen_at is not None and fetched_at is not None and fetched_at > seen_at
                if (old_title != title or trashed) and not newer:
                    self._unindex(db, rowid)
                    db.execute(
                        "UPDATE objects SET title=?, trashed=0, fetched_at=CASE WHEN ? THEN NULL "
                        "ELSE fetched_at END WHERE rowid=?",
                        (title, trashed, rowid),
                    )
                    self._index(db, rowid)
                if listed_at is not None:
                    db.execute("UPDATE objects SET listed_at=? WHERE rowid=?", (listed_at, rowid))

    def gone(self, object_id: str) -> None:
        """Trashed or deleted (a 404, a delete through the server, or missing from listings)."""
        with self.transaction() as db:
            row = db.execute("SELECT rowid FROM objects WHERE id=?", (object_id,)).fetchone()
            if row is not None:
                self._unindex(db, row[0])
                db.execute("UPDATE objects SET trashed=1, fetched_at=? WHERE rowid=?", (time.time(), row[0]))

    def stale(self, structure_id: str, titles: list[str], fetched_before: float) -> int:
        """Mark objects of `structure_id` with one of `titles` as fetched no later than
        `fetched_before`, so the crawl fetches them again soon (changed where no answer shows
        it: a daily note after an append, which the API applies later). How many it marked."""
        marks = ",".join("?" * len(titles))
        with self.transaction() as db:
            return db.execute(
                f"UPDATE objects SET fetched_at=? WHERE trashed=0 AND structure_id=? AND title IN ({marks}) "
                "AND fetched_at > ?",
                (fetched_before, structure_id, *titles, fetched_before),
            ).rowcount

    def sweep(self, structure_ids: list[str], pass_started: float) -> int:
        """After complete listings of `structure_ids`: objects none of them showed are gone."""
        marks = ",".join("?" * len(structure_ids))
        stale = self.read(
            f"SELECT id FROM objects WHERE trashed=0 AND structure_id IN ({marks}) "
            "AND (listed_at IS NULL OR listed_at < ?)",
            (*structure_ids, pass_started),
        )
        for (object_id,) in stale:
            self.gone(object_id)
        return len(stale)

    # --- crawl bookkeeping ----------------------------------------------------------------------

    def due(self, limit: int, stale_before: float) -> list[str]:
        """Objects to fetch next: never fetched first, then the least recently fetched."""
        return [
            row[0]
            for row in self.read(
                "SELECT id FROM objects WHERE trashed=0 AND (fetched_at IS NULL OR fetched_at < ?) "
                "ORDER BY fetched_at IS NOT NULL, fetched_at, rowid LIMIT ?",
                (stale_before, limit),
            )
        ]

    def meta(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction() as db:
            if value is None:
                db.execute("DELETE FROM meta WHERE key=?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def listing_state(self, structure_id: str) -> tuple[str | None, bool]:
        rows = self.read("SELECT cursor, done FROM listing WHERE structure_id=?", (structure_id,))
        return (rows[0][0], bool(rows[0][1])) if rows else (None, False)

    def set_listing_state(self, structure_id: str, cursor: str | None, done: bool) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO listing VALUES (?, ?, ?)", (structure_id, cursor, int(done)))

    def reset_listings(self) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM listing")

    def take_lease(self, holder: str, ttl: float) -> bool:
        """Become (or stay) the one process that crawls, for `ttl` seconds."""
        now = time.time()
        with self.transaction() as db:
            row = db.execute("SELECT holder, until FROM lease WHERE name='crawl'").fetchone()
            if row is not None and row[0] != holder and row[1] > now and _alive(row[0]):
                return False
            db.execute("INSERT OR REPLACE INTO lease VALUES ('crawl', ?, ?)", (holder, now + ttl))
            return True

    def release_lease(self, holder: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM lease WHERE name='crawl' AND holder=?", (holder,))

    # --- status ---------------------------------------------------------------------------------

    def stats(self) -> MirrorStats:
        row = self.read(
            "SELECT SUM(trashed=0), SUM(trashed=0 AND fetched_at IS NOT NULL), SUM(trashed=1), "
            "MIN(CASE WHEN trashed=0 THEN fetched_at END) FROM objects"
        )[0]
        last_pass = self.meta("last_pass")
        size = 0
        if self.path is not None:
            for suffix in ("", "-wal"):
                with contextlib.suppress(FileNotFoundError):
                    size += os.stat(f"{self.path}{suffix}").st_size
        else:
            pages = self.read("PRAGMA page_count")[0][0] * self.read("PRAGMA page_size")[0][0]
            size = int(pages)
        return MirrorStats(
            objects=int(row[0] or 0),
            fetched=int(row[1] or 0),
            trashed=int(row[2] or 0),
            oldest_fetch=float(row[3]) if row[3] is not None else None,
            last_pass=float(last_pass) if last_pass else None,
            size_bytes=size,
        )


def _inserted(cursor: sqlite3.Cursor) -> int:
    """The rowid of the row an INSERT just made (no second query to look it up)."""
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _alive(holder: str) -> bool:
    """Whether the process named in a lease (`<pid>-<random>`) still runs on this machine: a crawler
    killed with -9 leaves its lease behind, and the next server should not wait for it to expire."""
    pid = holder.split("-", 1)[0]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _body(blocks_json: str | None) -> str:
    if not blocks_json:
        return ""
    return "\n".join(text for _, text in json.loads(blocks_json))
