"""A linear fast path for line-oriented Markdown: headings, paragraphs, nested lists and to-dos.

markdown-it-py needs about 0.1 ms per list item (block rules tried in turn, a token stream, a
syntax tree): 25,000 to-dos, which fit in the API's 200,000-character limit, took seconds. Most
real notes and every long list are line-oriented, where CommonMark's meaning can be read off each
line alone. This module reads such documents line by line and builds the same blocks the full
parser would; inline text with Markdown syntax in it still goes through markdown-it's inline
parser, one paragraph or item at a time.

`line_blocks` returns None as soon as a line is outside the narrow grammar it knows exactly
(fences, quotes, tables, HTML, indented code, lazy continuation lines, reference definitions,
tabs, ...): the caller then parses the whole document with markdown-it. Equality with the full
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
_ITEM = re.compile(r"( *)(?:([-+*])|(\d{1,9})([.)])) (?:\[([ xX])\] )?(.*)")
# Tabs and other control characters change columns or get replaced.
_NEEDS_FULL_PARSE = re.compile(r"[\t\r\0\v\f]")
# A reference definition ("[label]: url") starts a paragraph, possibly in a list item.
_MAY_DEFINE_REFERENCE = re.compile(r"^ {0,3}(?:(?:[-+*]|\d{1,9}[.)]) +)*\[", re.MULTILINE)
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
class _Reader:
    """Reads a document line by line; each `read` says whether the line was understood."""

    links: _Links
    blocks: list[Block] = field(default_factory=list)
    stack: list[_OpenItem] = field(default_factory=list)
    paragraph: list[str] = field(default_factory=list)
    previous: str = "blank"  # the previous line: "blank", "text" or "item"
    top_kind: str | None = None

    def read(self, line: str) -> bool:
        body = line.rstrip(" ")  # the parser strips spaces at the end of a block's text
        if not body:
            self._end_paragraph()
            self.previous = "blank"
            return True
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
            self.blocks.append(_text_block(_inline("\n".join(self.paragraph), self.links)))
            self.paragraph = []


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
    return reader.finish()
