"""The generated large space (`seed_size`): sizes, determinism, realism, and the API on top of it."""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from pydantic import TypeAdapter

from capacities_mcp.api.models import WritableBlock, WritablePropertyValue
from capacities_mcp.sandbox import MAX_SEED_SIZE, SandboxConfig, SandboxServer, _seed
from capacities_mcp.sandbox._markdown import markdown_to_blocks
from capacities_mcp.sandbox._seed import SeedObject, SeedSpace, demo_space
from capacities_mcp.sandbox._synthetic import synthetic_space

from .helpers import Api

TODAY = datetime.date(2026, 8, 21)
SIZE = 2_000
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
WRITABLE_BLOCKS: TypeAdapter[Any] = TypeAdapter(list[WritableBlock])
WRITABLE_VALUE: TypeAdapter[Any] = TypeAdapter(WritablePropertyValue)


@pytest.fixture(scope="module")
def space() -> SeedSpace:
    return synthetic_space(TODAY, SIZE, base=demo_space(TODAY))


def generated(space: SeedSpace) -> list[SeedObject]:
    return space.objects[len(demo_space(TODAY).objects) :]


def test_size_kinds_and_unique_ids_and_titles(space: SeedSpace) -> None:
    demo = demo_space(TODAY)
    assert space.objects[: len(demo.objects)] == demo.objects  # on top of the demo space
    assert len(space.objects) == len(demo.objects) + SIZE
    assert len({item.id for item in space.objects}) == len(space.objects)
    titles = [item.title.casefold() for item in space.objects]
    assert len(set(titles)) == len(titles), "unique titles: [[Title]] links resolve to one object"
    kinds = Counter(item.structure_id for item in generated(space))
    expected = {"RootPage", "RootTask", "RootTag", "RootDailyNote", "MediaWebResource"}
    expected |= {_seed.BOOK_STRUCTURE_ID, _seed.PERSON_STRUCTURE_ID, _seed.PROJECT_STRUCTURE_ID}
    assert set(kinds) == expected
    assert kinds["RootPage"] > kinds[_seed.BOOK_STRUCTURE_ID] > kinds["RootTag"]


def test_lengths_vary_from_empty_to_long_notes(space: SeedSpace) -> None:
    lengths = sorted(len(item.markdown) for item in generated(space))
    assert lengths[0] == 0  # some tasks have no notes
    assert lengths[len(lengths) // 2] < 1_000
    assert lengths[-1] > 20_000
    assert sum(1 for n in lengths if n > 10_000) >= SIZE // 200


def test_cjk_text_in_titles_and_bodies(space: SeedSpace) -> None:
    cjk_bodies = [item for item in generated(space) if CJK.search(item.markdown)]
    assert len(cjk_bodies) >= SIZE // 50
    assert any(CJK.search(item.title) for item in cjk_bodies)
    assert any(len(item.markdown) > 5_000 for item in cjk_bodies)


def test_same_size_and_seed_give_the_same_space_a_larger_size_only_adds() -> None:
    base = demo_space(TODAY)
    small = synthetic_space(TODAY, 300, base=base)
    again = synthetic_space(TODAY, 300, base=base)
    larger = synthetic_space(TODAY, 600, base=base)
    other = synthetic_space(TODAY, 300, seed=7, base=base)
    assert small.objects == again.objects
    assert larger.objects[: len(small.objects)] == small.objects
    assert [item.id for item in other.objects] != [item.id for item in small.objects]
    assert [item.title for item in other.objects] != [item.title for item in small.objects]


def test_bodies_are_what_their_markdown_parses_to(space: SeedSpace) -> None:
    """The loader takes the generated blocks instead of parsing: they must be the same."""
    ids = {item.title.casefold(): item.id for item in space.objects}
    for item in generated(space):
        parsed = markdown_to_blocks(item.markdown, resolve_link=lambda name: ids.get(name.strip().casefold()))
        assert parsed == item.blocks, item.title
        WRITABLE_BLOCKS.validate_python(item.blocks)


def test_links_properties_and_tags_point_at_real_objects(space: SeedSpace) -> None:
    by_id = {item.id: item for item in space.objects}
    tag_titles = {item.title for item in space.objects if item.structure_id == "RootTag"}
    links = 0
    for item in generated(space):
        for block in item.blocks or []:
            for token in block.get("tokens", []):
                if token["type"] == "LinkToken":
                    links += 1
                    assert token["entityId"] in by_id
        for value in item.properties.values():
            WRITABLE_VALUE.validate_python(value)
            for target in value.get("entity", []):
                assert by_id[target["id"]].structure_id == _seed.PERSON_STRUCTURE_ID
        assert set(item.tags) <= tag_titles
    assert links >= SIZE // 5


def test_dates_follow_the_sandbox_clock() -> None:
    """Every date is relative to `today`: a space made a day later is the same, a day later."""
    base, later = TODAY, TODAY + datetime.timedelta(days=1)
    first = synthetic_space(base, 400, base=demo_space(base))
    second = synthetic_space(later, 400, base=demo_space(later))

    def shifted(text: str) -> str:
        def one_day_on(match: re.Match[str]) -> str:
            return (datetime.date.fromisoformat(match.group(0)) + datetime.timedelta(days=1)).isoformat()

        return ISO_DAY.sub(one_day_on, text)

    for a, b in zip(generated(first), generated(second), strict=True):
        assert json.loads(shifted(json.dumps(_dated_fields(a)))) == _dated_fields(b)


def _dated_fields(item: SeedObject) -> dict[str, Any]:
    return {"title": item.title, "created": item.created_at, "properties": item.properties}


def test_sizes_out_of_range_are_refused() -> None:
    for size in (-1, MAX_SEED_SIZE + 1):
        with pytest.raises(ValueError, match="between 0 and"):
            SandboxConfig(seed_size=size)
    with pytest.raises(ValueError, match="needs seed=True"):
        SandboxConfig(seed=False, seed_size=10)


# --- over HTTP -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def large() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(seed_size=5_000)) as server:
        yield server


@pytest.fixture
def large_api(large: SandboxServer) -> Iterator[Api]:
    client = Api(large.base_url, large.mint_token(("api:read", "api:write")))
    yield client
    client.close()


def test_listing_a_structure_pages_through_every_generated_object(
    large: SandboxServer, large_api: Api
) -> None:
    expected = {o["id"] for o in large.state.objects.values() if o["structureId"] == _seed.BOOK_STRUCTURE_ID}
    seen: list[str] = []
    cursor: str | None = None
    while True:
        body = large_api.get(
            "/objects/structure", id=_seed.BOOK_STRUCTURE_ID, **({"cursor": cursor} if cursor else {})
        ).json()
        seen += [result["id"] for result in body["results"]]
        if not body["hasMore"]:
            break
        cursor = body["nextCursor"]
    assert len(seen) == len(set(seen)) and set(seen) == expected
    assert len(expected) > 200  # several pages


def test_search_get_and_markdown_on_the_large_space(large: SandboxServer, large_api: Api) -> None:
    store = large.state
    pages = [obj for obj in store.objects.values() if obj["structureId"] == "RootPage"]
    cjk = next(obj for obj in pages if CJK.search(store.title_of(obj)) and len(obj["blocks"]["content"]) > 10)
    title = store.title_of(cjk)
    results = large_api.post("/objects/search", {"query": title, "limit": 5}).json()["results"]
    assert results[0] == {"id": cjk["id"], "structureId": "RootPage", "title": title}
    obj = large_api.get("/object", id=cjk["id"]).json()
    texts = [token["text"] for block in obj["blocks"]["content"] for token in block.get("tokens", [])]
    assert CJK.search("".join(texts))
    markdown = large_api.get("/object/markdown", id=cjk["id"]).json()["markdown"]
    assert markdown.startswith(f"# {title}") and len(markdown) > 1_000
    task = next(obj for obj in store.objects.values() if obj["structureId"] == "RootTask")
    read = large_api.get("/object", id=task["id"]).json()
    assert read["properties"]["status"]["label"][0]["name"] in {"Not started", "In progress", "Done"}


# --- the command line ------------------------------------------------------------------------------


def _sandbox_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "capacities_mcp", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_cli_seed_size_serves_the_generated_space() -> None:
    process = _sandbox_cli("--seed-size", "1000", "--seed-random", "3")
    try:
        assert process.stdout is not None
        lines: dict[str, str] = {}
        for line in process.stdout:  # the banner ends with "Press Ctrl-C to stop."
            key, _, value = line.strip().partition("=" if "=" in line else ": ")
            lines[key] = value
            if line.startswith("Press Ctrl-C"):
                break
        expected = len(demo_space(TODAY).objects) + 1000
        assert lines["Objects"] == f"{expected} (the demo space and 1000 generated)"
        url, token = lines["CAPACITIES_API_URL"], lines["CAPACITIES_API_TOKEN"]
        wanted = synthetic_space(TODAY, 1000, seed=3, base=demo_space(TODAY)).objects[-1]
        found = httpx2.get(
            f"{url}/object", params={"id": wanted.id}, headers={"Authorization": f"Bearer {token}"}
        )
        assert found.status_code == 200 and found.json()["structureId"] == wanted.structure_id
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--no-seed", "--seed-size", "5"), "drop --no-seed"),
        (("--seed-size", "-1"), "between 0 and"),
        (("--seed-size", str(MAX_SEED_SIZE + 1)), "between 0 and"),
    ],
)
def test_cli_refuses_bad_seed_sizes(args: tuple[str, ...], message: str) -> None:
    process = _sandbox_cli(*args)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2 and message in stderr
