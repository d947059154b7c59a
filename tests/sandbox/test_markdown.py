"""Markdown <-> blocks: every construct both ways, round trips, and model validity of the output."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from capacities_mcp.api.models import Block, WritableBlock, WritableToken, wire
from capacities_mcp.sandbox._markdown import (
    blocks_to_markdown,
    markdown_to_blocks,
    split_front_matter,
    split_title,
    tokens_to_markdown,
    tokens_to_plain_text,
)

WRITABLE_BLOCKS: TypeAdapter[Any] = TypeAdapter(list[WritableBlock])
READABLE_BLOCKS: TypeAdapter[Any] = TypeAdapter(list[Block])
WRITABLE_TOKENS: TypeAdapter[Any] = TypeAdapter(list[WritableToken])

ENTITY_TITLES = {"id-alpha": "Project Alpha", "id-beta": "Beta notes"}
ALPHA_URL = "https://app.capacities.io/space/id-alpha"
PARAGRAPH = {"key": "Base", "val": 0}


def entity_link(object_id: str) -> tuple[str, str] | None:
    title = ENTITY_TITLES.get(object_id)
    return (title, f"https://app.capacities.io/space/{object_id}") if title else None


def resolve(name: str) -> str | None:
    return next((oid for oid, title in ENTITY_TITLES.items() if title == name), None)


def parse(markdown: str) -> list[dict[str, Any]]:
    """markdown_to_blocks, checked against the writable block model on the way."""
    blocks = markdown_to_blocks(markdown, resolve_link=resolve)
    assert_writable(blocks)
    return blocks


def assert_writable(blocks: list[dict[str, Any]]) -> None:
    validated = WRITABLE_BLOCKS.validate_python(blocks)
    # The request models drop unknown keys, so compare the re-serialized form: nothing may be lost.
    assert [wire(block) for block in validated] == blocks


_ids = itertools.count()


def readable(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the API would return for these writable blocks: ids and default fields filled in."""
    result = []
    for block in copy.deepcopy(blocks):
        block["id"] = f"00000000-0000-4000-8000-{next(_ids):012d}"
        if block["type"] == "TextBlock":
            block["blocks"] = readable(block.get("blocks", []))
            block.setdefault("list", None)
        result.append(block)
    READABLE_BLOCKS.validate_python(result)
    return result


def render(blocks: list[dict[str, Any]]) -> str:
    return blocks_to_markdown(readable(blocks), entity_link=entity_link)


def text(value: str, **style: bool) -> dict[str, Any]:
    return {"type": "TextToken", "text": value, "style": style}


def para(*tokens: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "tokens": list(tokens), "hierarchy": PARAGRAPH, **extra}


def heading(level: int, value: str) -> dict[str, Any]:
    hierarchy = {"key": f"H{level}", "val": level}
    return {"type": "TextBlock", "tokens": [text(value)], "hierarchy": hierarchy}


def bullet(value: str, *children: dict[str, Any], kind: str = "bullet") -> dict[str, Any]:
    block = para(text(value), list={"type": kind})
    if children:
        block["blocks"] = list(children)
    return block


def todo(value: str, done: bool = False) -> dict[str, Any]:
    return para(text(value), todo={"isDone": done})


# --- Markdown -> blocks ------------------------------------------------------------------------


def test_paragraph_is_a_base_text_block_with_a_plain_style() -> None:
    assert parse("Hello world") == [para(text("Hello world"))]


def test_empty_markdown_has_no_blocks() -> None:
    assert parse("") == []
    assert parse("\n\n  \n") == []


@pytest.mark.parametrize(
    ("markdown", "level"),
    [
        ("# A", 1),
        ("## A", 2),
        ("### A", 3),
        ("#### A", 3),
        ("###### A", 3),
        ("A\n===", 1),
        ("A\n---", 2),
    ],
)
def test_headings_map_to_three_levels(markdown: str, level: int) -> None:
    assert parse(markdown) == [heading(level, "A")]


def test_paragraphs_and_headings_keep_their_order() -> None:
    assert parse("# Title\n\nOne\n\n## Part\n\nTwo") == [
        heading(1, "Title"),
        para(text("One")),
        heading(2, "Part"),
        para(text("Two")),
    ]


def test_bullet_and_ordered_lists() -> None:
    assert parse("- a\n- b\n\n1. c\n2. d") == [
        bullet("a"),
        bullet("b"),
        bullet("c", kind="numerical"),
        bullet("d", kind="numerical"),
    ]


def test_nested_lists_become_child_blocks() -> None:
    markdown = "- a\n  - b\n    1. c\n  - d\n- e"
    assert parse(markdown) == [
        bullet("a", bullet("b", bullet("c", kind="numerical")), bullet("d")),
        bullet("e"),
    ]


def test_todos_checked_and_unchecked() -> None:
    assert parse("- [ ] open\n- [x] closed\n- [X] also closed") == [
        todo("open"),
        todo("closed", True),
        todo("also closed", True),
    ]


def test_empty_todos_are_still_todos() -> None:
    assert parse("- [ ]\n- [x]") == [
        para(todo={"isDone": False}),
        para(todo={"isDone": True}),
    ]


def test_todo_with_nested_items() -> None:
    assert parse("- [ ] plan\n    - [x] step one\n    - note") == [
        {**todo("plan"), "blocks": [todo("step one", True), bullet("note")]}
    ]


def test_list_item_with_several_paragraphs_keeps_the_rest_as_children() -> None:
    assert parse("- first\n\n  second\n- third") == [
        bullet("first", para(text("second"))),
        bullet("third"),
    ]


def test_heading_inside_a_list_item() -> None:
    assert parse("- ## Big item") == [{**heading(2, "Big item"), "list": {"type": "bullet"}}]


def test_blockquote_marks_every_text_block_in_it() -> None:
    assert parse("> quoted\n> more\n>\n> # Head") == [
        para(text("quoted\nmore"), quote={"layout": "normal"}),
        {**heading(1, "Head"), "quote": {"layout": "normal"}},
    ]


def test_quoted_list_only_marks_the_top_level_items() -> None:
    assert parse("> - a\n>   - b") == [
        {**bullet("a", bullet("b")), "quote": {"layout": "normal"}},
    ]


def test_fenced_and_indented_code() -> None:
    assert parse("```python\nprint('hi')\n\nx = 1\n```") == [
        {"type": "CodeBlock", "lang": "python", "text": "print('hi')\n\nx = 1"}
    ]
    assert parse("~~~ js extra\nlet a\n~~~") == [{"type": "CodeBlock", "lang": "js", "text": "let a"}]
    assert parse("    indented\n    code") == [{"type": "CodeBlock", "lang": "", "text": "indented\ncode"}]


def test_code_inside_a_list_item_is_a_child() -> None:
    assert parse("- run:\n\n  ```sh\n  make\n  ```") == [
        {**bullet("run:"), "blocks": [{"type": "CodeBlock", "lang": "sh", "text": "make"}]}
    ]


def test_math_block_and_horizontal_line() -> None:
    assert parse("$$\nE = mc^2\n$$\n\n---\n\n***") == [
        {"type": "MathBlock", "text": "E = mc^2"},
        {"type": "HorizontalLineBlock"},
        {"type": "HorizontalLineBlock"},
    ]


def test_table_becomes_one_paragraph_per_row_with_a_bold_header() -> None:
    assert parse("| Name | Qty |\n|---|--:|\n| Flour | 500 g |\n| *Salt* | 10 g |") == [
        para(text("Name", bold=True), text(" | "), text("Qty", bold=True)),
        para(text("Flour | 500 g")),
        para(text("Salt", italic=True), text(" | 10 g")),
    ]


def test_inline_styles_combine_and_always_carry_a_style_object() -> None:
    blocks = parse("plain **bold** *it* ***both*** ~~gone~~ **bold *and it* end**")
    assert blocks[0]["tokens"] == [
        text("plain "),
        text("bold", bold=True),
        text(" "),
        text("it", italic=True),
        text(" "),
        text("both", bold=True, italic=True),
        text(" "),
        text("gone", strikethrough=True),
        text(" "),
        text("bold ", bold=True),
        text("and it", bold=True, italic=True),
        text(" end", bold=True),
    ]


def test_adjacent_tokens_with_the_same_style_are_merged() -> None:
    # The unresolved wiki-link is a token of its own until merged with its bold neighbours.
    assert parse("**x [[Nowhere]] y** c &amp; d")[0]["tokens"] == [
        text("x [[Nowhere]] y", bold=True),
        text(" c & d"),
    ]


def test_code_and_math_tokens() -> None:
    assert parse("Use `x = 1` and $a^2$, or $$b$$.")[0]["tokens"] == [
        text("Use "),
        {"type": "CodeToken", "text": "x = 1"},
        text(" and "),
        {"type": "MathToken", "text": "a^2"},
        text(", or "),
        {"type": "MathToken", "text": "b"},
        text("."),
    ]


def test_prices_are_not_math() -> None:
    assert parse("It costs $5 and $10.")[0]["tokens"] == [text("It costs $5 and $10.")]


def test_math_at_the_start_of_a_paragraph_ending_in_a_digit() -> None:
    assert parse("$x$ is 2")[0]["tokens"] == [{"type": "MathToken", "text": "x"}, text(" is 2")]
    assert parse("$x$ a\\")[0]["tokens"] == [{"type": "MathToken", "text": "x"}, text(" a\\")]


def test_links_images_and_autolinks_are_link_tokens() -> None:
    markdown = "[**Docs**](https://example.com/a?b=1) ![chart](img/c.png) <https://x.org> [](https://e.com)"
    tokens = parse(markdown)[0]["tokens"]
    assert tokens == [
        {"type": "LinkToken", "text": "Docs", "url": "https://example.com/a?b=1"},
        text(" "),
        {"type": "LinkToken", "text": "chart", "url": "img/c.png"},
        text(" "),
        {"type": "LinkToken", "text": "https://x.org", "url": "https://x.org"},
        text(" "),
        {"type": "LinkToken", "text": "https://e.com", "url": "https://e.com"},
    ]


def test_link_destinations_are_kept_as_written() -> None:
    token = parse("[Äpfel](https://de.wikipedia.org/wiki/Äpfel)")[0]["tokens"][0]
    assert token["url"] == "https://de.wikipedia.org/wiki/Äpfel"


def test_wikilinks_resolve_to_entity_links() -> None:
    tokens = parse("See [[Project Alpha]] and [[Beta notes|the notes]].")[0]["tokens"]
    assert tokens == [
        text("See "),
        {"type": "LinkToken", "text": "Project Alpha", "entityId": "id-alpha"},
        text(" and "),
        {"type": "LinkToken", "text": "the notes", "entityId": "id-beta"},
        text("."),
    ]


def test_unresolved_wikilinks_stay_literal_text_in_their_style() -> None:
    assert parse("See **[[Nowhere]]** now")[0]["tokens"] == [
        text("See "),
        text("[[Nowhere]]", bold=True),
        text(" now"),
    ]
    assert markdown_to_blocks("[[Project Alpha]]")[0]["tokens"] == [text("[[Project Alpha]]")]


def test_wikilink_with_emphasis_characters_is_not_split() -> None:
    tokens = parse("[[Project Alpha]] and [[a *b* c]]")[0]["tokens"]
    assert tokens[0]["entityId"] == "id-alpha"
    assert tokens[1:] == [text(" and [[a *b* c]]")]


def test_soft_and_hard_breaks_are_newlines() -> None:
    assert parse("one\ntwo  \nthree\\\nfour")[0]["tokens"] == [text("one\ntwo\nthree\nfour")]
    assert parse("**a\nb**")[0]["tokens"] == [text("a\nb", bold=True)]


def test_html_comments_are_dropped_and_other_html_is_text() -> None:
    assert parse("<!-- hidden -->\n\nA <b>tag</b>\n\n<div>block</div>") == [
        para(text("A <b>tag</b>")),
        para(text("<div>block</div>")),
    ]


def test_escaped_markdown_is_literal_text() -> None:
    assert parse(r"\# not \*a\* \[[x]] 1\. one")[0]["tokens"] == [text("# not *a* [[x]] 1. one")]


def test_every_output_is_valid_for_a_rich_document() -> None:
    markdown = (
        "# T\n\npara **b** *i* ~~s~~ `c` $m$ [l](https://l.io) [[Project Alpha]]\n\n"
        "- a\n  - b\n    - [x] c\n1. n\n\n> q\n\n```\ncode\n```\n\n$$\nx\n$$\n\n---\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n![i](u.png)"
    )
    blocks = parse(markdown)  # parse() asserts validity against WritableBlock
    assert [b["type"] for b in blocks] == [
        *["TextBlock"] * 5,
        "CodeBlock",
        "MathBlock",
        "HorizontalLineBlock",
        *["TextBlock"] * 3,
    ]


# --- title and front matter --------------------------------------------------------------------


def test_split_title_takes_the_first_h1() -> None:
    assert split_title("\n# My **page**\n\nBody\n") == ("My page", "Body\n")
    assert split_title("# Only") == ("Only", "")
    assert split_title("#  Spaced  # ") == ("Spaced", "")
    assert split_title("# [[Project Alpha]] *notes*") == ("Project Alpha notes", "")
    assert split_title("#\n\nBody") == ("", "Body"), "an empty H1 is still the title line"


@pytest.mark.parametrize("markdown", ["Intro\n\n# Late title", "## Second level", "#NoSpace", "", "   "])
def test_split_title_without_a_leading_h1(markdown: str) -> None:
    assert split_title(markdown) == (None, markdown)


def test_split_title_skips_front_matter_and_keeps_it() -> None:
    title, rest = split_title("---\nstatus: Done\n---\n# Task\n\nNotes")
    assert title == "Task"
    assert rest == "---\nstatus: Done\n---\nNotes"
    assert split_front_matter(rest) == ({"status": "Done"}, "Notes")


def test_split_front_matter_reads_a_mapping() -> None:
    markdown = "---\ntitle: New\ntags: [a, b]\ndate: 2026-08-01\nn: 3\n---\n# H\n"
    meta, body = split_front_matter(markdown)
    assert meta == {"title": "New", "tags": ["a", "b"], "date": "2026-08-01", "n": 3}
    assert body == "# H\n"


def test_split_front_matter_allows_empty_and_absent_front_matter() -> None:
    assert split_front_matter("---\n---\nBody") == ({}, "Body")
    assert split_front_matter("# No front matter\n---\n") == ({}, "# No front matter\n---\n")
    assert split_front_matter("---\n\nA rule, then text") == ({}, "---\n\nA rule, then text")


def test_split_front_matter_rejects_bad_yaml_with_a_line_number() -> None:
    with pytest.raises(ValueError, match=r"Invalid YAML front matter: .*line 3 of the document"):
        split_front_matter("---\ntitle: ok\n  indented: wrong\n---\nBody")
    with pytest.raises(ValueError, match=r"Invalid YAML front matter"):
        split_front_matter("---\nbad: [unclosed\n---\nBody")


@pytest.mark.parametrize(("yaml_text", "kind"), [("- a\n- b", "a list"), ("just text", "plain text")])
def test_split_front_matter_rejects_non_mappings(yaml_text: str, kind: str) -> None:
    with pytest.raises(ValueError, match=f"expected a mapping.*got {kind}"):
        split_front_matter(f"---\n{yaml_text}\n---\nBody")


# --- tokens -> text ----------------------------------------------------------------------------


def test_tokens_to_plain_text_drops_markup() -> None:
    tokens = [
        text("a "),
        text("b", bold=True),
        {"type": "CodeToken", "text": "c"},
        {"type": "LinkToken", "text": " d", "url": "u"},
        {"type": "MathToken", "text": "e"},
    ]
    assert tokens_to_plain_text(tokens) == "a bc de"


def test_tokens_to_markdown_renders_entity_links_via_the_callback() -> None:
    tokens = [
        {"type": "LinkToken", "text": "Alpha", "entityId": "id-alpha"},
        text(" and "),
        {"type": "LinkToken", "text": "Gone", "entityId": "unknown-id"},
        text(" on "),
        {
            "type": "LinkToken",
            "text": "Aug 1",
            "date": {"dateResolution": "day", "start": "2026-08-01T00:00:00.000Z", "end": None},
        },
    ]
    assert tokens_to_markdown(tokens, entity_link=entity_link) == (
        "[Alpha](https://app.capacities.io/space/id-alpha) and Gone on Aug 1"
    )


def test_tokens_to_markdown_moves_edge_spaces_outside_the_markers() -> None:
    tokens = [text("a"), text(" b ", bold=True), text("c"), text(" d", italic=True)]
    assert tokens_to_markdown(tokens, entity_link=entity_link) == "a **b** c *d*"


def test_tokens_to_markdown_drops_what_markdown_cannot_show() -> None:
    red = {"type": "TextToken", "text": " red", "style": {}, "color": "text-red"}
    tokens = [text("under", underline=True), red]
    assert tokens_to_markdown(tokens, entity_link=entity_link) == "under red"


@pytest.mark.parametrize(
    "literal",
    [
        "# not a heading",
        "> not a quote",
        "- not a list",
        "+ nor this",
        "1. nor this",
        "2) nor this",
        "*stars* and _underscores_",
        "snake_case_name stays",
        "a [link](x) lookalike",
        "[[Project Alpha]]",
        "`tick` and $dollar$ and ~~tilde~~",
        "back\\slash",
        "&amp; entity",
        "<b>html</b>",
        "a | b",
        "===",
        "---",
        "- - -",
        "C#",
        "under__score",
        "a | b\n--|--",
        "| a |\n|:-|",
    ],
)
def test_literal_text_survives_rendering(literal: str) -> None:
    blocks = [para(text(literal))]
    assert parse(render(blocks)) == blocks


@pytest.mark.parametrize(
    ("tokens", "markdown"),
    [
        ([text("a.", bold=True), text("b")], "**a.**<!---->b"),
        ([text("a"), text(".b", bold=True)], "a<!---->**.b**"),
        (
            [text("ab", italic=True), text("cd", bold=True, italic=True), text("ef", bold=True)],
            "*ab**cd***<!---->**ef**",
        ),
        (
            [text("0", bold=True, italic=True), text("0", bold=True), text(":", bold=True, italic=True)],
            "***0***<!---->**0**<!---->***:***",
        ),
        ([text("ab", bold=True), text("cd", italic=True)], "**ab**<!---->*cd*"),
        ([text("ab", italic=True, strikethrough=True), text("c")], "~~*ab*~~<!---->c"),
        ([text("x2"), {"type": "MathToken", "text": "y"}, text("3")], "x2<!---->$y$<!---->3"),
        ([{"type": "CodeToken", "text": "a"}, {"type": "CodeToken", "text": "b"}], "`a`<!---->`b`"),
        ([text("wow!"), {"type": "LinkToken", "text": "x", "url": "u"}], "wow!<!---->[x](u)"),
        ([text("ab", bold=True), text(" "), text("cd", italic=True)], "**ab** *cd*"),
        ([text("ab"), text("cd", strikethrough=True), text("ef")], "ab~~cd~~ef"),
    ],
)
def test_markers_that_would_be_misread_are_split_by_an_empty_comment(
    tokens: list[dict[str, Any]], markdown: str
) -> None:
    assert tokens_to_markdown(tokens, entity_link=entity_link) == markdown
    assert parse(markdown)[0]["tokens"] == tokens


def test_inline_comments_are_dropped() -> None:
    assert parse("a <!-- note --> b<!---->c")[0]["tokens"] == [text("a  bc")]


def test_code_spans_with_backticks_get_longer_fences() -> None:
    for code in ["a`b", "``", "`x`", " padded ", "  "]:
        tokens = [text("x "), {"type": "CodeToken", "text": code}]
        assert parse(tokens_to_markdown(tokens, entity_link=entity_link))[0]["tokens"] == tokens


# --- blocks -> Markdown ------------------------------------------------------------------------


def test_render_each_block_type() -> None:
    blocks = [
        heading(1, "Title"),
        para(text("Some "), text("bold", bold=True), text(" text.")),
        bullet("one", bullet("nested", bullet("deeper"))),
        bullet("two"),
        bullet("first", kind="numerical"),
        bullet("second", kind="numerical"),
        todo("open"),
        todo("done", True),
        para(text("wise words"), quote={"layout": "normal"}),
        {"type": "CodeBlock", "lang": "python", "text": "print(1)\n\nprint(2)"},
        {"type": "MathBlock", "text": "a^2 + b^2"},
        {"type": "HorizontalLineBlock"},
    ]
    assert render(blocks) == "\n".join(
        [
            "# Title",
            "",
            "Some **bold** text.",
            "",
            "- one",
            "    - nested",
            "        - deeper",
            "- two",
            "1. first",
            "2. second",
            "- [ ] open",
            "- [x] done",
            "",
            "> wise words",
            "",
            "```python",
            "print(1)",
            "",
            "print(2)",
            "```",
            "",
            "$$",
            "a^2 + b^2",
            "$$",
            "",
            "---",
        ]
    )


def test_numbering_restarts_after_a_break() -> None:
    blocks = [
        bullet("a", kind="numerical"),
        bullet("b", kind="numerical"),
        para(text("x")),
        bullet("c", kind="numerical"),
        bullet("d"),
        bullet("e", kind="numerical"),
    ]
    assert render(blocks) == "1. a\n2. b\n\nx\n\n1. c\n- d\n1. e"


def test_entity_embeds_and_unknown_blocks() -> None:
    blocks: list[dict[str, Any]] = [
        {"id": "b1", "type": "EntityBlock", "entityId": "id-alpha"},
        {"id": "b2", "type": "EntityBlock", "entityId": "missing"},
        {"id": "b3", "type": "EntityBlock", "entityId": None},
        {"id": "b4", "type": "unsupported", "blockType": "TableBlock"},
        {"id": "b5", "type": "FutureBlock", "data": 1},
    ]
    markdown = blocks_to_markdown(blocks, entity_link=entity_link)
    assert markdown == (
        "[Project Alpha](https://app.capacities.io/space/id-alpha)\n\n"
        "<!-- unsupported block: TableBlock -->\n\n<!-- unsupported block: FutureBlock -->"
    )
    # The comments carry no content back in.
    assert parse(markdown) == [para({"type": "LinkToken", "text": "Project Alpha", "url": ALPHA_URL})]


def test_groups_and_grids_are_flattened() -> None:
    blocks: list[dict[str, Any]] = [
        {"id": "g", "type": "GroupBlock", "blocks": readable([bullet("in group")])},
        {
            "id": "r",
            "type": "GridBlock",
            "dividers": [50],
            "columns": [readable([para(text("left"))]), readable([para(text("right"))])],
        },
    ]
    assert blocks_to_markdown(blocks, entity_link=entity_link) == "- in group\n\nleft\n\nright"


def test_children_of_a_paragraph_follow_it() -> None:
    blocks = [para(text("parent"), blocks=[para(text("child"))])]
    assert render(blocks) == "parent\n\nchild"


def test_newlines_in_text_render_as_line_breaks_even_when_empty_lines() -> None:
    blocks = [para(text("a\n\nb")), bullet("x\ny")]
    markdown = render(blocks)
    assert markdown == "a\n\\\nb\n\n- x\n    y"
    assert parse(markdown) == blocks


def test_heading_with_a_newline_stays_on_one_line() -> None:
    assert render([heading(2, "two\nlines")]) == "## two lines"


def test_render_accepts_writable_blocks_without_ids() -> None:
    blocks = [bullet("a", bullet("b"))]
    assert blocks_to_markdown(blocks, entity_link=entity_link) == "- a\n    - b"


# --- round trips -------------------------------------------------------------------------------


ROUND_TRIP_DOCUMENTS = [
    "Hello",
    "# H1\n\n## H2\n\n### H3",
    "A paragraph with **bold**, *italic*, ~~strike~~ and ***both***.",
    "Mixed **bold *and italic* then bold** text",
    "*italic **bold inside** italic*",
    "Inline `code`, math $x^2$ and a [link](https://example.com/path?q=1#frag).",
    "[with parens](<https://en.wikipedia.org/wiki/Foo_(bar)>)",
    "- a\n- b\n    - c\n        - d\n- e",
    "1. one\n2. two\n    1. two.one\n3. three",
    "- [ ] open\n- [x] done\n    - [ ] nested todo\n    - bullet under todo",
    "- item\n\n    continued paragraph\n- next",
    "- item with code\n\n    ```js\n    let x = 1;\n    ```",
    "> a quote\n> on two lines",
    "> - quoted list\n>     - nested",
    "> # quoted heading",
    "```\nplain code\n```",
    "````md\n```\nnested fence\n```\n````",
    "$$\n\\int_0^1 x\\,dx\n$$",
    "---",
    "Text\n\n---\n\nMore",
    "Line one\nline two\nline three",
    "- ## heading item",
    "**bold**text and text**bold**",
    "a *b* c **d** e ~~f~~ g",
    "Special: \\# \\* \\_ \\[ \\] \\` \\$ \\< \\| \\~ \\\\",
    "1\\. not a list and 2) neither",
    "-",
    "- [ ]",
    "- [x]",
    "Price: $5 to $10",
]


@pytest.mark.parametrize("markdown", ROUND_TRIP_DOCUMENTS)
def test_round_trip_is_stable(markdown: str) -> None:
    blocks = parse(markdown)
    assert blocks, "the document should produce blocks"
    assert parse(render(blocks)) == blocks


CANONICAL_DOCUMENTS = [
    "# Title\n\nParagraph with **bold** and *italic*.",
    "- a\n    - b\n        1. c\n- [ ] d\n- [x] e",
    "> quote\n\n```python\nx = 1\n```\n\n$$\ny\n$$\n\n---",
    "1. one\n2. two\n3. three",
    "Text with `code` and $m$ and [link](https://x.io).",
]


@pytest.mark.parametrize("markdown", CANONICAL_DOCUMENTS)
def test_canonical_markdown_renders_back_identically(markdown: str) -> None:
    assert render(parse(markdown)) == markdown


def test_entity_links_come_back_as_entity_links_with_a_url_resolver() -> None:
    prefix = "https://app.capacities.io/space/"
    markdown = render(parse("See [[Project Alpha]] and [docs](https://docs.io)."))

    def by_url(url: str) -> str | None:
        return url.removeprefix(prefix) if url.startswith(prefix) else None

    blocks = markdown_to_blocks(markdown, resolve_url=by_url)
    assert_writable(blocks)
    assert blocks[0]["tokens"] == [
        text("See "),
        {"type": "LinkToken", "text": "Project Alpha", "entityId": "id-alpha"},
        text(" and "),
        {"type": "LinkToken", "text": "docs", "url": "https://docs.io"},
        text("."),
    ]


def test_entity_links_render_with_title_url_and_come_back_as_url_links() -> None:
    blocks = parse("See [[Project Alpha]].")
    markdown = render(blocks)
    assert markdown == "See [Project Alpha](https://app.capacities.io/space/id-alpha)."
    assert parse(markdown)[0]["tokens"][1] == {
        "type": "LinkToken",
        "text": "Project Alpha",
        "url": ALPHA_URL,
    }


# --- property-based round trips ----------------------------------------------------------------

_WORD_CHARS = st.sampled_from([*"abcXYZ019#*_[]`$<>|~&\\!().-+=:;'\"", "é", "ß", "—", "“"])
_WORDS = st.text(_WORD_CHARS, min_size=1, max_size=6)
_STYLES = st.sampled_from(
    [
        {},
        {"bold": True},
        {"italic": True},
        {"strikethrough": True},
        {"bold": True, "italic": True},
        {"bold": True, "strikethrough": True},
        {"bold": True, "italic": True, "strikethrough": True},
    ]
)
_CODE = st.text(st.sampled_from(list("ab1 `*_$[\\")), min_size=1, max_size=6)
# LaTeX never ends in a lone backslash; `$\$` cannot be written in Markdown anyway.
_MATH = (
    st.text(st.sampled_from(list("xyz^_+{}\\ 2")), min_size=1, max_size=6)
    .map(str.strip)
    .filter(lambda s: s and not s.endswith("\\"))
)
_URL = st.sampled_from(["https://example.com", "https://e.io/a_b?c=1&d=2", "mailto:a@b.c", "/relative/path"])


@st.composite
def _segments(draw: st.DrawFn, multiline: bool = True) -> list[dict[str, Any]]:
    """Tokens as an editor would hold them: runs of words, maybe a space or line break between."""
    separators = st.sampled_from([" ", " ", "", "\n", "\n\n"] if multiline else [" ", ""])
    tokens: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 5))):
        separator = draw(separators) if index else ""
        if separator:
            tokens.append(text(separator))
        kind = draw(st.sampled_from(["text", "text", "text", "code", "math", "link"]))
        if kind == "text":
            words = draw(st.lists(_WORDS, min_size=1, max_size=3))
            tokens.append(text(draw(separators).join(words), **draw(_STYLES)))
        elif kind == "code":
            tokens.append({"type": "CodeToken", "text": draw(_CODE)})
        elif kind == "math":
            tokens.append({"type": "MathToken", "text": draw(_MATH)})
        else:
            label = " ".join(draw(st.lists(_WORDS, min_size=1, max_size=2)))
            tokens.append({"type": "LinkToken", "text": label, "url": draw(_URL)})
    return _merge(tokens)


def _merge(tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for token in tokens:
        last = merged[-1] if merged else {}
        if token["type"] == last.get("type") == "TextToken" and last["style"] == token["style"]:
            last["text"] += token["text"]
        else:
            merged.append(dict(token))
    return merged


def _text_blocks(
    children: st.SearchStrategy[list[dict[str, Any]]],
) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        shape = draw(st.sampled_from(["para", "heading", "bullet", "numerical", "todo", "quote"]))
        block: dict[str, Any] = {"type": "TextBlock", "tokens": draw(_segments(shape != "heading"))}
        level = draw(st.integers(1, 3)) if shape == "heading" else 0
        block["hierarchy"] = {"key": f"H{level}", "val": level} if level else PARAGRAPH
        if shape in ("bullet", "numerical"):
            block["list"] = {"type": shape}
        elif shape == "todo":
            block["todo"] = {"isDone": draw(st.booleans())}
        elif shape == "quote":
            block["quote"] = {"layout": "normal"}
        if shape in ("bullet", "numerical", "todo"):
            nested = draw(children)
            if nested:
                block["blocks"] = nested
        return block

    return build()


_CODE_LINES = st.lists(
    st.text(st.sampled_from(list("ab `~\\$")), max_size=5).map(str.rstrip), min_size=1, max_size=3
).filter(any)
_LEAF_BLOCKS = st.one_of(
    st.builds(
        lambda lang, lines: {"type": "CodeBlock", "lang": lang, "text": "\n".join(lines)},
        st.sampled_from(["", "python", "c++"]),
        _CODE_LINES,
    ),
    st.builds(lambda t: {"type": "MathBlock", "text": t}, _MATH),
    st.just({"type": "HorizontalLineBlock"}),
)

_BLOCK_LISTS = st.recursive(
    st.lists(_LEAF_BLOCKS, max_size=2),
    lambda children: st.lists(st.one_of(_text_blocks(children), _LEAF_BLOCKS), min_size=1, max_size=4),
    max_leaves=12,
)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_BLOCK_LISTS.filter(bool))
def test_property_blocks_survive_markdown(blocks: list[dict[str, Any]]) -> None:
    assert_writable(blocks)
    markdown = render(blocks)
    assert parse(markdown) == blocks, markdown


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(st.text(st.sampled_from(list("ab1 \n#*_-+>[]`$~|\\.!()<&=:")), max_size=40))
def test_property_any_markdown_reaches_a_fixed_point(markdown: str) -> None:
    blocks = parse(markdown)
    once = parse(render(blocks))
    assert parse(render(once)) == once
    for block in once:
        WRITABLE_TOKENS.validate_python(block.get("tokens", []))


def _canonical_text(value: str) -> str:
    """Text as Markdown can carry it: no spaces at line edges, no blank lines at the ends."""
    return "\n".join(line.strip(" ") for line in value.split("\n")).strip("\n ")


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(
    st.text(st.sampled_from(list("aZ1 \n#*_-+>[]`$~|\\.!()<&=:;'\"{}/%^@")), max_size=40)
    .map(_canonical_text)
    .filter(bool),
    st.sampled_from(
        [
            {},
            {"list": {"type": "numerical"}},
            {"quote": {"layout": "normal"}},
            {"todo": {"isDone": True}},
        ]
    ),
)
def test_property_any_text_survives_as_literal_text(value: str, shape: dict[str, Any]) -> None:
    blocks = [para(text(value), **shape)]
    assert parse(render(blocks)) == blocks


@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.text(st.sampled_from(list("a0.,:*_!(")), min_size=1, max_size=3), _STYLES),
        min_size=1,
        max_size=6,
    )
)
def test_property_adjacent_styles_survive(runs: list[tuple[str, dict[str, bool]]]) -> None:
    """Styles changing inside a word and next to punctuation, where CommonMark is subtle."""
    tokens = _merge([text(value, **style) for value, style in runs])
    markdown = tokens_to_markdown(tokens, entity_link=entity_link)
    assert parse(markdown)[0]["tokens"] == tokens, markdown
