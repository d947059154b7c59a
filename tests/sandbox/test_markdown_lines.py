"""The line-by-line fast path gives exactly the blocks of the full markdown-it parse.

Documents are generated from lines that sit on both sides of the fast path's limits: nested and
ordered lists at every indentation, to-dos, headings, paragraphs, lazy continuation lines, lists
interrupting text, inline syntax, and lines it must hand over (fences, quotes, rules, tables,
indented text). Wherever the fast path answers, its blocks must equal the full parse.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from capacities_mcp.sandbox._markdown import _Links, full_parse, markdown_to_blocks, tokens_to_markdown
from capacities_mcp.sandbox._markdown_lines import line_blocks

NO_LINKS = _Links(None, None)
LINKS = _Links(lambda name: "0f0e0d0c-0b0a-4908-8706-050403020100" if name == "Alice" else None, None)

TEXTS = [
    "plain words",
    "**bold** and *em*",
    "`code` here",
    "a [link](https://example.com) b",
    "see [[Alice]] and [[Bob]]",
    "math $x^2$ inline",
    "~~gone~~",
    "a\\*b",
    "AT&T &amp; co",
    "<span>x</span>",
    "2026 plans",
    "#tag words",
    "x #",
    "[ ]x",
    "[x] not a box",
    "中文的笔记内容",
    "trailing ",
    "ends two  ",
    "***",
    "* * *",
    "___",
    "__under__ x",
    "-x",
    "+x",
    "*x* y",
    "**07:40** Morning",
    "=x",
    "--",
    "==",
    "- - -",
    "see [ref] and [x]: y",
    "[ref]: https://example.com",
    "[[Alice]] first",
]
MARKERS = ["- ", "* ", "+ ", "1. ", "2. ", "1) ", "10. ", "- [ ] ", "- [x] ", "1. [X] ", "-  "]
INDENTS = ["", " ", "  ", "   ", "    ", "     ", "      ", "        "]
ODD_LINES = [
    "",
    "",
    "> quoted words",
    "> **bold** quote",
    "> - not plain",
    ">",
    "```python",
    "```",
    "~~~",
    "````",
    "``` a`b",
    "    code = 1  ",
    "  ```",
    "   ",
    "---",
    "***",
    "===",
    "> quote",
    "```",
    "~~~",
    "    indented",
    "| a | b |",
    "|---|---|",
    "$$",
    "<div>",
    "[ref]: https://example.com",
    "- ",
    "- [ ]",
    "#",
    "# ",
    "\tx",
    "a\tb",
    "## heading ##",
    "#### deep heading",
]


@st.composite
def lines(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["item", "item", "item", "paragraph", "heading", "odd"]))
    text = draw(st.sampled_from(TEXTS))
    if kind == "item":
        return draw(st.sampled_from(INDENTS)) + draw(st.sampled_from(MARKERS)) + text
    if kind == "heading":
        return "#" * draw(st.integers(1, 6)) + " " + text
    if kind == "paragraph":
        return text
    return draw(st.sampled_from(ODD_LINES))


documents = st.lists(lines(), max_size=14).map("\n".join)


@settings(max_examples=600, deadline=None)
@given(documents)
def test_fast_path_equals_the_full_parse(document: str) -> None:
    fast = line_blocks(document, LINKS)
    if fast is not None:
        assert fast == full_parse(document, LINKS)


@settings(max_examples=200, deadline=None)
@given(documents)
def test_markdown_to_blocks_is_the_full_parse_whichever_path(document: str) -> None:
    assert markdown_to_blocks(document) == full_parse(document, NO_LINKS)


def test_line_oriented_documents_take_the_fast_path() -> None:
    todos = "".join(f"- [{'x' if i % 3 else ' '}] task {i}\n" for i in range(300))
    nested = (
        "# Plan\n\nIntro with **bold**.\n\n- parent\n    - child\n        1. grandchild\n    - [x] done\n"
    )
    for document in (todos, nested, "", "one paragraph\nwith two lines"):
        fast = line_blocks(document, NO_LINKS)
        assert fast is not None and fast == full_parse(document, NO_LINKS)


def test_documents_it_does_not_know_are_handed_over() -> None:
    for document in (
        "> quote\nlazy continuation",
        "```\nnever closed",
        "- item\nlazy continuation",
        "text\n2. not a list",
        "- item\n\n  inner paragraph",
        "[ref]: https://example.com\n[ref]",
        "title\n===",
    ):
        assert line_blocks(document, NO_LINKS) is None, document


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab #*_-+=>`~$<[]!&|\\.)1 \u00a0中")), max_size=12))
def test_plain_text_renders_as_the_general_renderer_does(text: str) -> None:
    plain = {"type": "TextToken", "text": text, "style": {}}
    # An empty second token adds nothing but takes the general path.
    general = [plain, {"type": "TextToken", "text": "", "style": {}}]
    assert tokens_to_markdown([plain], entity_link=lambda _: None) == tokens_to_markdown(
        general, entity_link=lambda _: None
    )


FENCES_AND_QUOTES = [
    "```python\nx = 1\n\n  y = 2  \n```",
    "``` a`b\ncode\n```",
    "```\ncode\n~~~\nmore\n```",
    "````\n```\nstill code\n````",
    "```\n   ```\nafter",
    "~~~\n```\n~~~",
    "```\na\n~~~\n\n```\nc\n```",
    "> one\n> two\n\n> three",
    "> quote\nlazy line",
    "> quote\n- item",
    "- item\n> quote",
    "text\n> quote",
    "> **bold** and [[Alice]]",
]


def test_fences_and_quotes_read_as_the_full_parse_does() -> None:
    for document in FENCES_AND_QUOTES:
        fast = line_blocks(document, LINKS)
        assert fast is None or fast == full_parse(document, LINKS), document
    for common in ("```python\nx = 1\n```", "> one\n> two\n\n> three"):
        assert line_blocks(common, LINKS) is not None  # the common forms are fast
