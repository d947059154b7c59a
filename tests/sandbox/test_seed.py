"""The demo space: valid against the API models, internally consistent, and deterministic."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import TypeAdapter

from capacities_mcp.api.models import (
    BUILTIN_STRUCTURE_IDS,
    Space,
    Structure,
    StructuresResponse,
    WritableBlock,
    WritableIcon,
    WritablePropertyValue,
    is_uuid,
    wire,
)
from capacities_mcp.sandbox import Clock, SandboxConfig, _seed
from capacities_mcp.sandbox._app import load_store
from capacities_mcp.sandbox._markdown import markdown_to_blocks
from capacities_mcp.sandbox._seed import SeedObject, SeedSpace, demo_space

TODAY = datetime.date(2026, 8, 21)
WRITABLE_BLOCKS: TypeAdapter[Any] = TypeAdapter(list[WritableBlock])
WRITABLE_VALUE: TypeAdapter[Any] = TypeAdapter(WritablePropertyValue)


@pytest.fixture(scope="module")
def space() -> SeedSpace:
    return demo_space(TODAY)


@pytest.fixture(scope="module")
def blocks_by_id(space: SeedSpace) -> dict[str, list[dict[str, Any]]]:
    """Every seed body converted the way the store converts it, links resolved by title."""
    titles = {item.title: item.id for item in space.objects}
    return {item.id: markdown_to_blocks(item.markdown, resolve_link=titles.get) for item in space.objects}


def walk(blocks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for block in blocks:
        yield block
        yield from walk(block.get("blocks", []))


def structure_of(space: SeedSpace, structure_id: str) -> dict[str, Any]:
    return next(s for s in space.structures if s["id"] == structure_id)


def definitions_of(space: SeedSpace, structure_id: str) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in structure_of(space, structure_id)["propertyDefinitions"]}


def objects_of(space: SeedSpace, structure_id: str) -> list[SeedObject]:
    return [item for item in space.objects if item.structure_id == structure_id]


# --- space and structures ----------------------------------------------------------------------


def test_space_is_a_valid_space_with_a_phosphor_icon(space: SeedSpace) -> None:
    model = Space.model_validate(space.space)
    assert model.id == _seed.DEMO_SPACE_ID and is_uuid(model.id)
    assert model.title == "Demo space"
    WritableIcon.model_validate(space.space["icon"])  # a regular Phosphor id, no styled variant


def test_structures_validate_and_list_the_expected_types(space: SeedSpace) -> None:
    StructuresResponse.model_validate({"structures": space.structures})
    for structure in space.structures:
        assert wire(Structure.model_validate(structure)) == structure  # no unknown keys
    ids = [s["id"] for s in space.structures]
    assert ids[:5] == ["RootPage", "RootTask", "RootTag", "RootDailyNote", "MediaWebResource"]
    custom = [s for s in space.structures if s["id"] not in BUILTIN_STRUCTURE_IDS]
    assert {s["title"] for s in custom} == {"Book", "Person", "Project"}
    assert all(is_uuid(s["id"]) for s in custom)
    assert len(set(ids)) == len(ids)


def test_property_definitions_follow_the_api_rules(space: SeedSpace) -> None:
    structure_ids = {s["id"] for s in space.structures}
    for structure in space.structures:
        definitions = structure["propertyDefinitions"]
        assert definitions[0] == {"id": "title", "name": "", "type": "title", "writable": True}
        assert len({d["id"] for d in definitions}) == len(definitions)
        for definition in definitions:
            kind = definition["type"]
            assert ("labelSet" in definition) == (kind == "label") == ("multiple" in definition)
            assert ("allowedStructures" in definition) == (kind == "entity")
            if kind == "label":
                option_ids = [option["id"] for option in definition["labelSet"]]
                assert option_ids and len(set(option_ids)) == len(option_ids)
            if kind == "entity":
                assert set(definition["allowedStructures"]) <= structure_ids
            read_only = kind == "lastUpdatedAt" or definition["id"] == "media_URLReference"
            assert definition["writable"] is not read_only
            if structure["id"] not in BUILTIN_STRUCTURE_IDS and definition["id"] not in (
                "title",
                "tags",
                "createdAt",
                "lastUpdatedAt",
            ):
                assert is_uuid(definition["id"]), "custom fields have uuid ids"


def test_builtin_structures_have_their_known_properties(space: SeedSpace) -> None:
    page = definitions_of(space, "RootPage")
    assert {k: page[k]["type"] for k in page} == {
        "title": "title",
        "description": "richText",
        "tags": "entity",
        "createdAt": "createdAt",
        "lastUpdatedAt": "lastUpdatedAt",
    }
    assert page["tags"]["allowedStructures"] == ["RootTag"]
    task = definitions_of(space, "RootTask")
    assert "createdAt" not in task
    assert [o["name"] for o in task["status"]["labelSet"]] == ["Not started", "In progress", "Done"]
    assert [o["name"] for o in task["priority"]["labelSet"]] == ["Low", "Medium", "High"]
    assert task["status"]["multiple"] is False
    assert {task[k]["type"] for k in ("date", "deadline", "completed")} == {"date"}
    weblink = definitions_of(space, "MediaWebResource")
    assert weblink["description"]["type"] == "text"
    assert weblink["media_URLReference"]["type"] == "url"


def test_book_type_has_rich_properties_and_collections(space: SeedSpace) -> None:
    book = structure_of(space, _seed.BOOK_STRUCTURE_ID)
    kinds = Counter(d["type"] for d in book["propertyDefinitions"])
    assert (kinds["label"], kinds["number"], kinds["richText"], kinds["date"]) == (2, 1, 1, 1)
    author = definitions_of(space, _seed.BOOK_STRUCTURE_ID)[_seed.BOOK_AUTHOR_ID]
    assert author["allowedStructures"] == [_seed.PERSON_STRUCTURE_ID]
    assert definitions_of(space, _seed.BOOK_STRUCTURE_ID)[_seed.BOOK_GENRE_ID]["multiple"] is True
    assert {"id": _seed.READING_LIST_COLLECTION_ID, "title": "Reading list"} in book["collections"]
    for structure in space.structures:
        assert all(is_uuid(c["id"]) for c in structure["collections"])


def test_content_properties_cover_every_structure(space: SeedSpace) -> None:
    assert set(space.content_property) == {s["id"] for s in space.structures}
    assert {k: v for k, v in space.content_property.items() if k in BUILTIN_STRUCTURE_IDS} == {
        "RootPage": "content",
        "RootTask": "notes",
        "RootTag": "content",
        "RootDailyNote": "RootDailyNote_notes",
        "MediaWebResource": "media_notes",
    }
    custom = [v for k, v in space.content_property.items() if k not in BUILTIN_STRUCTURE_IDS]
    assert custom and all(is_uuid(v) for v in custom)
    # Only Page and Tag share a key ("content"); every other structure has its own.
    assert len(set(space.content_property.values())) == len(space.content_property) - 1


# --- objects -----------------------------------------------------------------------------------


def test_there_are_many_objects_with_unique_ids_and_titles(space: SeedSpace) -> None:
    assert len(space.objects) >= 30
    assert len({item.id for item in space.objects}) == len(space.objects)
    assert len({item.title for item in space.objects}) == len(space.objects)
    assert all(is_uuid(item.id) for item in space.objects)
    structure_ids = {s["id"] for s in space.structures}
    assert {item.structure_id for item in space.objects} == structure_ids


def test_well_known_ids_point_at_the_right_objects(space: SeedSpace) -> None:
    by_id = {item.id: item for item in space.objects}
    assert by_id[_seed.WELCOME_PAGE_ID].title == "Welcome to your demo space"
    assert by_id[_seed.RESEARCH_NOTE_ID].structure_id == "RootPage"
    assert by_id[_seed.RETROSPECTIVE_ID].structure_id == "RootPage"
    assert by_id[_seed.SMART_NOTES_BOOK_ID].structure_id == _seed.BOOK_STRUCTURE_ID
    assert by_id[_seed.TODAYS_DAILY_NOTE_ID].title == "2026-08-21T00:00:00.000Z"
    assert space.object_titled("Deep Work") is not None
    assert space.object_titled("No such thing") is None


def test_ids_are_deterministic_and_content_depends_only_on_today(space: SeedSpace) -> None:
    assert demo_space(TODAY) == space
    later = demo_space(TODAY + datetime.timedelta(days=3))
    assert [item.id for item in later.objects] == [item.id for item in space.objects]
    assert later.objects[-1].title == "2026-08-24T00:00:00.000Z"


def test_each_call_returns_independent_data(space: SeedSpace) -> None:
    first = demo_space(TODAY)
    first.structures[0]["propertyDefinitions"][0]["name"] = "changed"
    first.structures[1]["propertyDefinitions"][1]["labelSet"].clear()
    first.objects[0].properties["x"] = 1
    assert demo_space(TODAY) == space


def test_a_sandbox_seeds_the_demo_space_as_of_its_clock_day() -> None:
    clock = Clock.starting_at(datetime.datetime(2028, 2, 29, 23, 59, tzinfo=datetime.UTC))
    store = load_store(SandboxConfig(clock=clock))
    titles = {store.title_of(obj) for obj in store.live_objects() if obj["structureId"] == "RootDailyNote"}
    assert "2028-02-29T00:00:00.000Z" in titles and "2028-02-23T00:00:00.000Z" in titles


def test_every_body_converts_to_valid_writable_blocks(
    space: SeedSpace, blocks_by_id: dict[str, list[dict[str, Any]]]
) -> None:
    for item in space.objects:
        blocks = blocks_by_id[item.id]
        validated = WRITABLE_BLOCKS.validate_python(blocks)
        assert [wire(b) for b in validated] == blocks
        assert bool(blocks) == bool(item.markdown.strip()), item.title
        assert not item.markdown.startswith("# "), "the body carries no H1 title"


def test_every_wikilink_names_an_existing_object(
    space: SeedSpace, blocks_by_id: dict[str, list[dict[str, Any]]]
) -> None:
    ids = {item.id for item in space.objects}
    link_count = 0
    for item in space.objects:
        for block in walk(blocks_by_id[item.id]):
            for token in block.get("tokens", []):
                if token["type"] == "TextToken":
                    assert "[[" not in token["text"], f"unresolved link in {item.title!r}"
                if token.get("entityId"):
                    assert token["entityId"] in ids
                    link_count += 1
    assert link_count >= 50


def test_property_values_are_valid_and_match_their_definitions(space: SeedSpace) -> None:
    structure_by_id = {item.id: item.structure_id for item in space.objects}
    for item in space.objects:
        definitions = definitions_of(space, item.structure_id)
        for key, value in item.properties.items():
            where = f"{item.title!r}.{key}"
            assert key != "title", where
            definition = definitions.get(key)
            assert definition is not None, f"{where}: no such property"
            assert definition["writable"], where
            assert value["type"] == definition["type"], where
            assert wire(WRITABLE_VALUE.validate_python(value)) == value, where
            if definition["type"] == "label":
                options = {o["id"]: o["name"] for o in definition["labelSet"]}
                chosen = value["label"]
                assert chosen, where
                assert all(options.get(o["id"]) == o["name"] for o in chosen), where
                if not definition["multiple"]:
                    assert len(chosen) == 1, where
            if definition["type"] == "entity":
                for target in value["entity"]:
                    assert structure_by_id[target["id"]] in definition["allowedStructures"], where
            if definition["type"] == "date":
                start = value["date"]["start"]
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00\.000Z", start), where


def test_tags_collections_dates_and_urls(space: SeedSpace) -> None:
    tag_titles = {item.title for item in objects_of(space, "RootTag")}
    assert len(tag_titles) >= 5
    for item in space.objects:
        if item.tags:
            assert "tags" in definitions_of(space, item.structure_id), item.title
            assert set(item.tags) <= tag_titles, item.title
        collection_ids = {c["id"] for c in structure_of(space, item.structure_id)["collections"]}
        assert set(item.collections) <= collection_ids, item.title
        datetime.datetime.fromisoformat(item.created_at.replace("Z", "+00:00"))
        assert (item.url is not None) == (item.structure_id == "MediaWebResource"), item.title
    assert any(_seed.READING_LIST_COLLECTION_ID in item.collections for item in space.objects)
    assert sum(bool(item.tags) for item in space.objects) >= 30


def test_long_notes_have_thousands_of_words_and_every_block_kind(
    space: SeedSpace, blocks_by_id: dict[str, list[dict[str, Any]]]
) -> None:
    long_notes = [item for item in space.objects if len(item.markdown.split()) >= 3000]
    assert {item.id for item in long_notes} == {
        _seed.RESEARCH_NOTE_ID,
        _seed.RETROSPECTIVE_ID,
        _seed.SMART_NOTES_BOOK_ID,
    }
    for item in long_notes:
        blocks = list(walk(blocks_by_id[item.id]))
        kinds = {b["type"] for b in blocks}
        assert {"TextBlock", "CodeBlock"} <= kinds
        assert any(b.get("hierarchy", {}).get("key") == "H2" for b in blocks)
        assert any(b.get("todo") for b in blocks) and any(b.get("quote") for b in blocks)
        assert any(b.get("list", {}).get("type") == "numerical" for b in blocks)
        assert any(b.get("blocks") for b in blocks), "nested lists"
        sentences = re.split(r"(?<=[.!?])\s+", item.markdown)
        # Generated from a vocabulary, but not one sentence over and over.
        assert len(set(sentences)) > 0.5 * len(sentences)
    everything = " ".join(item.markdown for item in space.objects).lower()
    assert "lorem" not in everything and "ipsum" not in everything


def test_the_space_uses_every_block_kind_somewhere(
    blocks_by_id: dict[str, list[dict[str, Any]]],
) -> None:
    blocks = [b for body in blocks_by_id.values() for b in walk(body)]
    kinds = {b["type"] for b in blocks}
    assert kinds == {"TextBlock", "CodeBlock", "MathBlock", "HorizontalLineBlock"}
    tokens = {t["type"] for b in blocks for t in b.get("tokens", [])}
    assert tokens == {"TextToken", "LinkToken", "CodeToken", "MathToken"}
    assert any(t.get("url") for b in blocks for t in b.get("tokens", []))


def test_daily_notes_cover_the_week_ending_today(space: SeedSpace) -> None:
    notes = objects_of(space, "RootDailyNote")
    expected = [(TODAY - datetime.timedelta(days=n)).isoformat() for n in range(6, -1, -1)]
    assert [note.title for note in notes] == [f"{day}T00:00:00.000Z" for day in expected]
    for note in notes:
        assert note.created_at.startswith(note.title[:10])
        times = re.findall(r"^\*\*(\d{2}:\d{2})\*\* ", note.markdown, flags=re.MULTILINE)
        assert len(times) >= 2 and times == sorted(times), note.title


def test_tasks_span_statuses_priorities_and_deadlines(space: SeedSpace) -> None:
    tasks = objects_of(space, "RootTask")
    assert len(tasks) >= 8
    statuses = Counter(t.properties["status"]["label"][0]["name"] for t in tasks)
    priorities = Counter(t.properties["priority"]["label"][0]["name"] for t in tasks)
    assert set(statuses) == {"Not started", "In progress", "Done"}
    assert set(priorities) == {"Low", "Medium", "High"}
    deadlines = [t.properties["deadline"]["date"]["start"][:10] for t in tasks if "deadline" in t.properties]
    assert min(deadlines) < TODAY.isoformat() < max(deadlines), "overdue and upcoming deadlines"
    for task in tasks:
        done = task.properties["status"]["label"][0]["name"] == "Done"
        assert ("completed" in task.properties) == done, task.title
