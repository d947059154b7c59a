"""Space, structures and object routes over real HTTP: happy paths, rules and errors."""

from __future__ import annotations

from capacities_mcp.api import CapacitiesApiError, CapacitiesClient
from capacities_mcp.sandbox import SandboxServer

from .helpers import (
    BOOK,
    BOOK_NOTES,
    FAVORITES,
    IDS,
    PERSON,
    SPACE_ID,
    TO_READ,
    Api,
    assert_conforms,
    error_of,
)

MISSING = "7d2e7f8a-4c3b-4e1d-9f0a-123456789abc"


def _title(value: str) -> dict[str, object]:
    return {"type": "title", "title": {"value": value}}


def test_space_and_structures(api: Api) -> None:
    space = api.get("/space")
    assert space.status_code == 200
    assert space.json() == {"id": SPACE_ID, "title": "Fixture space", "icon": {"type": "emoji", "val": "🧪"}}
    assert_conforms("GET", "/space", space.json())
    structures = api.get("/space/structures").json()["structures"]
    assert_conforms("GET", "/space/structures", {"structures": structures})
    book = next(s for s in structures if s["id"] == BOOK)
    assert [c["id"] for c in book["collections"]] == [FAVORITES, TO_READ]


def test_get_object_conforms_and_hides_private_fields(api: Api) -> None:
    response = api.get("/object", id=IDS["alpha"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "structureId", "collections", "properties", "blocks"}
    assert body["properties"]["tags"] == {"type": "entity", "entity": [{"id": IDS["tag_ideas"]}]}
    assert_conforms("GET", "/object", body)


def test_get_object_errors(api: Api) -> None:
    assert error_of(api.get("/object", id=MISSING))[:2] == (404, "cap_not_found")
    status, code, message = error_of(api.get("/object", id="not-a-uuid"))
    assert (status, code) == (400, "cap_invalid_input")
    assert message.startswith("✖ ") and message.endswith("\n  → at id")  # zod's shape
    status, code, message = error_of(api.get("/object"))
    assert (status, code) == (400, "cap_invalid_input") and "→ at id" in message
    # Ids go in the query string; a path id is an unknown route.
    assert error_of(api.get(f"/object/{IDS['alpha']}"))[:2] == (404, "cap_not_found")


def test_create_object_with_properties_blocks_and_collections(api: Api, sandbox: SandboxServer) -> None:
    body = {
        "structureId": BOOK,
        "collections": [FAVORITES],
        "properties": {
            "title": _title("Foundation"),
            "rating": {"type": "number", "number": {"value": 4.5}},
            "genres": {
                "type": "label",
                "label": [
                    {"id": "classic", "name": "x"},
                    {"id": "sf", "name": "y"},
                    {"id": "classic", "name": "x"},
                ],
            },
            "author": {"type": "entity", "entity": [{"id": IDS["ada"]}]},
            "summary": {
                "type": "richText",
                "richText": {"value": [{"type": "TextToken", "text": "Psychohistory"}]},
            },
        },
        "blocks": {
            BOOK_NOTES: [
                {
                    "type": "TextBlock",
                    "tokens": [{"type": "TextToken", "text": "Hi", "style": {}}],
                    "textAlignment": "center",
                    "unknownKey": 1,
                    "blocks": [{"type": "CodeBlock", "lang": "py", "text": "x = 1"}],
                }
            ]
        },
        "unknownTopLevel": True,
    }
    response = api.post("/object", body)
    assert response.status_code == 200, response.text
    created = response.json()
    assert_conforms("POST", "/object", created)
    assert created["structureId"] == BOOK and created["collections"] == [FAVORITES]
    props = created["properties"]
    assert props["title"] == _title("Foundation")
    assert props["rating"] == {"type": "number", "number": {"value": 4.5}}
    # Label options are picked by id, deduplicated, and read back with their real names.
    assert props["genres"]["label"] == [
        {"id": "classic", "name": "Classic"},
        {"id": "sf", "name": "Science fiction"},
    ]
    assert props["author"] == {"type": "entity", "entity": [{"id": IDS["ada"]}]}
    assert props["summary"]["richText"]["value"] == [
        {"type": "TextToken", "text": "Psychohistory", "style": {}}
    ]
    assert props["createdAt"]["type"] == "createdAt"
    [block] = created["blocks"][BOOK_NOTES]
    assert "textAlignment" not in block and "unknownKey" not in block
    assert block["hierarchy"] == {"key": "Base", "val": 0}
    assert block["blocks"][0]["type"] == "CodeBlock" and block["blocks"][0]["id"] != block["id"]
    assert api.get("/object", id=created["id"]).json() == created
    assert sandbox.state.get_object(created["id"]) is not None


def test_new_page_gets_one_empty_paragraph(api: Api) -> None:
    created = api.post(
        "/object", {"structureId": "RootPage", "properties": {"title": _title("Empty")}}
    ).json()
    [block] = created["blocks"]["content"]
    assert block["type"] == "TextBlock" and block["tokens"] == [] and block["blocks"] == []


def test_create_object_rules(api: Api) -> None:
    def create(body: dict[str, object]) -> tuple[int, str, str]:
        return error_of(api.post("/object", body))

    status, code, message = create({"structureId": "RootDailyNote"})
    assert (status, code) == (400, "cap_invalid_input")
    assert "This object type cannot be created via this endpoint." in message
    assert "cannot be created" in create({"structureId": "MediaWebResource"})[2]
    assert create({"structureId": "7d2e7f8a-4c3b-4e1d-9f0a-123456789abd"})[0] == 400
    assert create({"structureId": "NotAStructure"})[0] == 400
    status, _, message = create({"structureId": BOOK, "properties": {"nope": _title("x")}})
    assert status == 400 and "Unknown property `nope`" in message and "→ at properties.nope" in message
    status, _, message = create(
        {"structureId": BOOK, "properties": {"isbn": {"type": "text", "text": {"value": "1"}}}}
    )
    assert status == 400 and "not writable" in message
    status, _, message = create(
        {"structureId": BOOK, "properties": {"rating": {"type": "text", "text": {"value": "1"}}}}
    )
    assert status == 400 and "has type number" in message
    status, _, message = create(
        {
            "structureId": BOOK,
            "properties": {"genres": {"type": "label", "label": [{"id": "zz", "name": "Z"}]}},
        }
    )
    assert (
        status == 400
        and "Unknown label option `zz`" in message
        and "→ at properties.genres.label[0].id" in message
    )
    status, _, message = create(
        {"structureId": BOOK, "properties": {"author": {"type": "entity", "entity": [{"id": MISSING}]}}}
    )
    assert status == 400 and "does not exist" in message
    status, _, message = create(
        {"structureId": BOOK, "properties": {"author": {"type": "entity", "entity": [{"id": IDS["beta"]}]}}}
    )
    assert status == 400 and PERSON in message
    status, _, message = create(
        {"structureId": BOOK, "collections": ["7d2e7f8a-4c3b-4e1d-9f0a-123456789abd"]}
    )
    assert status == 400 and "→ at collections[0]" in message
    status, _, message = create({"structureId": BOOK, "blocks": {"content": []}})
    assert status == 400 and BOOK_NOTES in message
    # lastUpdatedAt is never writable: the writable union does not even know it.
    status, _, message = create(
        {
            "structureId": "RootPage",
            "properties": {
                "lastUpdatedAt": {
                    "type": "lastUpdatedAt",
                    "lastUpdatedAt": {"value": "2026-01-01T00:00:00.000Z"},
                }
            },
        }
    )
    assert status == 400 and "→ at properties.lastUpdatedAt" in message


def test_strict_json_validation(api: Api) -> None:
    status, code, message = error_of(api.post("/object", {"structureId": 5}))
    assert (status, code) == (400, "cap_invalid_input")
    assert message.startswith("✖ Invalid input: expected string") and message.endswith("\n  → at structureId")
    status, _, message = error_of(
        api.post(
            "/object",
            {"structureId": BOOK, "properties": {"rating": {"type": "number", "number": {"value": "5"}}}},
        )
    )
    assert status == 400 and "→ at properties.rating.number.value" in message
    status, _, message = error_of(
        api.post("/object", {"structureId": "RootPage", "blocks": {"content": [{"type": "Paragraph"}]}})
    )
    assert status == 400 and "→ at blocks.content[0]" in message
    status, _, message = error_of(api.post("/object", []))
    assert status == 400 and "expected object" in message
    # No coercion, as zod: "yes" is not a boolean, "3" not a number; JSON 3.0 is the number 3.
    status, _, message = error_of(
        api.post(
            "/object",
            {"structureId": BOOK, "properties": {"read": {"type": "boolean", "boolean": {"value": "yes"}}}},
        )
    )
    assert status == 400 and "expected boolean, received string" in message
    status, _, message = error_of(api.post("/objects/search", {"query": "book", "limit": "3"}))
    assert status == 400 and message.endswith("→ at limit")
    hits = api.post("/objects/search", {"query": "book", "limit": 1.0})
    assert hits.status_code == 200 and len(hits.json()["results"]) == 1


def test_patch_replaces_named_properties_only(api: Api) -> None:
    created = api.post(
        "/object",
        {
            "structureId": BOOK,
            "properties": {
                "title": _title("Patch me"),
                "rating": {"type": "number", "number": {"value": 1}},
                "genres": {
                    "type": "label",
                    "label": [{"id": "sf", "name": "sf"}, {"id": "essay", "name": "e"}],
                },
            },
        },
    ).json()
    response = api.patch(
        "/object",
        {
            "id": created["id"],
            "properties": {"genres": {"type": "label", "label": [{"id": "classic", "name": "c"}]}},
        },
    )
    assert response.status_code == 200
    updated = response.json()
    assert_conforms("PATCH", "/object", updated)
    assert updated["properties"]["genres"]["label"] == [{"id": "classic", "name": "Classic"}]
    assert updated["properties"]["rating"] == {"type": "number", "number": {"value": 1}}
    assert updated["properties"]["title"] == _title("Patch me")
    moved = api.patch("/object", {"id": created["id"], "collections": [TO_READ]}).json()
    assert moved["collections"] == [TO_READ]
    assert api.patch("/object", {"id": created["id"], "collections": []}).json()["collections"] == []
    replaced = api.patch(
        "/object", {"id": created["id"], "blocks": {BOOK_NOTES: [{"type": "HorizontalLineBlock"}]}}
    ).json()
    assert [b["type"] for b in replaced["blocks"][BOOK_NOTES]] == ["HorizontalLineBlock"]


def test_single_select_keeps_first_option(api: Api) -> None:
    response = api.patch(
        "/object",
        {
            "id": IDS["task"],
            "properties": {
                "status": {
                    "type": "label",
                    "label": [{"id": "done", "name": "Done"}, {"id": "not-started", "name": "Not started"}],
                }
            },
        },
    )
    assert response.json()["properties"]["status"]["label"] == [{"id": "done", "name": "Done"}]
    dated = api.patch(
        "/object",
        {"id": IDS["task"], "properties": {"date": {"type": "date", "date": {"start": "2026-08-01"}}}},
    )
    assert dated.json()["properties"]["date"] == {
        "type": "date",
        "date": {"dateResolution": "day", "start": "2026-08-01T00:00:00.000Z", "end": None},
    }
    cleared = api.patch(
        "/object", {"id": IDS["task"], "properties": {"status": {"type": "label", "label": []}}}
    )
    assert cleared.json()["properties"]["status"]["label"] == []


def test_patch_errors(api: Api) -> None:
    status, _, message = error_of(api.patch("/object", {"id": IDS["beta"]}))
    assert status == 400
    assert "Provide at least one of `properties`, `collections`, `blocks`, or `deleteRequested`." in message
    assert error_of(api.patch("/object", {"id": MISSING, "deleteRequested": False}))[0] == 404
    assert error_of(api.patch("/object", {"id": IDS["beta"], "deleteRequested": "yes"}))[0] == 400


def test_trash_restore_and_hard_delete(api: Api) -> None:
    page = api.post(
        "/object", {"structureId": "RootPage", "properties": {"title": _title("Trash cycle unique")}}
    ).json()
    oid = page["id"]
    trashed = api.patch("/object", {"id": oid, "deleteRequested": True})
    assert trashed.status_code == 200
    assert api.get("/object", id=oid).status_code == 404
    assert api.get("/object/markdown", id=oid).status_code == 404
    assert api.post("/objects/search", {"query": "Trash cycle unique"}).json()["results"] == []
    # A trashed object can only be restored, not edited.
    assert api.patch("/object", {"id": oid, "properties": {"title": _title("x")}}).status_code == 404
    restored = api.patch("/object", {"id": oid, "deleteRequested": False})
    assert restored.status_code == 200
    assert api.get("/object", id=oid).json()["properties"]["title"] == _title("Trash cycle unique")
    # DELETE without hardDelete trashes (200, empty body) and stays restorable.
    deleted = api.delete("/object", id=oid)
    assert deleted.status_code == 200 and deleted.content == b""
    assert api.get("/object", id=oid).status_code == 404
    assert api.patch("/object", {"id": oid, "deleteRequested": False}).status_code == 200
    hard = api.delete("/object", id=oid, hardDelete="true")
    assert hard.status_code == 200 and hard.content == b""
    assert api.patch("/object", {"id": oid, "deleteRequested": False}).status_code == 404
    assert api.delete("/object", id=oid).status_code == 404
    assert api.delete("/object", id="nope").status_code == 400
    status, _, message = error_of(api.delete("/object", id=oid, hardDelete="yes"))
    assert status == 400 and "→ at hardDelete" in message


def test_hard_delete_of_trashed_object(api: Api, sandbox: SandboxServer) -> None:
    assert api.delete("/object", id=IDS["trash_me"], hardDelete="false").status_code == 200
    assert sandbox.state.get_object(IDS["trash_me"], include_trashed=True) is not None
    assert api.delete("/object", id=IDS["trash_me"], hardDelete="true").status_code == 200
    assert IDS["trash_me"] not in sandbox.state.objects


def test_create_from_url(api: Api) -> None:
    response = api.post(
        "/object/url",
        {
            "url": "https://example.org/article",
            "properties": {
                "title": _title("An article"),
                "description": {"type": "text", "text": {"value": "Short"}},
            },
            "markdown": "Notes about **this**.",
        },
    )
    assert response.status_code == 200, response.text
    weblink = response.json()
    assert_conforms("POST", "/object/url", weblink)
    assert weblink["structureId"] == "MediaWebResource"
    assert weblink["properties"]["media_URLReference"] == {
        "type": "url",
        "url": {"value": "https://example.org/article"},
    }
    assert weblink["properties"]["title"] == _title("An article")
    assert weblink["properties"]["description"] == {"type": "text", "text": {"value": "Short"}}
    tokens = weblink["blocks"]["media_notes"][0]["tokens"]
    assert {"type": "TextToken", "text": "this", "style": {"bold": True}} in tokens
    bare = api.post("/object/url", {"url": "https://example.org/other/page"}).json()
    assert bare["properties"]["title"]["title"]["value"] == "example.org/other/page"
    status, _, message = error_of(
        api.post("/object/url", {"url": "https://x.org", "markdown": "a", "blocks": {"media_notes": []}})
    )
    assert status == 400 and "Provide at most one of `blocks` or `markdown`." in message
    assert error_of(api.post("/object/url", {"url": "not a url"}))[0] == 400


def test_weblinks_cannot_be_patched(api: Api) -> None:
    """capacities-api.md §6.1: PATCH /object on a MediaWebResource is rejected (tags included)."""
    weblink = api.post("/object/url", {"url": "https://example.org/patch-me"}).json()
    before = api.get("/object", id=weblink["id"]).json()
    for body in (
        {"properties": {"title": _title("Renamed")}},
        {"properties": {"tags": {"type": "entity", "entity": [{"id": IDS["tag_ideas"]}]}}},
        {"deleteRequested": True},
    ):
        status, code, message = error_of(api.patch("/object", {"id": weblink["id"], **body}))
        assert (status, code) == (400, "cap_invalid_input")
        assert "cannot be updated via this endpoint" in message and message.endswith("→ at id")
    assert api.get("/object", id=weblink["id"]).json() == before
    assert api.delete("/object", id=weblink["id"]).status_code == 200  # deleting still works


def test_markdown_export(api: Api, sandbox: SandboxServer) -> None:
    response = api.get("/object/markdown", id=IDS["alpha"])
    assert response.status_code == 200
    body = response.json()
    assert_conforms("GET", "/object/markdown", body)
    assert body["id"] == IDS["alpha"] and body["structureId"] == "RootPage"
    markdown = body["markdown"]
    assert markdown.startswith("# Project Alpha\n\nIntro paragraph.")
    assert "## Plan" in markdown and "- first step" in markdown
    assert f"[Beta](https://app.capacities.io/{SPACE_ID}/{IDS['beta']})" in markdown
    assert api.get("/object/markdown", id=IDS["alphabet"]).json()["markdown"] == "# Alphabet soup"


def test_markdown_create_with_front_matter(api: Api) -> None:
    markdown = (
        "---\nstatus: Done\ndate: 2026-08-03\ntags: [work]\n---\n"
        "# Task from Markdown\n\nBody with a link to [[Project Alpha]] and [[Nowhere]]."
    )
    response = api.post(
        "/object/markdown", {"structureId": "RootTask", "markdown": markdown, "properties": {"x": 1}}
    )
    assert response.status_code == 200, response.text
    created = response.json()
    assert_conforms("POST", "/object/markdown", created)
    props = created["properties"]
    assert props["title"] == _title("Task from Markdown")
    assert props["status"]["label"] == [{"id": "done", "name": "Done"}]
    assert props["date"]["date"] == {
        "dateResolution": "day",
        "start": "2026-08-03T00:00:00.000Z",
        "end": None,
    }
    assert props["tags"]["entity"] == [{"id": IDS["tag_work"]}]
    tokens = [t for b in created["blocks"]["content"] for t in b.get("tokens", [])]
    assert any(t.get("entityId") == IDS["alpha"] for t in tokens)
    assert not any("# Task" in t.get("text", "") for t in tokens)
    exported = api.get("/object/markdown", id=created["id"]).json()["markdown"]
    assert exported.startswith("# Task from Markdown\n\nBody with a link to [Project Alpha](")


def test_markdown_create_errors(api: Api) -> None:
    status, _, message = error_of(
        api.post("/object/markdown", {"structureId": "RootTask", "markdown": "---\nstatus: Nope\n---\n# T"})
    )
    assert status == 400 and "Unknown option `Nope`" in message and "Not started" in message
    status, _, message = error_of(
        api.post("/object/markdown", {"structureId": "RootTask", "markdown": "---\nbogus: 1\n---\n# T"})
    )
    assert status == 400 and "Unknown property `bogus`" in message
    status, _, message = error_of(
        api.post(
            "/object/markdown", {"structureId": "RootPage", "markdown": "---\ntitle: [unclosed\n---\n# T"}
        )
    )
    assert status == 400 and "front matter" in message.lower()
    assert (
        "cannot be created"
        in error_of(api.post("/object/markdown", {"structureId": "RootDailyNote", "markdown": "# x"}))[2]
    )
    assert error_of(api.post("/object/markdown", {"structureId": "RootPage"}))[0] == 400


def test_markdown_patch_applies_front_matter_only(api: Api) -> None:
    created = api.post(
        "/object/markdown", {"structureId": BOOK, "markdown": "# Old title\n\nKeep this body."}
    ).json()
    response = api.patch(
        "/object/markdown",
        {
            "id": created["id"],
            "markdown": "---\ntitle: New title\nrating: 3\ngenres: [Classic, essay]\n---\nIgnored body",
        },
    )
    assert response.status_code == 200, response.text
    props = response.json()["properties"]
    assert props["title"] == _title("New title")
    assert props["rating"] == {"type": "number", "number": {"value": 3}}
    assert props["genres"]["label"] == [
        {"id": "classic", "name": "Classic"},
        {"id": "essay", "name": "Essay"},
    ]
    markdown = api.get("/object/markdown", id=created["id"]).json()["markdown"]
    assert markdown == "# New title\n\nKeep this body."
    status, _, message = error_of(
        api.patch("/object/markdown", {"id": created["id"], "markdown": "---\nrating: many\n---\n"})
    )
    assert status == 400 and "Expected a number" in message
    assert (
        api.patch("/object/markdown", {"id": MISSING, "markdown": "---\ntitle: x\n---\n"}).status_code == 404
    )


async def test_typed_client_round_trip(sandbox: SandboxServer) -> None:
    token = sandbox.mint_token(("api:read", "api:write"))
    async with CapacitiesClient(api_token=token, base_url=sandbox.base_url, max_retries=0) as client:
        space = await client.space.get()
        assert space.id == SPACE_ID
        created = await client.object.create(
            structure_id="RootPage", properties={"title": _title("Via client")}
        )
        fetched = await client.object.get(created.id)
        assert fetched.properties["title"].title.value == "Via client"  # type: ignore[union-attr]
        appended = await client.blocks.append(id=created.id, markdown="- one\n- two")
        assert len(appended.blocks["content"]) == 3  # type: ignore[index]
        markdown = await client.object.markdown.get(created.id)
        assert markdown.markdown == "# Via client\n\n- one\n- two"
        await client.object.delete(created.id)
        try:
            await client.object.get(created.id)
        except CapacitiesApiError as exc:
            assert (exc.status, exc.code) == (404, "cap_not_found")
        else:
            raise AssertionError("a trashed object must not be readable")
