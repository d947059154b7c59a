"""The request table of every client operation (its exact request and typed result), shared by the
request tests and the OpenAPI contract check of the bodies the client sends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from capacities_mcp.api import CapacitiesClient
from capacities_mcp.api.models import (
    ApiObject,
    CreateObjectBody,
    ObjectListPage,
    ObjectMarkdown,
    SearchResponse,
    Space,
    StructuresResponse,
)

from .helpers import (
    BLOCK_ID,
    COLLECTION_ID,
    OBJECT_ID,
    OTHER_ID,
    STRUCTURE_ID,
    object_payload,
    summary,
)

SPACE = {
    "id": "ac7abb59-b1fd-4102-b549-78e5443610ac",
    "title": "Notes",
    "icon": {"type": "iconify", "val": "ph-lightbulb"},
}
STRUCTURES = {
    "structures": [
        {
            "id": STRUCTURE_ID,
            "title": "Book",
            "pluralName": "Books",
            "propertyDefinitions": [
                {"id": "title", "name": "", "type": "title", "writable": True},
                {
                    "id": "status",
                    "name": "Status",
                    "type": "label",
                    "writable": True,
                    "multiple": False,
                    "labelSet": [{"id": "done", "name": "Done"}],
                },
                {
                    "id": "tags",
                    "name": "Tags",
                    "type": "entity",
                    "writable": True,
                    "allowedStructures": ["RootTag"],
                },
            ],
            "labelColor": "purple",
            "collections": [{"id": COLLECTION_ID, "title": "Favorites"}],
        }
    ]
}
MARKDOWN = {"id": OBJECT_ID, "structureId": "RootPage", "markdown": "# Example\n\nHello"}
SMALL_OBJECT = {
    "id": OBJECT_ID,
    "structureId": "RootPage",
    "collections": [],
    "properties": {"title": {"type": "title", "title": {"value": "T"}}},
}
PAGE = {"results": [summary(1)], "hasMore": True, "nextCursor": "c-2"}
TEXT_BLOCK_IN = {"type": "TextBlock", "tokens": [{"type": "TextToken", "text": "Hi"}]}
TEXT_BLOCK_OUT = {"type": "TextBlock", "tokens": [{"type": "TextToken", "text": "Hi", "style": {}}]}


@dataclass
class Case:
    name: str
    call: Callable[[CapacitiesClient], Awaitable[Any]]
    method: str
    path: str
    query: dict[str, str]
    body: Any  # None: no body at all
    reply: Any  # None: empty 200
    result_type: type | None


CASES = [
    Case("space.get", lambda c: c.space.get(), "GET", "/space", {}, None, SPACE, Space),
    Case(
        "space.structures",
        lambda c: c.space.structures(),
        "GET",
        "/space/structures",
        {},
        None,
        STRUCTURES,
        StructuresResponse,
    ),
    Case(
        "object.get",
        lambda c: c.object.get(OBJECT_ID),
        "GET",
        "/object",
        {"id": OBJECT_ID},
        None,
        object_payload(),
        ApiObject,
    ),
    Case(
        "object.create",
        lambda c: c.object.create(
            structure_id="RootPage",
            properties={"title": {"type": "title", "title": {"value": "New"}}},
            blocks={"content": [TEXT_BLOCK_IN]},
        ),
        "POST",
        "/object",
        {},
        {
            "structureId": "RootPage",
            "properties": {"title": {"type": "title", "title": {"value": "New"}}},
            "blocks": {"content": [TEXT_BLOCK_OUT]},
        },
        SMALL_OBJECT,
        ApiObject,
    ),
    Case(
        "object.create (model instance)",
        lambda c: c.object.create(CreateObjectBody(structure_id=STRUCTURE_ID, collections=[COLLECTION_ID])),
        "POST",
        "/object",
        {},
        {"structureId": STRUCTURE_ID, "collections": [COLLECTION_ID]},
        SMALL_OBJECT,
        ApiObject,
    ),
    Case(
        "object.update",
        lambda c: c.object.update(id=OBJECT_ID, delete_requested=False, collections=[]),
        "PATCH",
        "/object",
        {},
        {"id": OBJECT_ID, "deleteRequested": False, "collections": []},
        SMALL_OBJECT,
        ApiObject,
    ),
    Case(
        "object.update (camelCase dict)",
        lambda c: c.object.update(
            {"id": OBJECT_ID, "properties": {"read": {"type": "boolean", "boolean": {"value": None}}}}
        ),
        "PATCH",
        "/object",
        {},
        {"id": OBJECT_ID, "properties": {"read": {"type": "boolean", "boolean": {"value": None}}}},
        SMALL_OBJECT,
        ApiObject,
    ),
    Case(
        "object.delete (trash)",
        lambda c: c.object.delete(OBJECT_ID),
        "DELETE",
        "/object",
        {"id": OBJECT_ID},
        None,
        None,
        None,
    ),
    Case(
        "object.delete (hard)",
        lambda c: c.object.delete(OBJECT_ID, hard_delete=True),
        "DELETE",
        "/object",
        {"id": OBJECT_ID, "hardDelete": "true"},
        None,
        None,
        None,
    ),
    Case(
        "object.delete (hard=False)",
        lambda c: c.object.delete(OBJECT_ID, hard_delete=False),
        "DELETE",
        "/object",
        {"id": OBJECT_ID, "hardDelete": "false"},
        None,
        None,
        None,
    ),
    Case(
        "object.create_from_url",
        lambda c: c.object.create_from_url(
            url="https://example.com/a",
            properties={"description": {"type": "text", "text": {"value": "Sum"}}},
            markdown="notes",
        ),
        "POST",
        "/object/url",
        {},
        {
            "url": "https://example.com/a",
            "markdown": "notes",
            "properties": {"description": {"type": "text", "text": {"value": "Sum"}}},
        },
        {**SMALL_OBJECT, "structureId": "MediaWebResource"},
        ApiObject,
    ),
    Case(
        "object.markdown.get",
        lambda c: c.object.markdown.get(OBJECT_ID),
        "GET",
        "/object/markdown",
        {"id": OBJECT_ID},
        None,
        MARKDOWN,
        ObjectMarkdown,
    ),
    Case(
        "object.markdown.create",
        lambda c: c.object.markdown.create(structure_id="RootPage", markdown="# T\n\nbody"),
        "POST",
        "/object/markdown",
        {},
        {"structureId": "RootPage", "markdown": "# T\n\nbody"},
        SMALL_OBJECT,
        ApiObject,
    ),
    Case(
        "object.markdown.update",
        lambda c: c.object.markdown.update(id=OBJECT_ID, markdown="---\ntitle: X\n---"),
        "PATCH",
        "/object/markdown",
        {},
        {"id": OBJECT_ID, "markdown": "---\ntitle: X\n---"},
        SMALL_OBJECT,
        ApiObject,
    ),
    Case(
        "objects.search",
        lambda c: c.objects.search(query="  project alpha ", structure_ids=["RootPage"], limit=5),
        "POST",
        "/objects/search",
        {},
        {"query": "project alpha", "structureIds": ["RootPage"], "limit": 5},
        {"results": [summary(1), summary(2)]},
        SearchResponse,
    ),
    Case(
        "objects.search (query only)",
        lambda c: c.objects.search(query="x"),
        "POST",
        "/objects/search",
        {},
        {"query": "x"},
        {"results": []},
        SearchResponse,
    ),
    Case(
        "blocks.append",
        lambda c: c.blocks.append(
            id=OBJECT_ID,
            property_id="content",
            markdown="## H",
            position={"type": "after_block", "after_block": {"id": BLOCK_ID}},
        ),
        "POST",
        "/blocks/append",
        {},
        {
            "id": OBJECT_ID,
            "propertyId": "content",
            "markdown": "## H",
            "position": {"type": "after_block", "after_block": {"id": BLOCK_ID}},
        },
        object_payload(),
        ApiObject,
    ),
    Case(
        "blocks.append (blocks, parent)",
        lambda c: c.blocks.append(
            id=OBJECT_ID, parent_block_id=BLOCK_ID, position={"type": "start"}, blocks=[TEXT_BLOCK_IN]
        ),
        "POST",
        "/blocks/append",
        {},
        {
            "id": OBJECT_ID,
            "parentBlockId": BLOCK_ID,
            "position": {"type": "start"},
            "blocks": [TEXT_BLOCK_OUT],
        },
        object_payload(),
        ApiObject,
    ),
    Case(
        "blocks.daily_note.append",
        lambda c: c.blocks.daily_note.append(
            markdown="- idea", no_time_stamp=True, date="2026-08-01T00:00:00.000Z"
        ),
        "POST",
        "/blocks/daily-note/append",
        {},
        {"markdown": "- idea", "noTimeStamp": True, "date": "2026-08-01T00:00:00.000Z"},
        None,
        None,
    ),
    Case(
        "blocks.block.update",
        lambda c: c.blocks.block.update(
            id=OBJECT_ID, block_id=BLOCK_ID, block={"type": "CodeBlock", "lang": "py", "text": "x = 1"}
        ),
        "PATCH",
        "/blocks/block",
        {},
        {"id": OBJECT_ID, "blockId": BLOCK_ID, "block": {"type": "CodeBlock", "lang": "py", "text": "x = 1"}},
        object_payload(),
        ApiObject,
    ),
    Case(
        "blocks.block.delete",
        lambda c: c.blocks.block.delete(OBJECT_ID, BLOCK_ID),
        "DELETE",
        "/block",
        {"objectId": OBJECT_ID, "blockId": BLOCK_ID},
        None,
        SMALL_OBJECT,
        ApiObject,
    ),
    Case(
        "objects.structure",
        lambda c: c.objects.structure("RootPage", page_size=100, cursor="abc"),
        "GET",
        "/objects/structure",
        {"id": "RootPage", "pageSize": "100", "cursor": "abc"},
        None,
        PAGE,
        ObjectListPage,
    ),
    Case(
        "objects.tag",
        lambda c: c.objects.tag(OTHER_ID),
        "GET",
        "/objects/tag",
        {"id": OTHER_ID},
        None,
        PAGE,
        ObjectListPage,
    ),
    Case(
        "objects.collection",
        lambda c: c.objects.collection(COLLECTION_ID, page_size=10),
        "GET",
        "/objects/collection",
        {"id": COLLECTION_ID, "pageSize": "10"},
        None,
        PAGE,
        ObjectListPage,
    ),
]
