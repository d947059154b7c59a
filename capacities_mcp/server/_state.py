"""What the tools share for the life of one server: the client and three small caches.

* `SpaceCache` holds `GET /space` + `GET /space/structures`. The API allows ten of each a minute
  and every write tool needs the structures (to turn "Status: Done" into a label id), so they are
  fetched once per TTL and shared. It also answers "which structure / property / option / collection
  did the model mean?" by id or by name, case-insensitively, so the tools accept what a model
  naturally writes ("tasks", "Book", "In progress").
* `TitleCache` remembers the titles (and structures) of objects seen in any result, so linked objects
  are shown by name instead of as bare UUIDs, and so `update_object` can skip a GET when it already
  knows an object's structure.
* `ContentCache` keeps an object's exported Markdown for a short while, so `get_object` pages
  (`offset=...`) are cut from one consistent text and cost no extra requests.
"""

from __future__ import annotations

import difflib
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from capacities_mcp.api import CapacitiesClient
from capacities_mcp.api.models import (
    BUILTIN_STRUCTURE_IDS,
    ApiObject,
    Collection,
    LabelOption,
    PropertyDefinition,
    Space,
    Structure,
)

from ._connection import Connection
from ._render import block_ids

if TYPE_CHECKING:
    from capacities_mcp.mirror import Mirror

__all__ = [
    "ContentCache",
    "LookupFailed",
    "ServerState",
    "SpaceCache",
    "SpaceSnapshot",
    "TitleCache",
]

DEFAULT_SPACE_TTL = 300.0
# A miss on a fresh snapshot does not refetch: structures rarely change, and the quota is 10/min.
_MISS_REFRESH_AFTER = 30.0


class LookupFailed(LookupError):
    """A name the model gave matches nothing; the message lists what would have matched."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _suggest(wanted: str, names: Iterable[str]) -> str:
    """' Did you mean "X"?' when one known name is close, else ''."""
    by_norm = {_norm(n): n for n in names if n}
    close = difflib.get_close_matches(_norm(wanted), list(by_norm), n=1, cutoff=0.75)
    return f' Did you mean "{by_norm[close[0]]}"?' if close else ""


@dataclass(frozen=True)
class SpaceSnapshot:
    """The space and its structures as fetched at `fetched_at` (monotonic seconds)."""

    space: Space
    structures: tuple[Structure, ...]
    fetched_at: float

    def structure(self, ref: str) -> Structure | None:
        """By id, title or plural name (case-insensitive); None when nothing matches."""
        for structure in self.structures:
            if structure.id == ref:
                return structure
        wanted = _norm(ref)
        for structure in self.structures:
            if wanted in (_norm(structure.title), _norm(structure.plural_name)):
                return structure
        return None

    def structure_name(self, structure_id: str) -> str:
        found = self.structure(structure_id)
        return found.title if found is not None else structure_id

    def collection(self, ref: str, structure: Structure | None = None) -> tuple[Structure, Collection] | None:
        """A collection by id or title, within `structure` when given."""
        candidates = [structure] if structure is not None else list(self.structures)
        for s in candidates:
            for c in s.collections:
                if c.id == ref:
                    return s, c
        wanted = _norm(ref)
        for s in candidates:
            for c in s.collections:
                if _norm(c.title) == wanted:
                    return s, c
        return None


class SpaceCache:
    """`GET /space` + `GET /space/structures`, cached for `ttl` seconds (`refresh=True` forces)."""

    def __init__(self, client: CapacitiesClient, ttl: float = DEFAULT_SPACE_TTL) -> None:
        self._client = client
        self.ttl = ttl
        self._snapshot: SpaceSnapshot | None = None
        self._lock = anyio.Lock()

    @property
    def cached(self) -> SpaceSnapshot | None:
        """The last snapshot, however old (None before the first fetch)."""
        return self._snapshot

    def invalidate(self) -> None:
        self._snapshot = None

    async def get(self, refresh: bool = False) -> SpaceSnapshot:
        """The snapshot, fetched when missing, older than the TTL, or when `refresh` is set.

        Concurrent callers share one fetch (the lock), so a burst of tool calls at start-up
        spends two requests, not twenty.
        """
        seen = self._snapshot
        if not refresh and seen is not None and not self._expired(seen):
            return seen
        async with self._lock:
            current = self._snapshot
            # Another caller refreshed while we waited: use theirs.
            if current is not None and current is not seen and not self._expired(current):
                return current
            if not refresh and current is not None and not self._expired(current):
                return current
            space = await self._client.space.get()
            structures = await self._client.space.structures()
            self._snapshot = SpaceSnapshot(space, tuple(structures.structures), time.monotonic())
            return self._snapshot

    def _expired(self, snapshot: SpaceSnapshot) -> bool:
        return time.monotonic() - snapshot.fetched_at >= self.ttl

    async def structure(self, ref: str) -> Structure:
        """The structure the model named (id, title or plural, any case).

        A miss on a snapshot older than 30 s refetches once (a type may have just been added in
        the app). Raises `LookupFailed` listing the known structures.
        """
        ref = ref.strip()
        snapshot = await self.get()
        found = snapshot.structure(ref)
        if found is None and time.monotonic() - snapshot.fetched_at > _MISS_REFRESH_AFTER:
            snapshot = await self.get(refresh=True)
            found = snapshot.structure(ref)
        if found is not None:
            return found
        if ref in BUILTIN_STRUCTURE_IDS:
            # Built-in types such as RootPage work even when the space does not list them.
            return Structure(
                id=ref,
                title=ref,
                plural_name=ref,
                property_definitions=[],
                label_color="gray",
                collections=[],
            )
        names = [s.title for s in snapshot.structures]
        raise LookupFailed(
            f'No structure (object type) named or with id "{ref}".'
            f"{_suggest(ref, names + [s.plural_name for s in snapshot.structures])} "
            f"Known structures: {', '.join(names)}. Call get_space for their ids and properties.",
            field="structure",
        )

    @staticmethod
    def get_property(structure: Structure, ref: str) -> PropertyDefinition:
        """A property of `structure` by id or name (any case); `LookupFailed` lists the writable ones."""
        found = find_property(structure, ref.strip())
        if found is None:
            raise property_lookup_failed(structure, ref)
        return found

    @staticmethod
    def get_label_option(prop: PropertyDefinition, ref: str) -> LabelOption:
        """A label option by name or id (any case); `LookupFailed` lists the options."""
        found = find_label_option(prop, ref.strip())
        if found is None:
            raise label_lookup_failed(prop, ref)
        return found

    async def collection(self, ref: str, structure: Structure | None = None) -> Collection:
        ref = ref.strip()
        snapshot = await self.get()
        found = snapshot.collection(ref, structure)
        if found is None:
            where = f' of "{structure.title}"' if structure is not None else ""
            known = [
                c.title for s in ([structure] if structure else snapshot.structures) for c in s.collections
            ]
            raise LookupFailed(
                f'No collection{where} named or with id "{ref}".{_suggest(ref, known)} '
                + (f"Known collections: {', '.join(known)}." if known else "There are none.")
                + " Call get_space to see collections per structure.",
                field="collections",
            )
        return found[1]


def find_property(structure: Structure, ref: str) -> PropertyDefinition | None:
    """A property of `structure` by id or name (case-insensitive); `title` also matches "Title"."""
    for prop in structure.property_definitions:
        if prop.id == ref:
            return prop
    wanted = _norm(ref)
    for prop in structure.property_definitions:
        name = prop.name or (prop.id if prop.type == "title" else "")
        if _norm(name) == wanted or (prop.type == "title" and wanted in ("title", "name")):
            return prop
    return None


def property_lookup_failed(structure: Structure, ref: str) -> LookupFailed:
    names = [p.name or p.id for p in structure.property_definitions if p.writable]
    return LookupFailed(
        f'"{structure.title}" has no property named or with id "{ref}".{_suggest(ref, names)} '
        f"Writable properties: {', '.join(names) or 'none'}.",
        field="properties",
    )


def find_label_option(prop: PropertyDefinition, ref: str) -> LabelOption | None:
    """A label option by name or id, case-insensitive."""
    options = prop.label_set or []
    for option in options:
        if option.id == ref:
            return option
    wanted = _norm(ref)
    for option in options:
        if _norm(option.name) == wanted or _norm(option.id) == wanted:
            return option
    return None


def label_lookup_failed(prop: PropertyDefinition, ref: str) -> LookupFailed:
    names = [o.name for o in prop.label_set or []]
    return LookupFailed(
        f'"{prop.name}" has no option "{ref}".{_suggest(ref, names)} '
        f"Options: {', '.join(names) or 'none'} (new options cannot be created through the API).",
        field="properties",
    )


@dataclass(frozen=True)
class KnownObject:
    title: str
    structure_id: str | None


class TitleCache:
    """Titles and structures of objects seen recently (bounded LRU; stale entries are harmless)."""

    def __init__(self, max_entries: int = 5000) -> None:
        self._entries: OrderedDict[str, KnownObject] = OrderedDict()
        self._max = max_entries
        self._listed: dict[str, float] = {}  # structure id -> monotonic time of the last listing

    def remember(self, object_id: str, title: str | None, structure_id: str | None = None) -> None:
        if not object_id or title is None:
            return
        previous = self._entries.pop(object_id, None)
        if structure_id is None and previous is not None:
            structure_id = previous.structure_id
        self._entries[object_id] = KnownObject(title, structure_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def forget(self, object_id: str) -> None:
        self._entries.pop(object_id, None)

    def get(self, object_id: str) -> KnownObject | None:
        return self._entries.get(object_id)

    def title(self, object_id: str) -> str | None:
        known = self._entries.get(object_id)
        return known.title if known is not None else None

    def listed_recently(self, structure_id: str, ttl: float) -> bool:
        at = self._listed.get(structure_id)
        return at is not None and time.monotonic() - at < ttl

    def mark_listed(self, structure_id: str) -> None:
        self._listed[structure_id] = time.monotonic()


class ContentCache:
    """Exported Markdown (or a rendered block outline) per object, kept `ttl` seconds for paging.

    It also keeps the block ids of each object's last full read (`GET /object`, or the object an
    append returned) for `ids_ttl` seconds, so a Markdown append right after a read or another
    append can tell its new blocks from the old ones without one more `GET /object`.
    """

    def __init__(self, ttl: float = 120.0, max_entries: int = 32, ids_ttl: float = 60.0) -> None:
        self.ttl = ttl
        self.ids_ttl = ids_ttl
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, str], tuple[float, str, str]] = OrderedDict()
        self._ids: OrderedDict[str, tuple[float, frozenset[str]]] = OrderedDict()

    def block_ids(self, object_id: str) -> frozenset[str] | None:
        """Every block id of the object as last read, when that read is fresh."""
        entry = self._ids.get(object_id)
        if entry is None or time.monotonic() - entry[0] > self.ids_ttl:
            return None
        return entry[1]

    def put_block_ids(self, obj: ApiObject) -> None:
        """Every block id of `obj`, as just read in full."""
        ids = frozenset(block_id for _, block_id, _ in block_ids(obj.blocks))
        self._ids[obj.id] = (time.monotonic(), ids)
        self._ids.move_to_end(obj.id)
        while len(self._ids) > self._max:
            self._ids.popitem(last=False)

    def remember(self, obj: ApiObject) -> None:
        """After an append (whose answer is the whole object): drop the object's cached pages
        and keep its block ids for the next append."""
        self.invalidate(obj.id)
        self.put_block_ids(obj)

    def forget_block_ids(self) -> None:
        """After a write whose target is unknown (a daily-note append), trust no block list."""
        self._ids.clear()

    def get(self, object_id: str, fmt: str) -> tuple[str, str] | None:
        """(title, text) when cached and fresh."""
        entry = self._entries.get((object_id, fmt))
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            return None
        return entry[1], entry[2]

    def put(self, object_id: str, fmt: str, title: str, text: str) -> None:
        self._entries[(object_id, fmt)] = (time.monotonic(), title, text)
        self._entries.move_to_end((object_id, fmt))
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def invalidate(self, object_id: str) -> None:
        """Called after every write to the object, so no page is cut from stale text."""
        for key in [k for k in self._entries if k[0] == object_id]:
            del self._entries[key]
        self._ids.pop(object_id, None)


@dataclass
class ServerState:
    """The lifespan state every tool reads through `ctx.request_context.lifespan_context`."""

    client: CapacitiesClient
    space: SpaceCache
    sandbox_note: str | None = None
    titles: TitleCache = field(default_factory=TitleCache)
    content: ContentCache = field(default_factory=ContentCache)
    # The local mirror (full-text search, property queries); None when turned off or remote.
    mirror: Mirror | None = None
    # Whether the credentials work (see _connection.py); it watches every answer of `client`.
    connection: Connection = field(init=False)

    def __post_init__(self) -> None:
        self.connection = Connection(self.client.base_url)
        self.client.add_observer(self.connection.observe)
