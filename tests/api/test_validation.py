"""Input is validated before any request leaves; errors name the field path and the rule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from capacities_mcp.api import CapacitiesClient, CapacitiesValidationError
from capacities_mcp.api.models import (
    AppendBlocksBody,
    UpdateObjectBody,
    WritableIcon,
)

from .helpers import BLOCK_ID, OBJECT_ID, FakeApi, make_client, object_payload, ok

U = OBJECT_ID
TEXT = {"type": "TextBlock", "tokens": [{"type": "TextToken", "text": "x"}]}


def _block(block: dict[str, Any]) -> Callable[[CapacitiesClient], Awaitable[Any]]:
    return lambda c: c.blocks.append(id=U, blocks=[block])


def _prop(value: dict[str, Any]) -> Callable[[CapacitiesClient], Awaitable[Any]]:
    return lambda c: c.object.create(structure_id="RootPage", properties={"p": value})


def _icon(kind: str, val: str) -> dict[str, Any]:
    return {"type": "icon", "icon": {"value": {"type": kind, "val": val}}}


@dataclass
class Bad:
    name: str
    call: Callable[[CapacitiesClient], Awaitable[Any]]
    path: str  # dotted wire path ("" for a rule on the whole body)
    rule: str  # a fragment of the message


BAD = [
    # uuid ids
    Bad("object.get id", lambda c: c.object.get("123"), "id", "Invalid UUID"),
    Bad(
        "object.get id v0",
        lambda c: c.object.get("7d2e7f8a-4c3b-0e1d-9f0a-123456789abc"),
        "id",
        "Invalid UUID",
    ),
    Bad("object.delete id", lambda c: c.object.delete("x", hard_delete=True), "id", "Invalid UUID"),
    Bad("markdown.get id", lambda c: c.object.markdown.get("nope"), "id", "Invalid UUID"),
    Bad("block.delete objectId", lambda c: c.blocks.block.delete("o", BLOCK_ID), "objectId", "Invalid UUID"),
    Bad("block.delete blockId", lambda c: c.blocks.block.delete(U, "b-1"), "blockId", "Invalid UUID"),
    Bad(
        "block.update id",
        lambda c: c.blocks.block.update(id="o", block_id="b", block=TEXT),
        "id",
        "Invalid UUID",
    ),
    Bad("append id", lambda c: c.blocks.append(id="o", markdown="x"), "id", "Invalid UUID"),
    Bad(
        "collections uuid",
        lambda c: c.object.create(structure_id="RootPage", collections=["not-a-uuid"]),
        "collections[0]",
        "Invalid UUID",
    ),
    Bad(
        "structureId", lambda c: c.object.create(structure_id="Pages"), "structureId", "Invalid structure id"
    ),
    Bad(
        "object.get id not string",
        lambda c: c.object.get(123),
        "id",  # type: ignore[arg-type]
        "expected string",
    ),
    # search
    Bad("search empty after trim", lambda c: c.objects.search(query="   "), "query", ">=1 characters"),
    Bad("search too long", lambda c: c.objects.search(query="q" * 513), "query", "<=512 characters"),
    Bad("search limit > 50", lambda c: c.objects.search(query="q", limit=51), "limit", "<=50"),
    Bad("search limit 0", lambda c: c.objects.search(query="q", limit=0), "limit", ">0"),
    Bad("search limit float", lambda c: c.objects.search(query="q", limit=2.5), "limit", "expected int"),
    Bad(
        "search limit bool",
        lambda c: c.objects.search(query="q", limit=True),
        "limit",
        "expected number, received boolean",
    ),
    Bad(
        "search limit string",
        lambda c: c.objects.search(query="q", limit="5"),
        "limit",
        "expected number, received string",
    ),
    Bad(
        "search no structureIds",
        lambda c: c.objects.search(query="q", structure_ids=[]),
        "structureIds",
        ">=1 items",
    ),
    Bad(
        "search 26 structureIds",
        lambda c: c.objects.search(query="q", structure_ids=["RootPage"] * 26),
        "structureIds",
        "<=25 items",
    ),
    Bad(
        "search structureId",
        lambda c: c.objects.search(query="q", structure_ids=["Nope"]),
        "structureIds[0]",
        "Invalid structure id",
    ),
    # markdown size, blocks vs markdown
    Bad(
        "append markdown too long",
        lambda c: c.blocks.append(id=U, markdown="m" * 200_001),
        "markdown",
        "<=200000 characters",
    ),
    Bad(
        "daily markdown too long",
        lambda c: c.blocks.daily_note.append(markdown="m" * 200_001),
        "markdown",
        "<=200000 characters",
    ),
    Bad(
        "url markdown too long",
        lambda c: c.object.create_from_url(url="https://e.com", markdown="m" * 200_001),
        "markdown",
        "<=200000 characters",
    ),
    Bad(
        "append neither",
        lambda c: c.blocks.append(id=U),
        "",
        "Provide exactly one of `blocks` or `markdown`.",
    ),
    Bad(
        "append both",
        lambda c: c.blocks.append(id=U, markdown="m", blocks=[TEXT]),
        "",
        "Provide exactly one of `blocks` or `markdown`.",
    ),
    Bad("append empty blocks", lambda c: c.blocks.append(id=U, blocks=[]), "blocks", ">=1 items"),
    Bad(
        "daily neither",
        lambda c: c.blocks.daily_note.append(no_time_stamp=True),
        "",
        "Provide exactly one of `blocks` or `markdown`.",
    ),
    Bad(
        "daily both",
        lambda c: c.blocks.daily_note.append(markdown="m", blocks=[TEXT]),
        "",
        "Provide exactly one of `blocks` or `markdown`.",
    ),
    Bad(
        "url both",
        lambda c: c.object.create_from_url(url="https://e.com", markdown="m", blocks={"media_notes": [TEXT]}),
        "",
        "Provide at most one of `blocks` or `markdown`.",
    ),
    Bad("url not a url", lambda c: c.object.create_from_url(url="example dot com"), "url", "Invalid URL"),
    # PATCH /object
    Bad(
        "update nothing",
        lambda c: c.object.update(id=U),
        "",
        "Provide at least one of `properties`, `collections`, `blocks`, or `deleteRequested`.",
    ),
    Bad("update empty id", lambda c: c.object.update(id="", delete_requested=True), "id", ">=1 characters"),
    # blocks
    Bad(
        "grid one column",
        _block({"type": "GridBlock", "columns": [[TEXT]], "dividers": []}),
        "blocks[0].columns",
        "GridBlock must include at least two columns.",
    ),
    Bad(
        "grid without dividers",
        _block({"type": "GridBlock"}),
        "blocks[0].dividers",
        "expected array, received undefined",
    ),
    Bad(
        "link no target",
        _block({"type": "TextBlock", "tokens": [{"type": "LinkToken", "text": "t"}]}),
        "blocks[0].tokens[0]",
        "Provide exactly one of `url`, `entityId`, or `date` on a LinkToken.",
    ),
    Bad(
        "link two targets",
        _block(
            {
                "type": "TextBlock",
                "tokens": [{"type": "LinkToken", "text": "t", "url": "https://e.com", "entityId": U}],
            }
        ),
        "blocks[0].tokens[0]",
        "Provide exactly one of `url`, `entityId`, or `date` on a LinkToken.",
    ),
    Bad(
        "nested link in child block",
        _block(
            {
                "type": "GroupBlock",
                "blocks": [{"type": "TextBlock", "tokens": [{"type": "LinkToken", "text": "t"}]}],
            }
        ),
        "blocks[0].blocks[0].tokens[0]",
        "Provide exactly one of",
    ),
    Bad(
        "entity block with date",
        _block({"type": "EntityBlock", "entityId": U, "date": {"start": "2026-01-01T00:00:00.000Z"}}),
        "blocks[0].date",
        "EntityBlock does not accept `date`; use a LinkToken with `date` instead.",
    ),
    Bad(
        "entity block without entityId",
        _block({"type": "EntityBlock"}),
        "blocks[0].entityId",
        "expected string, received undefined",
    ),
    Bad(
        "custom highlight empty label",
        _block({**TEXT, "highlight": {"type": "custom", "label": ""}}),
        "blocks[0].highlight.label",
        ">=1 characters",
    ),
    Bad(
        "custom highlight long label",
        _block({**TEXT, "highlight": {"type": "custom", "label": "l" * 21}}),
        "blocks[0].highlight.label",
        "<=20 characters",
    ),
    Bad(
        "custom highlight long location",
        _block({**TEXT, "highlight": {"type": "custom", "label": "l", "location": "x" * 21}}),
        "blocks[0].highlight.location",
        "<=20 characters",
    ),
    Bad(
        "readwise highlight not writable",
        _block({**TEXT, "highlight": {"type": "readwise"}}),
        "blocks[0].highlight.type",
        "webhighlights, custom",
    ),
    Bad(
        "unknown block type",
        _block({"type": "KanbanBlock"}),
        "blocks[0].type",
        "expected `type` to be one of TextBlock",
    ),
    Bad(
        "unknown colour",
        _block({**TEXT, "colorTheme": "text-black"}),
        "blocks[0].colorTheme",
        "Invalid option",
    ),
    Bad(
        "block update bad block",
        lambda c: c.blocks.block.update(id=U, block_id="b1", block={"type": "CodeBlock", "lang": "py"}),
        "block.text",
        "expected string, received undefined",
    ),
    Bad(
        "blocks in object.create",
        lambda c: c.object.create(
            structure_id="RootPage",
            blocks={"content": [{"type": "GridBlock", "columns": [[]], "dividers": []}]},
        ),
        "blocks.content[0].columns",
        "at least two columns",
    ),
    # properties
    Bad(
        "aliases > 8",
        _prop({"type": "aliases", "aliases": {"value": ["a"] * 9}}),
        "properties.p.aliases.value",
        "<=8 items",
    ),
    Bad(
        "icon styled",
        _prop(_icon("iconify", "ph-star-fill")),
        "properties.p.icon.value.val",
        "Styled Phosphor variants",
    ),
    Bad(
        "icon duotone",
        _prop(_icon("iconify", "ph-house-duotone")),
        "properties.p.icon.value.val",
        "Styled Phosphor variants",
    ),
    Bad(
        "icon not phosphor", _prop(_icon("iconify", "mdi:star")), "properties.p.icon.value.val", "Phosphor id"
    ),
    Bad("icon emoji text", _prop(_icon("emoji", "star")), "properties.p.icon.value.val", "single emoji"),
    Bad(
        "lastUpdatedAt not writable",
        _prop({"type": "lastUpdatedAt", "lastUpdatedAt": {"value": "2026-01-01T00:00:00Z"}}),
        "properties.p.type",
        "expected `type` to be one of title",
    ),
    Bad(
        "title missing value",
        _prop({"type": "title", "title": {}}),
        "properties.p.title.value",
        "expected string, received undefined",
    ),
    Bad(
        "richText link without target",
        _prop({"type": "richText", "richText": {"value": [{"type": "LinkToken", "text": "t"}]}}),
        "properties.p.richText.value[0]",
        "Provide exactly one of",
    ),
    Bad(
        "url properties: only title/description typed",
        lambda c: c.object.create_from_url(
            url="https://e.com", properties={"title": {"type": "text", "text": {"value": "x"}}}
        ),
        "properties.title.type",
        "Invalid option",
    ),
    # strict, like zod: no string-to-number or string-to-boolean coercion in JSON bodies
    Bad(
        "number from string",
        _prop({"type": "number", "number": {"value": "3"}}),
        "properties.p.number.value",
        "expected number, received string",
    ),
    Bad(
        "boolean from 'yes'",
        _prop({"type": "boolean", "boolean": {"value": "yes"}}),
        "properties.p.boolean.value",
        "expected boolean, received string",
    ),
    Bad(
        "boolean from 1",
        _prop({"type": "boolean", "boolean": {"value": 1}}),
        "properties.p.boolean.value",
        "expected boolean, received number",
    ),
    Bad(
        "deleteRequested from string",
        lambda c: c.object.update(id=U, delete_requested="true"),
        "deleteRequested",
        "expected boolean, received string",
    ),
    Bad(
        "todo from string",
        _block({**TEXT, "todo": {"isDone": "false"}}),
        "blocks[0].todo.isDone",
        "expected boolean, received string",
    ),
    Bad(
        "search limit from string",
        lambda c: c.objects.search(query="q", limit="5"),
        "limit",
        "expected number, received string",
    ),
    Bad(
        "noTimeStamp from string",
        lambda c: c.blocks.daily_note.append(markdown="x", no_time_stamp="yes"),
        "noTimeStamp",
        "expected boolean, received string",
    ),
    Bad(
        "text from number",
        _prop({"type": "text", "text": {"value": 5}}),
        "properties.p.text.value",
        "expected string, received number",
    ),
    Bad(
        "new list type not writable",
        _block({**TEXT, "list": {"type": "checklist"}}),
        "blocks[0].list.type",
        "Invalid option",
    ),
    Bad(
        "new quote layout not writable",
        _block({**TEXT, "quote": {"layout": "fancy"}}),
        "blocks[0].quote.layout",
        "Invalid option",
    ),
    # listing
    Bad("listing page size", lambda c: c.objects.structure("RootPage", page_size=0), "pageSize", ">0"),
    Bad("listing empty id", lambda c: c.objects.tag(""), "id", ">=1 characters"),
]


@pytest.mark.parametrize("bad", BAD, ids=[b.name for b in BAD])
async def test_invalid_input_never_reaches_the_api(bad: Bad) -> None:
    api = FakeApi()  # any request fails the test
    async with make_client(api) as client:
        with pytest.raises(CapacitiesValidationError) as caught:
            await bad.call(client)
    assert api.sent == []

    error = caught.value
    assert error.code == "cap_invalid_input"
    matching = [
        i for i in error.issues if i.dotted_path == bad.path and bad.rule in f"{i.message} {i.hint or ''}"
    ]
    assert matching, f"no issue at {bad.path!r} with {bad.rule!r}: {error.issues}"
    text = str(error)
    assert bad.rule in text
    if bad.path:
        assert f"→ at {bad.path}" in text


GOOD = [
    ("icon ph-star", _prop(_icon("iconify", "ph-star"))),
    ("icon ph-arrow-up-right", _prop(_icon("iconify", "ph-arrow-up-right"))),
    ("icon emoji", _prop(_icon("emoji", "📝"))),
    ("icon cleared", _prop({"type": "icon", "icon": {"value": None}})),
    ("aliases 8", _prop({"type": "aliases", "aliases": {"value": ["a"] * 8}})),
    ("createdAt writable", _prop({"type": "createdAt", "createdAt": {"value": "2026-01-01T00:00:00.000Z"}})),
    ("date clear", _prop({"type": "date", "date": {"start": None}})),
    ("grid two columns", _block({"type": "GridBlock", "columns": [[TEXT], [TEXT]], "dividers": [0.5]})),
    ("grid without columns", _block({"type": "GridBlock", "dividers": []})),
    (
        "link with date",
        _block(
            {
                "type": "TextBlock",
                "tokens": [{"type": "LinkToken", "text": "d", "date": {"start": "2026-01-01T00:00:00.000Z"}}],
            }
        ),
    ),
    ("empty entity embed", _block({"type": "EntityBlock", "entityId": None})),
    (
        "custom highlight 20",
        _block({**TEXT, "highlight": {"type": "custom", "label": "l" * 20, "location": "x" * 20}}),
    ),
    (
        "search 512 + 25 ids + 50",
        lambda c: c.objects.search(query="q" * 512, structure_ids=["RootPage"] * 25, limit=50),
    ),
    ("markdown 200000", lambda c: c.blocks.append(id=U, markdown="m" * 200_000)),
    ("nil uuid", lambda c: c.object.get("00000000-0000-0000-0000-000000000000")),
    ("uppercase uuid", lambda c: c.object.get(U.upper())),
    ("update with only deleteRequested", lambda c: c.object.update(id=U, delete_requested=True)),
    ("url without notes", lambda c: c.object.create_from_url(url="https://e.com/x")),
    # query parameters still take their query-string spellings, and JSON `5.0` is the number 5
    ("hardDelete as 'true'", lambda c: c.object.delete(U, hard_delete="true")),
    ("pageSize as '25'", lambda c: c.objects.structure("RootPage", page_size="25")),
    ("search limit 5.0", lambda c: c.objects.search(query="q", limit=5.0)),
    ("number property float", _prop({"type": "number", "number": {"value": 2.5}})),
]


@pytest.mark.parametrize("call", [g[1] for g in GOOD], ids=[g[0] for g in GOOD])
async def test_valid_edge_cases_are_sent(
    call: Callable[[CapacitiesClient], Awaitable[Any]],
) -> None:
    api = FakeApi(
        handler=lambda request: ok(
            {"results": []}
            if request.url.path == "/objects/search"
            else {"results": [], "hasMore": False}
            if request.url.path.startswith("/objects/")
            else None
            if request.method == "DELETE"
            else object_payload()
        )
    )
    async with make_client(api) as client:
        await call(client)
    assert len(api.sent) == 1


async def test_query_spellings_and_integral_floats_go_out_in_wire_form() -> None:
    api = FakeApi(
        handler=lambda request: ok(
            {"results": []}
            if request.url.path == "/objects/search"
            else {"results": [], "hasMore": False}
            if request.url.path.startswith("/objects/")
            else None
        )
    )
    async with make_client(api) as client:
        await client.object.delete(U, hard_delete="true")  # type: ignore[arg-type]
        await client.objects.structure("RootPage", page_size="25")  # type: ignore[arg-type]
        await client.objects.search(query=" q ", limit=5.0)
    delete, listing, search = api.sent
    assert delete.query == {"id": U, "hardDelete": "true"}
    assert listing.query == {"id": "RootPage", "pageSize": "25"}
    assert search.json() == {"query": "q", "limit": 5}
    assert search.body == b'{"query": "q", "limit": 5}'  # 5, not 5.0


async def test_client_error_collects_all_issues_in_one_message() -> None:
    api = FakeApi()
    async with make_client(api) as client:
        with pytest.raises(CapacitiesValidationError) as caught:
            await client.object.create(structure_id="Nope", collections=["x"])
    paths = {issue.dotted_path for issue in caught.value.issues}
    assert paths == {"structureId", "collections[0]"}
    assert str(caught.value).startswith("Invalid object.create input:\n✖ ")
    assert api.sent == []


def test_models_reject_bad_input_directly() -> None:
    with pytest.raises(ValueError, match="Styled Phosphor"):
        WritableIcon(type="iconify", val="ph-star-bold")
    with pytest.raises(ValueError, match="at least one of"):
        UpdateObjectBody(id=U)
    with pytest.raises(ValueError, match="exactly one of"):
        AppendBlocksBody(id=U)


async def test_nested_models_and_tuples_are_judged_as_the_json_they_become() -> None:
    """Strict validation sees what zod would: nested model instances in wire form, tuples as
    arrays; so Python callers may mix dicts and models freely."""
    from capacities_mcp.api.models import (
        LabelOption,
        WritableTextBlock,
        WritableTextToken,
    )

    api = FakeApi(handler=lambda request: ok(object_payload()))
    async with make_client(api) as client:
        await client.blocks.append(
            id=U,
            blocks=(WritableTextBlock(tokens=[WritableTextToken(text="a")]), {"type": "HorizontalLineBlock"}),
        )
        label = LabelOption(id="done", name="Done")
        await client.object.update({"id": U, "properties": {"status": {"type": "label", "label": (label,)}}})
    append, update = api.sent
    assert append.json() == {
        "id": U,
        "blocks": [
            {"type": "TextBlock", "tokens": [{"type": "TextToken", "text": "a", "style": {}}]},
            {"type": "HorizontalLineBlock"},
        ],
    }
    assert update.json() == {
        "id": U,
        "properties": {"status": {"type": "label", "label": [{"id": "done", "name": "Done"}]}},
    }
