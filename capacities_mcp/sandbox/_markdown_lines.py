"""A linear fast path for line-oriented Markdown: headings, paragraphs, nested lists, to-dos,
one-paragraph quotes and fenced code at the margin.

markdown-it-py needs about 0.1 ms per list item (block rules tried in turn, a token stream, a
syntax tree): 25,000 to-dos, which fit in the API's 200,000-character limit, took seconds. Most
real notes and every long list are line-oriented, where CommonMark's meaning can be read off each
line alone. This module reads such documents line by line and builds the same blocks the full
parser would; inline text with Markdown syntax in it still goes through markdown-it's inline
parser, one paragraph or item at a time.

`line_blocks` returns None as soon as a line is outside the narrow grammar it knows exactly
(nested quotes, fences in lists, tables, HTML, indented code, lazy continuation lines, reference
definitions, tabs, ...): the caller then parses the whole document with markdown-it. Equality with the full
parse is checked by a differential test over generated documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it.tree import SyntaxTreeNode

from ._markdown import (
    _MAX_HEADING,
    _PARSER,
    Block,
    Token,
    _inline_tokens,
    _Links,
    _text_block,
    _text_token,
)

__all__ = ["line_blocks"]

# Characters that may start inline syntax (emphasis, code, links, math, HTML, entities, escapes,
# strikethrough, table cells): text without any of them is one plain text token.
_INLINE_SYNTAX = re.compile(r"[\\`*_\[\]<>!&$~|]")
# What a paragraph line or an item's text must not start with: it could open another block (or,
# for "[ ]", be read as a to-do box). "**bold**" may start a line; "* x", "***" and "---" may not.
_BLOCK_START = re.compile(
    r"[>`~<$|]"  # quote, fence, HTML, math block, table
    r"|[-+*](?:\s|$)"  # a bullet
    r"|#{1,6}(?:\s|$)"  # a heading
    r"|\d{1,9}[.)](?:\s|$)"  # an ordered item
    r"|\[[ xX]\]"  # a to-do box
    r"|(?:[-*_]\s*){3,}$"  # a thematic break
    r"|[=-]+\s*$"  # a setext underline
)
_HEADING = re.compile(r"(#{1,6}) (.*)")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)")
_ITEM = re.compile(r"( *)(?:([-+*])|(\d{1,9})([.)])) (?:\[([ xX])\] )?(.*)")
# Tabs and other control characters change columns or get replaced.
_NEEDS_FULL_PARSE = re.compile(r"[\t\r\0\v\f]")
# A reference definition ("[label]: url") starts a paragraph, possibly in a list item or quote.
_MAY_DEFINE_REFERENCE = re.compile(r"^[ >]*(?:(?:[-+*]|\d{1,9}[.)]) +[ >]*)*\[", re.MULTILINE)
# A marker may sit up to three columns past its parent's content column (or the margin); four
# or more make indented code, or lazy paragraph text.
_MAX_MARKER_INDENT = 3


@dataclass
class _OpenItem:
    """A list item whose nested items may still follow."""

    block: Block
    content_column: int  # where its text starts: nested markers sit at or after it
    children: list[Block] = field(default_factory=list)
    child_kind: str | None = None  # marker kind of its nested list: another kind starts a new list


@dataclass
class _Fence:
    """An open fenced code block at the margin: its lines are taken as they are."""

    marker: str
    lang: str
    lines: list[str] = field(default_factory=list)

    def closes(self, line: str) -> bool:
        body = line.rstrip(" ")
        indent = len(body) - len(body.lstrip(" "))
        run = body.lstrip(" ")
        return indent <= _MAX_MARKER_INDENT and len(run) >= len(self.marker) and set(run) == {self.marker[0]}


@dataclass
class _Reader:
    """Reads a document line by line; each `read` says whether the line was understood."""

    links: _Links
    blocks: list[Block] = field(default_factory=list)
    stack: list[_OpenItem] = field(default_factory=list)
    paragraph: list[str] = field(default_factory=list)
    quoted: bool = False  # the open paragraph is a quote ("> " lines)
    fence: _Fence | None = None
    previous: str = "blank"  # the previous line: "blank", "text", "item" or "quote"
    top_kind: str | None = None

    def read(self, line: str) -> bool:
        if self.fence is not None:
            return self._fence_line(line)
        body = line.rstrip(" ")  # the parser strips spaces at the end of a block's text
        if not body:
            self._end_paragraph()
            self.previous = "blank"
            return True
        if body.startswith("> "):
            return self._quote_line(body[2:])
        if self.previous == "quote":
            return False  # lazy continuation of the quote, or a block ending it: hand over
        fence = _FENCE.fullmatch(body)
        if fence is not None:
            return self._open_fence(fence.group(1), fence.group(2))
        item = _ITEM.fullmatch(body)
        if item is not None:
            return self._item(item)
        if body[0].isspace():
            return False  # indented text: code, or a paragraph inside an item
        heading = _HEADING.fullmatch(body)
        if heading is not None:
            return self._heading(len(heading.group(1)), heading.group(2))
        # Two spaces before a line break make a hard break, which reads as "\n" like a soft one.
        return self._paragraph_line(body)

    def finish(self) -> list[Block]:
        self._end_paragraph()
        self._close_items(0)
        return self.blocks

    def _quote_line(self, text: str) -> bool:
        if self.previous not in ("blank", "quote") or not _is_plain_start(text):
            return False
        if self.previous == "blank":
            self._close_items(0)
            self.quoted, self.top_kind = True, None
        self.paragraph.append(text)
        self.previous = "quote"
        return True

    def _open_fence(self, marker: str, info: str) -> bool:
        if self.previous != "blank" or (marker[0] == "`" and "`" in info):
            return False
        self._close_items(0)
        self.fence, self.top_kind = _Fence(marker, info.strip().split(" ", 1)[0]), None
        return True

    def _fence_line(self, line: str) -> bool:
        fence = self.fence
        assert fence is not None
        if not fence.closes(line):
            fence.lines.append(line)
            return True
        self.blocks.append({"type": "CodeBlock", "lang": fence.lang, "text": "\n".join(fence.lines)})
        self.fence, self.previous = None, "blank"
        return True

    def _heading(self, level: int, text: str) -> bool:
        if not _is_plain_start(text) or text.endswith("#"):
            return False  # a closing "#" sequence is not text
        self._end_paragraph()
        self._close_items(0)
        self.blocks.append(_text_block(_inline(text, self.links), min(level, _MAX_HEADING)))
        self.previous, self.top_kind = "text", None
        return True

    def _paragraph_line(self, line: str) -> bool:
        if self.previous == "item" or not _is_plain_start(line):
            return False  # right after an item, a line at the margin continues the item's text
        if not self.paragraph:
            self._close_items(0)
        self.paragraph.append(line)
        self.previous, self.top_kind = "text", None
        return True

    def _item(self, match: re.Match[str]) -> bool:
        spaces, bullet, number, delimiter, box, text = match.groups()
        if not _is_plain_start(text):
            return False
        indent, kind = len(spaces), bullet or delimiter
        self._end_paragraph()
        self._close_items(indent)
        parent = self.stack[-1] if self.stack else None
        margin = parent.content_column if parent is not None else 0
        if indent - margin > _MAX_MARKER_INDENT:
            return False
        list_kind = parent.child_kind if parent is not None else self.top_kind
        if kind != list_kind and number is not None and int(number) != 1 and self.previous != "blank":
            return False  # only a list that starts at 1 may interrupt text; this line is text
        block = _text_block(_inline(text, self.links))
        if box is None:
            block["list"] = {"type": "bullet" if bullet else "numerical"}
        else:
            block["todo"] = {"isDone": box != " "}
        if parent is not None:
            parent.child_kind = kind
        else:
            self.top_kind = kind
        marker_width = 1 if bullet else len(number) + 1
        self.stack.append(_OpenItem(block, indent + marker_width + 1))
        self.previous = "item"
        return True

    def _close_items(self, indent: int) -> None:
        """Close every open item that a marker at column `indent` does not sit inside."""
        while self.stack and self.stack[-1].content_column > indent:
            closed = self.stack.pop()
            if closed.children:
                closed.block["blocks"] = closed.children
            (self.stack[-1].children if self.stack else self.blocks).append(closed.block)

    def _end_paragraph(self) -> None:
        if self.paragraph:
            block = _text_block(_inline("\n".join(self.paragraph), self.links))
            if self.quoted:
                block["quote"] = {"layout": "normal"}
            self.blocks.append(block)
            self.paragraph, self.quoted = [], False


def _is_plain_start(text: str) -> bool:
    """Not empty, no spaces at the edges, and nothing at the start that opens another block."""
    return bool(text) and not text[0].isspace() and not text[-1].isspace() and not _BLOCK_START.match(text)


def _inline(text: str, links: _Links) -> list[Token]:
    if _INLINE_SYNTAX.search(text) is None:
        return [_text_token(text)]
    return _inline_tokens(SyntaxTreeNode(_PARSER.parseInline(text)).children[0], links)


def line_blocks(markdown: str, links: _Links) -> list[Block] | None:
    """The blocks of a line-oriented document, or None when it needs the full parser."""
    if _NEEDS_FULL_PARSE.search(markdown):
        return None
    if "]:" in markdown and _MAY_DEFINE_REFERENCE.search(markdown):
        return None
    reader = _Reader(links)
    for line in markdown.split("\n"):
        if not reader.read(line):
            return None
    if reader.fence is not None:
        return None  # a fence left open runs to the end, with the parser's own rules
    return reader.finish()
