"""What the API does to a space: the semantics behind every route, on plain wire-form dicts.

Handlers in `_app.py` validate the request with the route table's models first; this module
then checks what only the space can tell (does the object exist, is the property writable, is
the label option known) and applies the change. Callers hold `store.lock`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from capacities_mcp._collector import collector_paused

from ..api import format_issues, issues_from
from ._clock import Clock
from ._content import (
    DATE_ONLY as _DATE_ONLY,
)
from ._content import (
    PARENT_BLOCK_TYPES,
    day_iso,
    find_block,
    new_id,
    readable_block,
    readable_blocks,
    readable_date,
    readable_tokens,
)
from ._content import (
    parse_iso as _parse_iso,
)
from ._errors import SandboxApiError, invalid_input, not_found
from ._store import SandboxStore

if TYPE_CHECKING:
    from ._seed import SeedSpace

__all__ = [
    "DAILY_NOTE_BLOCKS",
    "LIST_PAGE_SIZE",
    "ParsedMarkdown",
    "SpaceService",
    "markdown_document_body",
    "store_from_seed",
]

Obj = dict[str, Any]
DAILY_NOTE_BLOCKS = "RootDailyNote_notes"
LIST_PAGE_SIZE = 100
_CREATABLE_BUILTINS = ("RootPage", "RootTag", "RootTask")
_CANNOT_CREATE = "This object type cannot be created via this endpoint."
_NOT_UPDATABLE = ("MediaWebResource",)
_CANNOT_UPDATE = "This object type cannot be updated via this endpoint."
_DEFAULT_DEFINITIONS = [{"id": "title", "name": "", "type": "title", "writable": True}]
_SIMPLE_VALUE_TYPES = ("title", "text", "number", "boolean", "url", "aliases", "createdAt", "icon")


@dataclass(frozen=True)
class ParsedMarkdown:
    """A request's Markdown, parsed before the store lock was taken (see `parse_markdown`)."""

    text: str
    blocks: list[Obj]


_PARSED_AHEAD: ContextVar[ParsedMarkdown | None] = ContextVar("sandbox_parsed_markdown", default=None)


class SpaceService:
    """The space's rules, over a `SandboxStore`."""

    def __init__(self, store: SandboxStore, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or Clock()

    # --- reading -------------------------------------------------------------------------------

    def live_object(self, object_id: str) -> Obj:
        obj = self.store.get_object(object_id)
        if obj is None:
            raise not_found(f"Object {object_id} not found")
        return obj

    def summary(self, obj: Obj) -> dict[str, str]:
        return {"id": obj["id"], "structureId": obj["structureId"], "title": self.store.title_of(obj)}

    def structures_response(self) -> dict[str, Any]:
        return {"structures": self.store.structures}

    def definitions(self, structure_id: str) -> list[dict[str, Any]]:
        structure = self.store.structure(structure_id)
        return structure["propertyDefinitions"] if structure is not None else _DEFAULT_DEFINITIONS

    def markdown_of(self, obj: Obj) -> str:
        """`# Title` plus the body; entity links point at the object's web URL."""
        from ._markdown import blocks_to_markdown

        def entity_link(object_id: str) -> tuple[str, str] | None:
            target = self.store.get_object(object_id)
            if target is None:
                return None
            return self.store.title_of(target), self.store.object_url(object_id)

        main = self.store.content_property_of(obj["structureId"])
        blocks = obj.get("blocks", {})
        keys = [main] if main in blocks else []
        keys += [key for key in blocks if key != main]
        with collector_paused():
            bodies = [blocks_to_markdown(blocks[key], entity_link=entity_link) for key in keys]
        body = "\n\n".join(part.strip("\n") for part in bodies if part.strip())
        title = self.store.title_of(obj)
        return f"# {title}\n\n{body}" if body else f"# {title}"

    # --- search and listing --------------------------------------------------------------------

    def search(self, query: str, structure_ids: list[str] | None, limit: int | None) -> Obj:
        wanted = query.strip().casefold()
        word_start = re.compile(r"(?<!\w)" + re.escape(wanted))
        allowed = set(structure_ids) if structure_ids else None
        ranked: list[tuple[int, str, str, Obj]] = []
        for obj in self.store.live_objects():
            if allowed is not None and obj["structureId"] not in allowed:
                continue
            title = self.store.title_of(obj)
            folded = title.casefold()
            if folded == wanted:
                rank = 0
            elif folded.startswith(wanted):
                rank = 1
            elif word_start.search(folded):
                rank = 2
            elif wanted in folded:
                rank = 3
            else:
                continue
            ranked.append((rank, folded, obj["id"], obj))
        ranked.sort(key=lambda item: item[:3])
        return {"results": [self.summary(item[3]) for item in ranked[: limit or 20]]}

    def list_page(self, kind: str, target_id: str, page_size: int | None, cursor: str | None) -> Obj:
        """One page of a structure's, tag's or collection's objects, behind an opaque cursor."""
        summaries = self._listing(kind, target_id)
        offset = self._decode_cursor(cursor, kind, target_id) if cursor else 0
        size = page_size or LIST_PAGE_SIZE
        page = summaries[offset : offset + size]
        has_more = offset + size < len(summaries)
        out: Obj = {"results": page, "hasMore": has_more}
        if has_more:
            out["nextCursor"] = self._encode_cursor(kind, target_id, offset + size)
        return out

    def _listing(self, kind: str, target_id: str) -> list[dict[str, str]]:
        live = list(self.store.live_objects())
        if kind == "structure":
            if target_id == "RootDatabase":
                return [
                    {"id": c["id"], "structureId": "RootDatabase", "title": c["title"]}
                    for s in self.store.structures
                    for c in s.get("collections", [])
                ]
            known = self.store.structure(target_id) is not None or any(
                obj["structureId"] == target_id for obj in live
            )
            if not known and target_id not in (*_CREATABLE_BUILTINS, "RootDailyNote"):
                raise not_found(f"Structure {target_id} not found")
            return [self.summary(obj) for obj in live if obj["structureId"] == target_id]
        if kind == "tag":
            tag = self.store.get_object(target_id)
            if tag is None or tag["structureId"] != "RootTag":
                raise not_found(f"Tag {target_id} not found")
            return [
                self.summary(obj)
                for obj in live
                if any(t.get("id") == target_id for t in _entity_ids(obj.get("properties", {}).get("tags")))
            ]
        if target_id not in self.store.collection_ids():
            raise not_found(f"Collection {target_id} not found")
        return [self.summary(obj) for obj in live if target_id in obj["collections"]]

    @staticmethod
    def _encode_cursor(kind: str, target_id: str, offset: int) -> str:
        raw = json.dumps({"k": kind, "i": target_id, "o": offset}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def _decode_cursor(cursor: str, kind: str, target_id: str) -> int:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
            if data["k"] == kind and data["i"] == target_id and isinstance(data["o"], int):
                return max(0, data["o"])
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            pass
        raise invalid_input("Invalid cursor: pass the `nextCursor` of the previous page", ["cursor"])

    # --- properties ----------------------------------------------------------------------------

    def readable_properties(
        self, structure_id: str, values: Mapping[str, Any], path: tuple[str, ...] = ("properties",)
    ) -> dict[str, Any]:
        """Check written values against the structure's definitions; return them as read back."""
        definitions = {d["id"]: d for d in self.definitions(structure_id)}
        out: dict[str, Any] = {}
        for property_id, value in values.items():
            where = (*path, property_id)
            definition = definitions.get(property_id)
            if definition is None:
                raise invalid_input(
                    f"Unknown property `{property_id}` for structure {structure_id}; known: "
                    + ", ".join(sorted(definitions)),
                    where,
                )
            if not definition.get("writable"):
                raise invalid_input(f"Property `{property_id}` is not writable", where)
            out[property_id] = self._readable_value(definition, value, where)
        return out

    def _readable_value(
        self, definition: dict[str, Any], value: dict[str, Any], where: tuple[str, ...]
    ) -> Obj:
        kind = value["type"]
        expected = definition["type"]
        if kind != expected:
            raise invalid_input(
                f"Property `{definition['id']}` has type {expected}, not {kind}", (*where, "type")
            )
        payload = value[kind]
        if kind in _SIMPLE_VALUE_TYPES:
            return {"type": kind, kind: {"value": payload["value"]}}
        if kind == "date":
            return {"type": "date", "date": readable_date(payload)}
        if kind == "richText":
            return {"type": "richText", "richText": {"value": readable_tokens(payload["value"])}}
        if kind == "label":
            return {"type": "label", "label": self._label_options(definition, payload, where)}
        if kind == "entity":
            return {"type": "entity", "entity": self._entity_targets(definition, payload, where)}
        raise invalid_input(f"Property type {kind} cannot be written", (*where, "type"))

    @staticmethod
    def _label_options(
        definition: dict[str, Any], selected: list[dict[str, Any]], where: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        options = {o["id"]: o for o in definition.get("labelSet") or []}
        chosen: list[dict[str, Any]] = []
        for index, option in enumerate(selected):
            known = options.get(option["id"])
            if known is None:
                raise invalid_input(
                    f"Unknown label option `{option['id']}` for property `{definition['id']}`; "
                    "options: " + ", ".join(f"{o['id']} ({o['name']})" for o in options.values()),
                    (*where, "label", index, "id"),
                )
            if known not in chosen:
                chosen.append(known)
        if not definition.get("multiple"):
            chosen = chosen[:1]
        return [dict(option) for option in chosen]

    def _entity_targets(
        self, definition: dict[str, Any], targets: list[dict[str, Any]], where: tuple[str, ...]
    ) -> list[dict[str, str]]:
        allowed = definition.get("allowedStructures") or None
        out: list[dict[str, str]] = []
        for index, target in enumerate(targets):
            obj = self.store.get_object(target["id"])
            if obj is None:
                raise invalid_input(
                    f"Linked object {target['id']} does not exist", (*where, "entity", index, "id")
                )
            if allowed is not None and obj["structureId"] not in allowed:
                raise invalid_input(
                    f"Property `{definition['id']}` can only link {', '.join(allowed)} objects",
                    (*where, "entity", index, "id"),
                )
            if {"id": obj["id"]} not in out:
                out.append({"id": obj["id"]})
        return out

    def check_collections(self, structure_id: str, collections: list[str]) -> list[str]:
        """The collections an object of `structure_id` may be put in (each once), else a 400.

        Every write that places an object (create, update, media upload) checks here, so they
        all refuse another structure's collection alike.
        """
        known = self.store.collection_ids(structure_id)
        for index, collection in enumerate(collections):
            if collection not in known:
                message = (
                    f"Collection {collection} does not belong to structure {structure_id}"
                    if collection in self.store.collection_ids()
                    else f"Unknown collection {collection}"
                )
                raise invalid_input(message, ("collections", index))
        return list(dict.fromkeys(collections))

    def _block_property(self, obj: Obj, property_id: str | None, path: tuple[str | int, ...]) -> str:
        main = self.store.content_property_of(obj["structureId"])
        if property_id is None:
            return main
        if property_id != main and property_id not in obj.get("blocks", {}):
            raise invalid_input(
                f"Unknown block property `{property_id}` for structure {obj['structureId']}; use `{main}`",
                path,
            )
        return property_id

    def _touch(self, obj: Obj) -> None:
        stamp = self.clock.now_iso()
        obj["lastUpdatedAt"] = stamp
        for definition in self.definitions(obj["structureId"]):
            if definition["type"] == "lastUpdatedAt":
                obj["properties"][definition["id"]] = {
                    "type": "lastUpdatedAt",
                    "lastUpdatedAt": {"value": stamp},
                }

    # --- objects -------------------------------------------------------------------------------

    def _check_creatable(self, structure_id: str) -> None:
        if structure_id in _CREATABLE_BUILTINS:
            return
        if structure_id.startswith(("Root", "Media", "User", "Util")):
            raise invalid_input(_CANNOT_CREATE, ("structureId",))
        if self.store.structure(structure_id) is None:
            raise invalid_input(f"Unknown structure {structure_id}", ("structureId",))

    def new_object(self, structure_id: str, *, title: str | None = None) -> Obj:
        """A fresh, empty object with its built-in timestamps (not yet in the store)."""
        stamp = self.clock.now_iso()
        obj: Obj = {
            "id": new_id(),
            "structureId": structure_id,
            "collections": [],
            "properties": {"title": {"type": "title", "title": {"value": title}}},
            "blocks": {},
            "createdAt": stamp,
            "lastUpdatedAt": stamp,
        }
        for definition in self.definitions(structure_id):
            if definition["type"] == "createdAt":
                obj["properties"][definition["id"]] = {"type": "createdAt", "createdAt": {"value": stamp}}
            elif definition["type"] == "lastUpdatedAt":
                obj["properties"][definition["id"]] = {
                    "type": "lastUpdatedAt",
                    "lastUpdatedAt": {"value": stamp},
                }
        return obj

    def create_object(self, body: Obj) -> Obj:
        structure_id = body["structureId"]
        self._check_creatable(structure_id)
        obj = self.new_object(structure_id)
        obj["properties"].update(self.readable_properties(structure_id, body.get("properties") or {}))
        if body.get("collections") is not None:
            obj["collections"] = self.check_collections(structure_id, body["collections"])
        main = self.store.content_property_of(structure_id)
        given_blocks: dict[str, list[Obj]] = body.get("blocks") or {}
        for key in given_blocks:
            if key != main:
                raise invalid_input(
                    f"Unknown block property `{key}` for structure {structure_id}; use `{main}`",
                    ("blocks", key),
                )
        if main in given_blocks:
            obj["blocks"][main] = readable_blocks(given_blocks[main])
        else:  # the app gives a new page one empty paragraph
            obj["blocks"][main] = readable_blocks([{"type": "TextBlock", "tokens": []}])
        self.store.objects[obj["id"]] = obj
        return obj

    def update_object(self, body: Obj) -> Obj:
        obj = self.store.get_object(body["id"], include_trashed=True)
        if obj is None or (obj.get("deleted") and body.get("deleteRequested") is None):
            raise not_found(f"Object {body['id']} not found")
        structure_id = obj["structureId"]
        if structure_id in _NOT_UPDATABLE:  # weblinks: the live API rejects PATCH /object
            raise invalid_input(_CANNOT_UPDATE, ("id",))
        properties = self.readable_properties(structure_id, body.get("properties") or {})
        collections = (
            self.check_collections(structure_id, body["collections"])
            if body.get("collections") is not None
            else None
        )
        new_blocks: dict[str, list[Obj]] = {}
        for key, blocks in (body.get("blocks") or {}).items():
            self._block_property(obj, key, ("blocks", key))
            new_blocks[key] = readable_blocks(blocks)
        obj["properties"].update(properties)
        if collections is not None:
            obj["collections"] = collections
        obj.setdefault("blocks", {}).update(new_blocks)
        if body.get("deleteRequested") is not None:
            obj["deleted"] = bool(body["deleteRequested"])
        self._touch(obj)
        return obj

    def delete_object(self, object_id: str, *, hard: bool) -> None:
        obj = self.store.get_object(object_id, include_trashed=hard)
        if obj is None:
            raise not_found(f"Object {object_id} not found")
        if hard:
            del self.store.objects[object_id]
        else:
            obj["deleted"] = True
            self._touch(obj)

    def create_from_url(self, body: Obj) -> Obj:
        url = body["url"]
        obj = self.new_object("MediaWebResource", title=_title_from_url(url))
        given = body.get("properties") or {}
        if given.get("title") is not None:
            obj["properties"]["title"] = {
                "type": "title",
                "title": {"value": given["title"]["title"]["value"]},
            }
        if given.get("description") is not None:
            obj["properties"]["description"] = {
                "type": "text",
                "text": {"value": given["description"]["text"]["value"]},
            }
        obj["properties"]["media_URLReference"] = {"type": "url", "url": {"value": url}}
        main = self.store.content_property_of("MediaWebResource")
        if body.get("markdown") is not None:
            obj["blocks"][main] = self.blocks_from_markdown(body["markdown"])
        elif body.get("blocks") is not None:
            for key, blocks in body["blocks"].items():
                if key != main:
                    raise invalid_input(
                        f"Unknown block property `{key}` for weblinks; use `{main}`", ("blocks", key)
                    )
                obj["blocks"][main] = readable_blocks(blocks)
        else:
            obj["blocks"][main] = []
        self.store.objects[obj["id"]] = obj
        return obj

    # --- markdown ------------------------------------------------------------------------------

    def _content_of(self, body: Mapping[str, Any]) -> list[Obj]:
        """The new blocks of an append: its `markdown` parsed, or its `blocks` given ids."""
        if body.get("markdown") is not None:
            return self.blocks_from_markdown(body["markdown"])
        return readable_blocks(body["blocks"])

    @staticmethod
    @contextmanager
    def markdown_parsed_ahead(parsed: ParsedMarkdown | None) -> Iterator[None]:
        """While inside, `blocks_from_markdown(parsed.text)` hands out `parsed.blocks`."""
        token = _PARSED_AHEAD.set(parsed)
        try:
            yield
        finally:
            _PARSED_AHEAD.reset(token)

    def blocks_from_markdown(self, markdown: str) -> list[Obj]:
        """Markdown as readable blocks with ids; `[[Name]]` links to an existing object's id.

        Uses the blocks parsed ahead for this text (see `markdown_parsed_ahead`), once.
        """
        ahead = _PARSED_AHEAD.get()
        if ahead is not None and ahead.text == markdown:
            _PARSED_AHEAD.set(None)
            return ahead.blocks
        return self.parse_markdown(markdown)

    def parse_markdown(self, markdown: str, *, titles: dict[str, str] | None = None) -> list[Obj]:
        """Markdown as readable blocks; safe to call without holding `store.lock`.

        `titles`: the index `_ids_by_title` gives, when the caller (the seed loader) has one.

        Parsing a large document takes CPU time, so the app does it before taking the lock
        (other requests go on meanwhile); link lookups take the lock for a moment each, and see
        the space as it is while the document is parsed. The parser's output is writable by
        construction (its tests check it against the block models), so it is not validated
        again: that took longer than parsing itself for large documents.
        """
        from ._markdown import markdown_to_blocks

        def resolve(name: str) -> str | None:
            # One index per document, not a scan of the space per link.
            nonlocal titles
            if titles is None:
                with self.store.lock:
                    titles = self._ids_by_title()
            return titles.get(name.strip().casefold())

        prefix = self.store.object_url("")

        def resolve_url(url: str) -> str | None:
            # Links exported by GET /object/markdown come back as links to the same objects.
            if not url.startswith(prefix):
                return None
            object_id = url[len(prefix) :]
            with self.store.lock:
                known = self.store.get_object(object_id) is not None
            return object_id if known else None

        with collector_paused():
            return readable_blocks(
                markdown_to_blocks(markdown, resolve_link=resolve, resolve_url=resolve_url)
            )

    def _ids_by_title(self) -> dict[str, str]:
        """Live objects by folded title; the first created wins, as in `find_by_title`."""
        ids: dict[str, str] = {}
        for obj in self.store.live_objects():
            ids.setdefault(self.store.title_of(obj).strip().casefold(), obj["id"])
        return ids

    def create_from_markdown(self, structure_id: str, markdown: str) -> Obj:
        from ._markdown import split_title

        self._check_creatable(structure_id)
        front_matter, rest = self._front_matter(markdown)
        title, body = split_title(rest)
        obj = self.new_object(structure_id, title=title)
        obj["properties"].update(self.front_matter_properties(structure_id, front_matter))
        obj["blocks"][self.store.content_property_of(structure_id)] = self.blocks_from_markdown(body)
        self.store.objects[obj["id"]] = obj
        return obj

    def update_from_markdown(self, object_id: str, markdown: str) -> Obj:
        """Only the front matter is applied; the body is ignored, as the live API does."""
        obj = self.live_object(object_id)
        front_matter, _ = self._front_matter(markdown)
        obj["properties"].update(self.front_matter_properties(obj["structureId"], front_matter))
        self._touch(obj)
        return obj

    @staticmethod
    def _front_matter(markdown: str) -> tuple[dict[str, Any], str]:
        from ._markdown import split_front_matter

        try:
            return split_front_matter(markdown)
        except ValueError as exc:
            raise invalid_input(str(exc), ("markdown",)) from None

    def front_matter_properties(self, structure_id: str, front_matter: Mapping[str, Any]) -> dict[str, Any]:
        """Plain YAML values (label option names, titles of linked objects, dates) as properties."""
        definitions = self.definitions(structure_id)
        written: dict[str, Any] = {}
        for key, raw in front_matter.items():
            where = ("markdown", "frontmatter", str(key))
            definition = next((d for d in definitions if d["id"] == key), None) or next(
                (d for d in definitions if d.get("name") and d["name"].casefold() == str(key).casefold()),
                None,
            )
            if definition is None:
                raise invalid_input(
                    f"Unknown property `{key}` for structure {structure_id}; known: "
                    + ", ".join(d["id"] for d in definitions),
                    where,
                )
            written[definition["id"]] = self._front_matter_value(definition, raw, where)
        return self.readable_properties(structure_id, written, ("markdown", "frontmatter"))

    def _front_matter_value(self, definition: dict[str, Any], raw: Any, where: tuple[str, ...]) -> Obj:
        kind = definition["type"]

        def fail(expected: str) -> SandboxApiError:
            return invalid_input(f"Expected {expected} for property `{definition['id']}`", where)

        if kind in ("title", "text", "url"):
            if raw is not None and not isinstance(raw, (str, int, float)):
                raise fail("a string")
            return {"type": kind, kind: {"value": None if raw is None else str(raw)}}
        if kind == "number":
            if raw is not None and (isinstance(raw, bool) or not isinstance(raw, (int, float))):
                raise fail("a number")
            return {"type": "number", "number": {"value": raw}}
        if kind == "boolean":
            if raw is not None and not isinstance(raw, bool):
                raise fail("true or false")
            return {"type": "boolean", "boolean": {"value": raw}}
        if kind == "date":
            return {"type": "date", "date": _front_matter_date(raw, fail)}
        if kind == "label":
            names = _as_list(raw)
            options = definition.get("labelSet") or []
            chosen = []
            for name in names:
                option = next(
                    (
                        o
                        for o in options
                        if str(name).casefold() in (o["name"].casefold(), o["id"].casefold())
                    ),
                    None,
                )
                if option is None:
                    raise invalid_input(
                        f"Unknown option `{name}` for property `{definition['id']}`; options: "
                        + ", ".join(o["name"] for o in options),
                        where,
                    )
                chosen.append({"id": option["id"], "name": option["name"]})
            return {"type": "label", "label": chosen}
        if kind == "entity":
            names = _as_list(raw)
            targets = []
            for name in names[:1]:  # the live API links at most one object from front matter
                found = self.store.get_object(str(name)) or self.store.find_by_title(
                    str(name), definition.get("allowedStructures") or None
                )
                if found is None:
                    raise invalid_input(f"No object titled `{name}` to link from `{definition['id']}`", where)
                targets.append({"id": found["id"]})
            return {"type": "entity", "entity": targets}
        if kind == "aliases":
            values = _as_list(raw)
            return {"type": "aliases", "aliases": {"value": [str(v) for v in values]}}
        if kind == "richText":
            text = "" if raw is None else str(raw)
            tokens = [{"type": "TextToken", "text": text, "style": {}}] if text else []
            return {"type": "richText", "richText": {"value": tokens}}
        if kind == "createdAt":
            return {"type": "createdAt", "createdAt": {"value": _front_matter_date(raw, fail)["start"]}}
        raise invalid_input(f"Property `{definition['id']}` ({kind}) cannot be set from front matter", where)

    # --- blocks --------------------------------------------------------------------------------

    def append_blocks(self, body: Obj) -> Obj:
        obj = self.live_object(body["id"])
        property_id = self._block_property(obj, body.get("propertyId"), ("propertyId",))
        position = body.get("position") or {"type": "end"}
        parent_id = body.get("parentBlockId")
        if parent_id is not None and position["type"] == "after_block":
            raise invalid_input(
                "Do not combine `parentBlockId` with an `after_block` position.", ("parentBlockId",)
            )
        tree: list[Obj] = obj.setdefault("blocks", {}).setdefault(property_id, [])
        new_blocks = self._content_of(body)
        if parent_id is not None:
            parent = find_block(tree, parent_id)
            if parent is None:
                raise not_found(f"Parent block {parent_id} not found in `{property_id}`")
            if parent.block["type"] not in PARENT_BLOCK_TYPES:
                raise invalid_input(
                    f"Block {parent_id} is a {parent.block['type']}; only TextBlock and GroupBlock "
                    "can hold child blocks",
                    ("parentBlockId",),
                )
            siblings: list[Obj] = parent.block.setdefault("blocks", [])
            index = 0 if position["type"] == "start" else len(siblings)
        elif position["type"] == "after_block":
            anchor_id = position["after_block"]["id"]
            anchor = find_block(tree, anchor_id)
            if anchor is None:
                raise not_found(f"Block {anchor_id} not found in `{property_id}`")
            siblings, index = anchor.siblings, anchor.index + 1
        else:
            siblings = tree
            index = 0 if position["type"] == "start" else len(tree)
        siblings[index:index] = new_blocks
        self._touch(obj)
        return obj

    def update_block(self, body: Obj) -> Obj:
        obj = self.live_object(body["id"])
        location, _ = self._locate_block(obj, body["blockId"], body.get("propertyId"))
        existing = location.block
        replacement = body["block"]
        if replacement["type"] != existing["type"]:
            raise invalid_input(
                f"Block {existing['id']} is a {existing['type']}; the replacement must have the same type",
                ("block", "type"),
            )
        location.siblings[location.index] = readable_block(replacement, keep=existing)
        self._touch(obj)
        return obj

    def delete_block(self, object_id: str, block_id: str) -> Obj:
        obj = self.live_object(object_id)
        location, _ = self._locate_block(obj, block_id, None)
        del location.siblings[location.index]
        self._touch(obj)
        return obj

    def _locate_block(self, obj: Obj, block_id: str, property_id: str | None) -> tuple[Any, str]:
        blocks: dict[str, list[Obj]] = obj.get("blocks", {})
        if property_id is not None:
            self._block_property(obj, property_id, ("propertyId",))
            keys: Iterable[str] = [property_id]
        else:
            keys = list(blocks)
        for key in keys:
            found = find_block(blocks.get(key, []), block_id)
            if found is not None:
                return found, key
        raise not_found(f"Block {block_id} not found in object {obj['id']}")

    # --- daily notes ---------------------------------------------------------------------------

    def prepare_daily_note_append(self, body: Obj) -> Callable[[], None]:
        """Check the request now; return the change to apply later (the API queues it)."""
        day = _daily_note_day(body.get("date"), self.clock.today())
        blocks = self._content_of(body)
        if not body.get("noTimeStamp"):
            stamp = self.clock.now().strftime("%H:%M")
            heading = {
                "type": "TextBlock",
                "tokens": [{"type": "TextToken", "text": stamp, "style": {}}],
                "hierarchy": {"key": "H3", "val": 3},
            }
            blocks = [readable_block(heading), *blocks]

        def apply() -> None:
            note = self.daily_note(day)
            note.setdefault("blocks", {}).setdefault(DAILY_NOTE_BLOCKS, []).extend(blocks)
            self._touch(note)

        return apply

    def daily_note(self, day: dt.date) -> Obj:
        """The note of `day`, created when it does not exist yet."""
        title = day_iso(day)
        for obj in self.store.live_objects():
            if obj["structureId"] == "RootDailyNote" and self.store.title_of(obj) == title:
                return obj
        obj = self.new_object("RootDailyNote", title=title)
        obj["blocks"][DAILY_NOTE_BLOCKS] = []
        self.store.objects[obj["id"]] = obj
        return obj


# --- helpers -----------------------------------------------------------------------------------


def markdown_document_body(markdown: str) -> str:
    """What `create_from_markdown` turns into blocks: no front matter, no leading `# Title`."""
    from ._markdown import split_title, strip_front_matter

    return split_title(strip_front_matter(markdown))[1]


def _as_list(raw: Any) -> list[Any]:
    """A YAML value that may be one item, a list of items, or empty."""
    return raw if isinstance(raw, list) else [] if raw is None else [raw]


def _entity_ids(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict) and value.get("type") == "entity":
        return list(value.get("entity") or [])
    return []


def _title_from_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return f"{parts.netloc}{path}" if path else parts.netloc or url


def _front_matter_date(raw: Any, fail: Callable[[str], SandboxApiError]) -> dict[str, Any]:
    if raw is None:
        return {"start": None}
    if isinstance(raw, dt.datetime):
        aware = raw if raw.tzinfo else raw.replace(tzinfo=dt.UTC)
        stamp = aware.astimezone(dt.UTC).isoformat(timespec="milliseconds")
        return {"dateResolution": "time", "start": stamp.replace("+00:00", "Z")}
    if isinstance(raw, dt.date):
        return {"dateResolution": "day", "start": day_iso(raw)}
    if isinstance(raw, str):
        if _DATE_ONLY.match(raw.strip()):
            return {"dateResolution": "day", "start": f"{raw.strip()}T00:00:00.000Z"}
        parsed = _parse_iso(raw.strip())
        if parsed is not None:
            return _front_matter_date(parsed, fail)
    raise fail("an ISO 8601 date such as 2026-08-01")


def _daily_note_day(value: str | None, today: dt.date) -> dt.date:
    if value is None:
        return today
    text = value.strip()
    if _DATE_ONLY.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    else:
        parsed = _parse_iso(text)
        if parsed is not None:
            return parsed.astimezone(dt.UTC).date()
    raise invalid_input("Invalid date: expected ISO 8601 such as 2026-08-01T00:00:00.000Z", ("date",))


def store_from_seed(seed: SeedSpace, *, data_file: Path | None = None) -> SandboxStore:
    """A store holding the demo space: objects, tags, links and Markdown bodies as blocks."""
    store = SandboxStore(
        space=dict(seed.space),
        structures=[dict(s) for s in seed.structures],
        content_property=dict(seed.content_property),
        data_file=data_file,
    )
    service = SpaceService(store)
    tag_ids: dict[str, str] = {}  # one index, not a scan of the space per tagged object
    titles: dict[str, str] | None = None  # the same for [[links]], built once all titles are in
    for item in seed.objects:  # titles first, so that links between seed objects resolve
        if item.structure_id == "RootTag":
            tag_ids.setdefault(item.title.strip().casefold(), item.id)
        store.objects[item.id] = {
            "id": item.id,
            "structureId": item.structure_id,
            "collections": list(item.collections),
            "properties": {"title": {"type": "title", "title": {"value": item.title}}},
            "blocks": {},
            "createdAt": item.created_at,
            "lastUpdatedAt": item.created_at,
        }
    for item in seed.objects:
        obj = store.objects[item.id]
        try:
            values = dict(item.properties)
            if item.tags:
                targets = []
                for tag in item.tags:
                    found = tag_ids.get(tag.strip().casefold())
                    if found is None:
                        raise ValueError(f"tag {tag!r} is not a RootTag seed object")
                    targets.append({"id": found})
                values["tags"] = {"type": "entity", "entity": targets}
            definitions = service.definitions(item.structure_id)
            for definition in definitions:
                if definition["type"] in ("createdAt", "lastUpdatedAt"):
                    kind = definition["type"]
                    obj["properties"][definition["id"]] = {"type": kind, kind: {"value": item.created_at}}
            by_id = {d["id"]: d for d in definitions}
            for key, value in values.items():
                # Seed values are trusted: read-only ones (a weblink's fields) are set as well.
                definition = by_id.get(key) or {"id": key, "type": value["type"]}
                obj["properties"][key] = service._readable_value(definition, value, ("properties", key))
            if item.url is not None:
                obj["properties"]["media_URLReference"] = {"type": "url", "url": {"value": item.url}}
            key = store.content_property_of(item.structure_id)
            if item.blocks is not None:
                obj["blocks"][key] = readable_blocks(item.blocks)
            else:
                titles = titles if titles is not None else service._ids_by_title()
                parsed = service.parse_markdown(item.markdown, titles=titles) if item.markdown else []
                obj["blocks"][key] = parsed
        except (SandboxApiError, ValidationError) as exc:
            detail = exc.message if isinstance(exc, SandboxApiError) else format_issues(issues_from(exc))
            raise ValueError(f"Bad seed object {item.title!r}: {detail}") from exc
    return store
