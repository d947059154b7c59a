"""Every client operation: the exact request it sends and the typed result it returns."""

from __future__ import annotations

import httpx2
import pytest
from pydantic import BaseModel

from capacities_mcp import __version__
from capacities_mcp.api import (
    API_VERSION,
    CapacitiesClient,
    CapacitiesValidationError,
    OAuthCredential,
    OAuthTokens,
)
from capacities_mcp.api.models import (
    CodeBlock,
    DateProperty,
    EntityBlock,
    GridBlock,
    GroupBlock,
    HorizontalLineBlock,
    IconProperty,
    LabelProperty,
    LinkToken,
    MathBlock,
    ObjectMarkdown,
    RichTextProperty,
    TextBlock,
    TextToken,
    UnsupportedBlock,
)

from .helpers import (
    API_TOKEN,
    BASE_URL,
    COLLECTION_ID,
    OBJECT_ID,
    OTHER_ID,
    STRUCTURE_ID,
    FakeApi,
    Sent,
    make_client,
    object_payload,
    ok,
    summary,
)
from .helpers_requests import CASES, MARKDOWN, SMALL_OBJECT, SPACE, Case


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_operation_request_and_response(case: Case) -> None:
    api = FakeApi([ok(case.reply)])
    async with make_client(api) as client:
        result = await case.call(client)

    assert len(api.sent) == 1
    sent = api.sent[0]
    assert sent.method == case.method
    assert sent.request.url.scheme + "://" + sent.request.url.host == BASE_URL
    assert sent.path == case.path
    assert sent.query == case.query
    if case.body is None:
        assert sent.body == b""
        assert sent.header("content-type") is None
    else:
        assert sent.header("content-type") == "application/json"
        assert sent.json() == case.body  # camelCase keys, unset optionals left out
    _assert_standard_headers(sent)

    if case.result_type is None:
        assert result is None
    else:
        assert isinstance(result, case.result_type)
        assert isinstance(result, BaseModel)
        assert result.model_dump(mode="json", by_alias=True, exclude_unset=True) == case.reply


def _assert_standard_headers(sent: Sent, *, token: str = API_TOKEN, version: str = API_VERSION) -> None:
    assert sent.header("authorization") == f"Bearer {token}"
    assert sent.header("x-capacities-api-version") == version
    user_agent = sent.header("user-agent") or ""
    assert "capacities-mcp" in user_agent and __version__ in user_agent


def test_version_default_is_1_0_0() -> None:
    assert API_VERSION == "1.0.0"


async def test_hard_delete_query_string_is_lowercase_true() -> None:
    api = FakeApi([ok()])
    async with make_client(api) as client:
        await client.object.delete(OBJECT_ID, hard_delete=True)
    assert api.sent[0].raw_query == f"id={OBJECT_ID}&hardDelete=true"


async def test_api_version_override_and_headers_on_every_request() -> None:
    api = FakeApi([ok(SPACE), ok(SPACE), ok({"results": []})])
    async with make_client(api, api_version="1.2.3") as client:
        await client.space.get()
        await client.space.get()
        await client.objects.search(query="x")
    assert len(api.sent) == 3
    for sent in api.sent:
        _assert_standard_headers(sent, version="1.2.3")


async def test_oauth_access_token_is_the_bearer() -> None:
    api = FakeApi([ok(SPACE)])
    oauth = OAuthCredential(tokens=OAuthTokens("at-1", "rt-1", None), client_id="cid")
    async with make_client(api, oauth=oauth) as client:
        await client.space.get()
    _assert_standard_headers(api.sent[0], token="at-1")


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.test", "https://api.test/space"),
        ("https://api.test/", "https://api.test/space"),
        ("http://127.0.0.1:3000/api/", "http://127.0.0.1:3000/api/space"),
    ],
)
async def test_base_url_trailing_slash_ignored(base_url: str, expected: str) -> None:
    api = FakeApi([ok(SPACE)])
    async with make_client(api, base_url=base_url) as client:
        assert client.base_url == expected.removesuffix("/space")
        await client.space.get()
    assert str(api.sent[0].request.url) == expected


async def test_default_base_url_is_capacities() -> None:
    api = FakeApi([ok(SPACE)])
    async with CapacitiesClient(api_token=API_TOKEN, transport=api.transport) as client:
        assert client.base_url == "https://api.capacities.io"
        await client.space.get()
    assert str(api.sent[0].request.url) == "https://api.capacities.io/space"


def test_exactly_one_credential_required() -> None:
    oauth = OAuthCredential(tokens=OAuthTokens("a", "r"), client_id="cid")
    with pytest.raises(ValueError, match="exactly one of `api_token` or `oauth`"):
        CapacitiesClient()
    with pytest.raises(ValueError, match="exactly one of `api_token` or `oauth`"):
        CapacitiesClient(api_token=API_TOKEN, oauth=oauth)
    with pytest.raises(ValueError, match="empty"):
        CapacitiesClient(api_token="  ")


async def test_async_with_closes_the_http_client() -> None:
    api = FakeApi([ok(SPACE)])
    client = make_client(api)
    async with client as entered:
        assert entered is client
        await client.space.get()
    assert client._transport.http.is_closed
    with pytest.raises(RuntimeError):
        await client.space.get()


def test_timeout_is_applied() -> None:
    client = CapacitiesClient(api_token=API_TOKEN, timeout=3.5)
    assert client._transport.http.timeout == httpx2.Timeout(3.5)


async def test_generic_request_by_route_name() -> None:
    api = FakeApi([ok(MARKDOWN)])
    async with make_client(api) as client:
        result = await client.request("object.markdown.get", id=OBJECT_ID)
    assert isinstance(result, ObjectMarkdown)
    assert api.sent[0].query == {"id": OBJECT_ID}


# --- response parsing --------------------------------------------------------------------------


async def test_object_response_is_fully_typed() -> None:
    api = FakeApi([ok(object_payload())])
    async with make_client(api) as client:
        obj = await client.object.get(OBJECT_ID)

    assert obj.id == OBJECT_ID and obj.structure_id == STRUCTURE_ID
    assert obj.collections == [COLLECTION_ID]
    props = obj.properties
    assert isinstance(props["description"], RichTextProperty)
    tokens = props["description"].rich_text.value
    assert isinstance(tokens[0], TextToken) and tokens[0].style.bold is True
    assert isinstance(tokens[1], LinkToken) and tokens[1].url == "https://example.com"
    assert isinstance(tokens[2], LinkToken) and tokens[2].entity_id == OTHER_ID
    assert isinstance(props["due"], DateProperty)
    assert props["due"].date.date_resolution == "day" and props["due"].date.end is None
    assert isinstance(props["status"], LabelProperty) and props["status"].label[0].id == "done"
    assert isinstance(props["icon"], IconProperty)
    assert props["icon"].icon.value is not None and props["icon"].icon.value.val == "ph-star"
    assert {type(p).__name__ for p in props.values()} >= {
        "TitleProperty",
        "TextProperty",
        "NumberProperty",
        "BooleanProperty",
        "UrlProperty",
        "EntityProperty",
        "AliasesProperty",
        "CreatedAtProperty",
        "LastUpdatedAtProperty",
    }

    assert obj.blocks is not None
    blocks = obj.blocks["content"]
    assert [type(b) for b in blocks] == [
        TextBlock,
        GroupBlock,
        GridBlock,
        CodeBlock,
        MathBlock,
        EntityBlock,
        UnsupportedBlock,
    ]
    text = blocks[0]
    assert isinstance(text, TextBlock)
    assert text.hierarchy.key == "H1" and text.list_ is not None and text.list_.type == "bullet"
    assert isinstance(text.blocks[0], HorizontalLineBlock)
    assert text.highlight is not None and text.highlight.label == "Note"
    assert isinstance(blocks[6], UnsupportedBlock) and blocks[6].block_type == "TableBlock"
    assert obj.files is not None and obj.files[0].file_type == "application/pdf"


async def test_unknown_response_fields_are_kept() -> None:
    payload = object_payload(futureField={"x": 1})
    payload["blocks"]["content"][0]["futureBlockField"] = 7
    payload["properties"]["description"]["richText"]["value"][0]["futureTokenField"] = "t"
    payload["properties"]["title"]["futurePropertyField"] = True
    api = FakeApi([ok(payload), ok({**SPACE, "plan": "pro"})])
    async with make_client(api) as client:
        obj = await client.object.get(OBJECT_ID)
        space = await client.space.get()

    assert obj.model_extra == {"futureField": {"x": 1}}
    assert obj.blocks is not None
    assert obj.blocks["content"][0].model_extra == {"futureBlockField": 7}
    description = obj.properties["description"]
    assert isinstance(description, RichTextProperty)
    assert description.rich_text.value[0].model_extra == {"futureTokenField": "t"}
    assert obj.properties["title"].model_extra == {"futurePropertyField": True}
    assert space.model_extra == {"plan": "pro"}
    # ...and they survive a round trip to JSON.
    assert obj.to_wire()["futureField"] == {"x": 1}


async def test_unknown_block_token_and_property_types_fall_back() -> None:
    payload = object_payload()
    payload["blocks"]["content"].append({"id": "b-new", "type": "KanbanBlock", "lanes": [{"title": "Todo"}]})
    payload["blocks"]["content"][0]["tokens"].append({"type": "MentionToken", "text": "@x", "userId": "u1"})
    payload["properties"]["rating"] = {"type": "stars", "stars": {"value": 4}}
    api = FakeApi([ok(payload)])
    async with make_client(api) as client:
        obj = await client.object.get(OBJECT_ID)

    assert obj.blocks is not None
    new_block = obj.blocks["content"][-1]
    assert type(new_block).__name__ == "UnknownBlock"
    assert new_block.type == "KanbanBlock" and new_block.id == "b-new"
    assert new_block.model_extra == {"lanes": [{"title": "Todo"}]}
    first = obj.blocks["content"][0]
    assert isinstance(first, TextBlock)
    assert type(first.tokens[-1]).__name__ == "UnknownToken"
    assert first.tokens[-1].model_extra == {"text": "@x", "userId": "u1"}
    rating = obj.properties["rating"]
    assert type(rating).__name__ == "UnknownProperty"
    assert rating.type == "stars" and rating.model_extra == {"stars": {"value": 4}}


async def test_new_payload_values_are_read_but_not_written() -> None:
    """A list style or quote layout newer than this client is read as its string, with unknown
    keys kept; the same values are refused on write (the writable models stay exact)."""
    payload = object_payload()
    first = payload["blocks"]["content"][0]
    first["list"] = {"type": "checklist", "marker": "☐"}
    first["quote"] = {"layout": "pullquote"}
    first["todo"] = {"isDone": True, "doneAt": "2026-08-01T10:00:00.000Z"}
    first["toggle"] = {"isOpen": False, "animated": True}
    first["hierarchy"] = {"key": "H4", "val": 4, "level": "h4"}
    payload["blocks"]["content"].append(
        {"id": "g1", "type": "GroupBlock", "blocks": [], "list": {"type": "emoji"}}
    )
    api = FakeApi([ok(payload)])
    async with make_client(api) as client:
        obj = await client.object.get(OBJECT_ID)
        assert obj.blocks is not None
        block, group = obj.blocks["content"][0], obj.blocks["content"][-1]
        assert isinstance(block, TextBlock) and isinstance(group, GroupBlock)
        assert block.list_ is not None and block.list_.type == "checklist"
        assert block.list_.model_extra == {"marker": "☐"}
        assert block.quote is not None and block.quote.layout == "pullquote"
        assert block.todo is not None and block.todo.model_extra == {"doneAt": "2026-08-01T10:00:00.000Z"}
        assert block.toggle is not None and block.toggle.model_extra == {"animated": True}
        assert block.hierarchy.key == "H4" and block.hierarchy.model_extra == {"level": "h4"}
        assert group.list_ is not None and group.list_.type == "emoji"
        assert obj.to_wire()["blocks"]["content"][0]["list"] == first["list"]  # round trip

        with pytest.raises(CapacitiesValidationError) as caught:
            await client.blocks.append(
                id=OBJECT_ID,
                blocks=[
                    {"type": "TextBlock", "list": {"type": "checklist"}, "quote": {"layout": "pullquote"}}
                ],
            )
    assert {i.dotted_path for i in caught.value.issues} == {"blocks[0].list.type", "blocks[0].quote.layout"}
    assert len(api.sent) == 1  # only the read went out


async def test_property_payloads_keep_unknown_keys_and_read_past_write_limits() -> None:
    payload = object_payload()
    props = payload["properties"]
    props["title"]["title"]["formatted"] = "<b>Example</b>"
    props["status"]["label"][0]["emoji"] = "✅"
    props["tags"]["entity"][0]["title"] = "Other"
    props["aliases"]["aliases"]["value"] = [f"a{i}" for i in range(12)]  # > 8 cannot be written
    api = FakeApi([ok(payload), ok(object_payload())])
    async with make_client(api) as client:
        obj = await client.object.get(OBJECT_ID)
        assert obj.to_wire()["properties"] == props  # nothing dropped, nothing fatal
        status = obj.properties["status"]
        assert isinstance(status, LabelProperty) and status.label[0].model_extra == {"emoji": "✅"}
        with pytest.raises(CapacitiesValidationError, match="<=8 items"):
            await client.object.update(id=OBJECT_ID, properties={"aliases": props["aliases"]})
        # What was read can be written back: extras are dropped, as zod strips them.
        await client.object.update(
            id=OBJECT_ID, properties={"status": status, "title": obj.properties["title"]}
        )
    assert api.sent[-1].json()["properties"] == {
        "status": {"type": "label", "label": [{"id": "done", "name": "Done", "color": "green"}]},
        "title": {"type": "title", "title": {"value": "Example"}},
    }


async def test_paging_iterates_every_page() -> None:
    pages = [
        {"results": [summary(1), summary(2)], "hasMore": True, "nextCursor": "c2"},
        {"results": [summary(3), summary(4)], "hasMore": True, "nextCursor": "c3"},
        # Last page: a stale cursor must not cause another request.
        {"results": [summary(5)], "hasMore": False, "nextCursor": "stale"},
    ]
    api = FakeApi([ok(p) for p in pages])
    async with make_client(api) as client:
        titles = [s.title async for s in client.objects.iterate("tag", OTHER_ID, page_size=2)]
    assert titles == [f"Page {i}" for i in range(1, 6)]
    assert [s.query for s in api.sent] == [
        {"id": OTHER_ID, "pageSize": "2"},
        {"id": OTHER_ID, "pageSize": "2", "cursor": "c2"},
        {"id": OTHER_ID, "pageSize": "2", "cursor": "c3"},
    ]
    assert {s.path for s in api.sent} == {"/objects/tag"}


@pytest.mark.parametrize(
    ("kind", "path"),
    [("structure", "/objects/structure"), ("tag", "/objects/tag"), ("collection", "/objects/collection")],
)
async def test_iterate_kinds_and_missing_cursor_stops(kind: str, path: str) -> None:
    api = FakeApi([ok({"results": [summary(1)], "hasMore": True, "nextCursor": None})])
    async with make_client(api) as client:
        items = [s async for s in client.objects.iterate(kind, "RootPage")]
    assert len(items) == 1 and len(api.sent) == 1 and api.sent[0].path == path


async def test_iterate_rejects_unknown_kind_without_sending() -> None:
    api = FakeApi()
    async with make_client(api) as client:
        with pytest.raises(ValueError, match="kind must be one of"):
            async for _ in client.objects.iterate("space", "x"):
                pass
    assert api.sent == []


async def test_new_enum_values_in_responses_do_not_break_reads() -> None:
    payload = object_payload()
    content = payload["blocks"]["content"]
    content[0]["tokens"][0]["color"] = "text-black"
    content[0]["colorTheme"] = "bg-black"
    content[0]["highlight"] = {"type": "hypothesis"}
    content[0]["hierarchy"] = {"key": "H4", "val": 4}
    content[2]["gridLayout"] = "masonry"
    payload["properties"]["due"]["date"]["dateResolution"] = "week"
    payload["properties"]["icon"]["icon"]["value"] = {"type": "image", "val": "https://i.test/x"}
    api = FakeApi([ok(payload), ok({**SPACE, "icon": {"type": "image", "val": "x"}})])
    async with make_client(api) as client:
        obj = await client.object.get(OBJECT_ID)
        space = await client.space.get()
    assert obj.to_wire() == payload
    assert space.icon is not None and space.icon.type == "image"


async def test_keyword_arguments_override_a_given_body() -> None:
    from capacities_mcp.api.models import UpdateObjectBody

    api = FakeApi([ok(SMALL_OBJECT)])
    body = UpdateObjectBody(id=OBJECT_ID, delete_requested=True)
    async with make_client(api) as client:
        await client.object.update(body, delete_requested=False)
    assert api.sent[0].json() == {"id": OBJECT_ID, "deleteRequested": False}
