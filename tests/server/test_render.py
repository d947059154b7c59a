"""What the model reads: paging, readable property values, block outlines, the space overview."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import TypeAdapter

from capacities_mcp.api.models import (
    ApiObject,
    Block,
    ObjectMarkdown,
    PropertyValue,
    Space,
    Structure,
)
from capacities_mcp.server._render import (
    block_ids,
    block_outline,
    bound_lines,
    bound_result,
    page_hint,
    page_text,
    plain_text,
    property_value,
    render_object_markdown,
    render_properties,
    render_space,
    shorten,
    size_note,
)
from capacities_mcp.server._tokens import PAGE_TOKENS, RESULT_TOKENS_MAX, estimate_tokens

_VALUE: TypeAdapter[Any] = TypeAdapter(PropertyValue)
_BLOCKS: TypeAdapter[Any] = TypeAdapter(list[Block])

TITLES = {"537d207e-c168-54e9-97bd-89011ddeb9b4": "Research"}


def title_of(object_id: str) -> str | None:
    return TITLES.get(object_id)


# --- paging --------------------------------------------------------------------------------------


def _pages(text: str, max_tokens: int) -> list[str]:
    pieces, offset = [], 0
    while True:
        page = page_text(text, offset, max_tokens)
        assert page.offset == offset
        assert estimate_tokens(page.chunk) <= max_tokens + 1 or len(page.chunk) == 1
        pieces.append(page.chunk)
        if page.next_offset is None:
            return pieces
        assert page.next_offset > offset
        offset = page.next_offset


@pytest.mark.parametrize("seed", range(20))
def test_pages_reassemble_exactly(seed: int) -> None:
    rng = random.Random(seed)
    words = [
        "alpha",
        "beta",
        "γάμμα",
        "δ",
        "emoji 🎉",
        "x" * 40,
        "\n",
        "\n\n",
        "- item\n",
        "## H\n\n",
        "漢字かな",
    ]
    text = "".join(rng.choice(words) + rng.choice(["", " "]) for _ in range(rng.randint(0, 4000)))
    for max_tokens in (1, 50, 2000):
        assert "".join(_pages(text, max_tokens)) == text


def test_cuts_prefer_paragraphs_then_lines_then_words() -> None:
    text = ("word " * 30 + "\n\n") * 10
    page = page_text(text, 0, 100)
    assert page.chunk.endswith("\n\n")
    lines = "line of text\n" * 100
    assert page_text(lines, 0, 30).chunk.endswith("\n")
    prose = "word " * 100
    assert page_text(prose, 0, 12).chunk.endswith(" ")
    solid = "x" * 100
    assert page_text(solid, 0, 7).chunk == "x" * 20  # no boundary: cut by the run's price per character


def test_pages_are_sized_in_tokens_not_characters() -> None:
    english, chinese = "word " * 10_000, "汉字" * 10_000
    assert len(page_text(english, 0, 1000).chunk) > 3 * len(page_text(chinese, 0, 1000).chunk)


def test_last_page_and_offsets_past_the_end() -> None:
    assert page_text("abc", 0, 10).next_offset is None
    past = page_text("abc", 10, 10)
    assert past.chunk == "" and past.offset == 3 and past.next_offset is None
    assert page_text("", 0, 10).total == 0


def test_hint_names_the_call_offset_and_the_rest_in_tokens() -> None:
    page = page_text("a\n" * 20_000, 0, 1_000)
    hint = page_hint(page, 'get_object(id="X"')
    assert hint.startswith("\n… about ") and " more tokens: " in hint
    assert hint.endswith(f'call get_object(id="X", offset={page.end})')
    assert page_hint(page_text("abc", 0, 10), "x(") == ""


def test_long_titles_and_listings_are_bounded() -> None:
    title = "A very long title " * 500 + "THE END"
    short = shorten(title, 100)
    assert estimate_tokens(short) <= 105 and short.startswith("A very long") and short.endswith("THE END")
    assert shorten("Short", 100) == "Short"
    lines = [f"- {'word ' * 400} — Page `{i}`" for i in range(1000)]
    kept, left = bound_lines(lines, budget=5_000)
    assert kept and left == 1000 - len(kept) and all(line.endswith(f"`{i}`") for i, line in enumerate(kept))
    assert sum(estimate_tokens(line) for line in kept) <= 5_000


def test_the_last_guard_cuts_only_what_is_over_the_ceiling() -> None:
    assert bound_result("small") == "small"
    cut = bound_result("漢字" * 50_000)
    assert estimate_tokens(cut) <= RESULT_TOKENS_MAX and cut.endswith("a smaller page)")


# --- property values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "readable", "text"),
    [
        ({"type": "title", "title": {"value": "T"}}, "T", "T"),
        ({"type": "text", "text": {"value": None}}, None, ""),
        ({"type": "number", "number": {"value": 4.5}}, 4.5, "4.5"),
        ({"type": "boolean", "boolean": {"value": True}}, True, "yes"),
        ({"type": "url", "url": {"value": "https://x.io"}}, "https://x.io", "https://x.io"),
        (
            {
                "type": "date",
                "date": {"dateResolution": "day", "start": "2026-12-01T00:00:00.000Z", "end": None},
            },
            {"start": "2026-12-01", "end": None},
            "2026-12-01",
        ),
        (
            {
                "type": "date",
                "date": {
                    "dateResolution": "day",
                    "start": "2026-12-01T00:00:00.000Z",
                    "end": "2026-12-03T00:00:00.000Z",
                },
            },
            {"start": "2026-12-01", "end": "2026-12-03"},
            "2026-12-01 → 2026-12-03",
        ),
        (
            {
                "type": "date",
                "date": {"dateResolution": "time", "start": "2026-12-01T09:30:00.000Z", "end": None},
            },
            {"start": "2026-12-01T09:30:00Z", "end": None},
            "2026-12-01T09:30:00Z",
        ),
        ({"type": "label", "label": [{"id": "a", "name": "Done", "color": "green"}]}, ["Done"], "Done"),
        (
            {"type": "entity", "entity": [{"id": "537d207e-c168-54e9-97bd-89011ddeb9b4"}, {"id": "other"}]},
            [
                {"id": "537d207e-c168-54e9-97bd-89011ddeb9b4", "title": "Research"},
                {"id": "other", "title": None},
            ],
            "Research (537d207e-c168-54e9-97bd-89011ddeb9b4), other",
        ),
        ({"type": "aliases", "aliases": {"value": ["a", "b"]}}, ["a", "b"], "a, b"),
        ({"type": "icon", "icon": {"value": {"type": "iconify", "val": "ph-star"}}}, "ph-star", "ph-star"),
        (
            {"type": "createdAt", "createdAt": {"value": "2026-10-15T09:00:00.000Z"}},
            "2026-10-15T09:00:00.000Z",
            "2026-10-15T09:00:00Z",
        ),
        (
            {
                "type": "richText",
                "richText": {
                    "value": [
                        {"type": "TextToken", "text": "Hi ", "style": {}},
                        {"type": "TextToken", "text": "there", "style": {"bold": True}},
                        {"type": "LinkToken", "text": "site", "url": "https://x.io"},
                    ]
                },
            },
            "Hi **there**[site](https://x.io)",
            "Hi **there**[site](https://x.io)",
        ),
        (
            {"type": "brandNew", "brandNew": {"value": 1}},
            {"type": "brandNew", "brandNew": {"value": 1}},
            '{"type": "brandNew", "brandNew": {"value": 1}}',
        ),
    ],
)
def test_property_values_are_readable(wire: dict[str, Any], readable: Any, text: str) -> None:
    value = _VALUE.validate_python(wire)
    assert property_value(value, None, title_of) == (readable, text)


def test_render_properties_in_structure_order_skipping_empty_and_title() -> None:
    structure = Structure.model_validate(
        {
            "id": "RootTask",
            "title": "Task",
            "pluralName": "Tasks",
            "labelColor": "blue",
            "collections": [],
            "propertyDefinitions": [
                {"id": "title", "name": "", "type": "title", "writable": True},
                {"id": "priority", "name": "Priority", "type": "label", "writable": True},
                {"id": "status", "name": "Status", "type": "label", "writable": True},
                {"id": "deadline", "name": "Deadline", "type": "date", "writable": True},
            ],
        }
    )
    obj = ApiObject.model_validate(
        {
            "id": "o",
            "structureId": "RootTask",
            "collections": [],
            "properties": {
                "title": {"type": "title", "title": {"value": "T"}},
                "status": {"type": "label", "label": [{"id": "s", "name": "Done"}]},
                "priority": {"type": "label", "label": [{"id": "p", "name": "High"}]},
                "deadline": {"type": "date", "date": {"dateResolution": "day", "start": None, "end": None}},
                "extra": {"type": "number", "number": {"value": 3}},
            },
        }
    )
    data, lines = render_properties(obj, structure, title_of)
    assert lines == ["- Priority: High", "- Status: Done", "- extra: 3"]
    assert [d["id"] for d in data] == ["priority", "status", "extra"]


# --- blocks --------------------------------------------------------------------------------------


BLOCKS = [
    {
        "id": "b1",
        "type": "TextBlock",
        "tokens": [{"type": "TextToken", "text": "Heading", "style": {}}],
        "blocks": [],
        "hierarchy": {"key": "H2", "val": 2},
    },
    {
        "id": "b2",
        "type": "TextBlock",
        "tokens": [{"type": "TextToken", "text": "todo", "style": {}}],
        "blocks": [
            {
                "id": "b3",
                "type": "TextBlock",
                "tokens": [{"type": "CodeToken", "text": "x=1"}],
                "blocks": [],
                "hierarchy": {"key": "Base", "val": 0},
                "list": {"type": "bullet"},
            }
        ],
        "hierarchy": {"key": "Base", "val": 0},
        "todo": {"isDone": True},
    },
    {"id": "b4", "type": "CodeBlock", "lang": "python", "text": "print(1)\nprint(2)"},
    {"id": "b5", "type": "EntityBlock", "entityId": "537d207e-c168-54e9-97bd-89011ddeb9b4"},
    {"id": "b6", "type": "HorizontalLineBlock"},
    {
        "id": "b7",
        "type": "GridBlock",
        "dividers": [0.5],
        "columns": [[{"id": "b8", "type": "MathBlock", "text": "e=mc^2"}], []],
    },
    {"id": "b9", "type": "FutureBlock", "whatever": 1},
]


def test_block_outline_shows_ids_kinds_and_nesting() -> None:
    blocks = {"content": _BLOCKS.validate_python(BLOCKS)}
    outline = block_outline(blocks, title_of)
    assert outline.splitlines() == [
        "[property content]",
        "- b1 text h2: Heading",
        "- b2 text todo[x]: todo",
        "  - b3 text bullet: `x=1`",
        "- b4 code python: print(1) …",
        "- b5 embed: Research (537d207e-c168-54e9-97bd-89011ddeb9b4)",
        "- b6 divider",
        "- b7 grid 2 columns",
        "  - b8 math: e=mc^2",
        "- b9 FutureBlock",
    ]
    assert [b for _, b, _ in block_ids(blocks)] == ["b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9"]
    assert block_outline(None, title_of) == ""


def test_plain_text_styles_and_links() -> None:
    tokens = _BLOCKS.validate_python(
        [
            {
                "id": "x",
                "type": "TextBlock",
                "hierarchy": {"key": "Base", "val": 0},
                "blocks": [],
                "tokens": [
                    {"type": "TextToken", "text": "a", "style": {"italic": True}},
                    {"type": "LinkToken", "text": "obj", "entityId": "e1"},
                    {"type": "MathToken", "text": "x^2"},
                    {
                        "type": "LinkToken",
                        "text": "day",
                        "date": {"dateResolution": "day", "start": "2026-01-02T00:00:00.000Z", "end": None},
                    },
                ],
            }
        ]
    )[0].tokens
    assert plain_text(tokens) == "*a*[obj](object e1)$x^2$[day](2026-01-02)"


# --- space and resources -------------------------------------------------------------------------


def test_render_space_accepts_a_pair_or_a_snapshot() -> None:
    space = Space(id="s1", title="Notes")
    structure = Structure.model_validate(
        {
            "id": "RootTask",
            "title": "Task",
            "pluralName": "Tasks",
            "labelColor": "blue",
            "collections": [{"id": "c1", "title": "Inbox"}],
            "propertyDefinitions": [
                {"id": "title", "name": "", "type": "title", "writable": True},
                {
                    "id": "status",
                    "name": "Status",
                    "type": "label",
                    "writable": True,
                    "multiple": False,
                    "labelSet": [{"id": "a", "name": "Open"}, {"id": "b", "name": "Done"}],
                },
                {
                    "id": "tags",
                    "name": "Tags",
                    "type": "entity",
                    "writable": True,
                    "allowedStructures": ["RootTag"],
                },
                {"id": "lastUpdatedAt", "name": "Last updated", "type": "lastUpdatedAt", "writable": False},
            ],
        }
    )
    text = render_space(space, [structure])
    assert "# Space: Notes (id `s1`)" in text
    assert "- **Task** (plural Tasks) id `RootTask`" in text
    assert "  - Status [status] (label; single: Open | Done)" in text
    assert "  - Tags [tags] (entity; → RootTag)" in text
    assert "(lastUpdatedAt; read-only)" in text and "collections: Inbox [c1]" in text

    class Snapshot:
        def __init__(self) -> None:
            self.space, self.structures = space, (structure,)

    assert render_space(Snapshot()) == text


def test_render_object_markdown_keeps_the_export_and_names_the_object() -> None:
    exported = ObjectMarkdown(id="o1", structure_id="RootPage", markdown="# Title\n\nBody\n")
    text = render_object_markdown(exported)
    assert text.startswith("# Title\n\nBody") and "o1" in text
    assert render_object_markdown("plain") == "plain"


def test_size_note_names_tokens_and_the_pages_get_object_needs() -> None:
    assert size_note(None) == "" and size_note(0) == ""
    assert size_note(7_617) == " · ~7,617 tokens"
    assert size_note(PAGE_TOKENS) == f" · ~{PAGE_TOKENS:,} tokens"
    assert size_note(PAGE_TOKENS + 1) == f" · ~{PAGE_TOKENS + 1:,} tokens (2 pages)"


@pytest.mark.parametrize("unit", ["Plain English words here. ", "日本語の文章です。", "Привет, мир. "])
def test_hint_sizes_the_rest_at_the_pages_density(unit: str) -> None:
    """The rest is sized from what cutting the page measured (no second estimate of the page):
    within a few percent of estimating the rest itself, for Latin, CJK and Cyrillic text."""
    text = unit * 5_000
    page = page_text(text, 0, 2_000)
    said = int(page_hint(page, "x(").split("about ")[1].split(" more")[0].replace(",", ""))
    rest = estimate_tokens(text[page.end :])
    assert abs(said - rest) <= max(rest * 0.05, 100), (said, rest)
