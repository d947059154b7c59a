"""A local mirror of one Capacities space: full-text search and property queries without the API.

    mirror = Mirror(client, MirrorOptions(location=":memory:"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(mirror.run)            # crawl at background priority, refresh, resume
        hits = await mirror.search("luhmann slip box")

SQLite with FTS5 (Python's own `sqlite3`), one file per space in the user cache directory, kept
current by a crawl within the API's quotas and by write-through of every call the client makes.
Imports the api package only.
"""

from ._extract import Record, record_of
from ._query import Condition, QueryRow, SearchHit, Sort
from ._store import MEMORY, NO_FTS5_WARNING, SCHEMA_VERSION, MirrorStats, MirrorStore, fts5_available
from ._sync import Mirror, MirrorOptions, default_mirror_dir, describe, mirror_file_name

__all__ = [
    "MEMORY",
    "NO_FTS5_WARNING",
    "SCHEMA_VERSION",
    "Condition",
    "Mirror",
    "MirrorOptions",
    "MirrorStats",
    "MirrorStore",
    "QueryRow",
    "Record",
    "SearchHit",
    "Sort",
    "default_mirror_dir",
    "describe",
    "fts5_available",
    "mirror_file_name",
    "record_of",
]
