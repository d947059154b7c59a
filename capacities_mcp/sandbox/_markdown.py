"""Markdown <-> Capacities blocks, for the sandbox's Markdown routes and Markdown export.

Parsing is markdown-it-py's (CommonMark plus tables, strikethrough, task lists and `$` math);
this module only maps its syntax tree onto the API's wire-form blocks and text tokens
(capacities-api.md §6.4, §6.5) and renders wire-form blocks back to Markdown. Line-oriented
documents (headings, paragraphs, lists, to-dos) take a linear fast path, `_markdown_lines`,
which gives the same blocks in a fraction of the time.

The rendering is chosen so that `markdown_to_blocks(blocks_to_markdown(blocks))` gives the same
blocks back for everything Markdown can express (headings, paragraphs, nested lists, to-dos,
quotes, code, math, rules, bold/italic/strikethrough, inline code and math, URL links). What
Markdown cannot carry (colours, underline, toggles, alignment, grids, entity embeds, entity links)
is rendered in the closest readable form and is lost on the way back; entity links come back
as entity links only when the caller passes `resolve_url`.

Where CommonMark would misread neighbouring markers ("**a.**b", "*a*" + "**b**" written
together, "2$x$"), the renderer puts an empty comment `<!---->` between them; the parser drops
comments. Known lossy corners: leading or trailing newlines and spaces in a paragraph, spaces at
the edges of inline math, underline and colours, alphabetical/roman list numbering, and
paragraphs with indented children (the children follow the paragraph).
"""

from __future__ import annotations

import datetime
import re
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.tree import SyntaxTreeNode
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_inline_dollar

__all__ = [
    "EntityLinker",
    "LinkResolver",
    "blocks_to_markdown",
    "markdown_to_blocks",
    "split_front_matter",
    "split_title",
    "strip_front_matter",
    "tokens_to_markdown",
    "tokens_to_plain_text",
]

LinkResolver = Callable[[str], str | None]
"""Maps a link target (a `[[Name]]`, or a URL) to an object id, or None when there is none."""

EntityLinker = Callable[[str], tuple[str, str] | None]
"""Maps an object id to `(title, url)` for rendering, or None when the object is unknown."""

Block = dict[str, Any]
Token = dict[str, Any]

# Capacities knows three heading levels; deeper Markdown headings are folded into H3.
_MAX_HEADING = 3
# Children of list items are indented by four spaces: enough for "- ", "1. " and "10. " markers.
_INDENT = "    "
_STYLE_MARKERS: tuple[tuple[str, str], ...] = (
    ("strikethrough", "~~"),
    ("bold", "**"),
    ("italic", "*"),
)
_MARKER_OF_STYLE = dict(_STYLE_MARKERS)
_STYLE_OF_NODE = {"strong": "bold", "em": "italic", "s": "strikethrough"}


# --- parser ------------------------------------------------------------------------------------


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    """`[[Name]]` (or `[[Name|label]]`) as one inline token, so link syntax never splits it."""
    start = state.pos
    if not state.src.startswith("[[", start):
        return False
    end = state.src.find("]]", start + 2)
    if end < 0:
        return False
    inner = state.src[start + 2 : end]
    if not inner.strip() or any(ch in inner for ch in "[]\n"):
        return False
    if not silent:
        token = state.push("wikilink", "", 0)
        token.content = inner
        token.markup = "[["
    state.pos = end + 2
    return True


_plugin_math_inline = math_inline_dollar(allow_space=False, allow_digits=False, allow_double=True)


def _math_inline_rule(state: StateInline, silent: bool) -> bool:
    """The plugin's `$math$` rule, minus its bug at the start of a paragraph.

    To refuse "digit$" and "\\$" it reads `src[pos - 1]`, which at position 0 wraps around to
    the paragraph's last character: "$x$ costs 5" would stay text. A trailing space hides it.
    """
    if state.pos == 0:
        original = state.src
        state.src = original + " "
        try:
            return _plugin_math_inline(state, silent)
        finally:
            state.src = original
    return _plugin_math_inline(state, silent)


# GitHub's task-list item: "[ ]", "[x]" or "[X]", then whitespace, at the start of the item's text.
_TASK_MARKER_RE = re.compile(r"\[([ xX])\][ \t\n\v\f\r]+")
_TASK_MARKER_LENGTH = 3


def _task_list_rule(state: StateCore) -> None:
    """Mark `- [ ] text` items as tasks (`meta["task_done"]` on the list item) in one pass.

    Replaces mdit-py-plugins' tasklists plugin, which looks for each item's enclosing list by
    scanning back through every token before it: quadratic, 39 s for 25,000 to-dos.
    """
    tokens = state.tokens
    for index in range(2, len(tokens) - 1):
        inline = tokens[index]
        if inline.type != "inline" or tokens[index - 1].type != "paragraph_open":
            continue
        item = tokens[index - 2]
        marker = _TASK_MARKER_RE.match(inline.content)
        if item.type != "list_item_open" or marker is None:
            continue
        item.meta["task_done"] = marker.group(1) != " "
        inline.content = inline.content[_TASK_MARKER_LENGTH:]
        first = inline.children[0] if inline.children else None
        if first is not None and first.type == "text":
            first.content = first.content[_TASK_MARKER_LENGTH:]


def _build_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.core.ruler.after("inline", "task_lists", _task_list_rule)
    # No spaces or digits next to the dollars: "costs $5 and $10" stays prose.
    parser.use(
        dollarmath_plugin,
        allow_labels=False,
        allow_space=False,
        allow_digits=False,
        double_inline=True,
    )
    parser.inline.ruler.at("math_inline", _math_inline_rule)
    parser.inline.ruler.before("link", "wikilink", _wikilink_rule)
    # Keep link destinations as written (no percent-encoding), so URLs survive a round trip.
    parser.normalizeLink = lambda url: url  # type: ignore[method-assign]
    return parser


_PARSER = _build_parser()


# --- Markdown -> blocks ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Links:
    by_name: LinkResolver | None
    by_url: LinkResolver | None


def markdown_to_blocks(
    markdown: str,
    *,
    resolve_link: LinkResolver | None = None,
    resolve_url: LinkResolver | None = None,
) -> list[Block]:
    """Parse Markdown into writable wire-form blocks (camelCase, no ids), ready to POST.

    `[[Name]]` becomes a LinkToken to `resolve_link(Name)`; without a resolver, or when it
    returns None, the wiki-link stays literal text. `resolve_url`, when given, turns
    `[text](url)` into an entity link where it maps the URL to an object id, so that links in
    our own export (`[Title](https://app.capacities.io/SPACE/OBJECT)`) survive a round trip.
    """
    # Imported here: the fast path builds on this module's helpers.
    from ._markdown_lines import line_blocks

    links = _Links(resolve_link, resolve_url)
    fast = line_blocks(markdown, links)
    if fast is not None:
        return fast
    return full_parse(markdown, links)


def full_parse(markdown: str, links: _Links) -> list[Block]:
    """markdown-it's reading of any document (the fast path's reference)."""
    return _convert_nodes(SyntaxTreeNode(_PARSER.parse(markdown)).children, links)


def _convert_nodes(nodes: Sequence[SyntaxTreeNode], links: _Links) -> list[Block]:
    blocks: list[Block] = []
    for node in nodes:
        blocks.extend(_convert_node(node, links))
    return blocks


def _text_block(tokens: list[Token], level: int = 0) -> Block:
    hierarchy = {"key": f"H{level}", "val": level} if level else {"key": "Base", "val": 0}
    return {"type": "TextBlock", "tokens": tokens, "hierarchy": hierarchy}


def _heading_level(node: SyntaxTreeNode) -> int:
    return min(int(node.tag[1:]), _MAX_HEADING)


def _inline_child(node: SyntaxTreeNode) -> SyntaxTreeNode | None:
    return next((child for child in node.children if child.type == "inline"), None)


def _convert_node(node: SyntaxTreeNode, links: _Links) -> list[Block]:
    kind = node.type
    if kind == "paragraph":
        return [_text_block(_inline_tokens(_inline_child(node), links))]
    if kind == "heading":
        tokens = _inline_tokens(_inline_child(node), links)
        return [_text_block(tokens, _heading_level(node))]
    if kind in ("bullet_list", "ordered_list"):
        list_type = "bullet" if kind == "bullet_list" else "numerical"
        return [_list_item(item, list_type, links) for item in node.children]
    if kind == "blockquote":
        quoted = _convert_nodes(node.children, links)
        for block in quoted:
            if block["type"] == "TextBlock":
                block["quote"] = {"layout": "normal"}
        return quoted
    if kind in ("fence", "code_block"):
        lang = node.info.strip().split(" ", 1)[0] if kind == "fence" else ""
        return [{"type": "CodeBlock", "lang": lang, "text": _strip_final_newline(node.content)}]
    if kind in ("math_block", "math_block_label"):
        # The math plugin keeps a list item's indentation on the lines; drop it.
        return [{"type": "MathBlock", "text": textwrap.dedent(node.content).strip("\n")}]
    if kind == "hr":
        return [{"type": "HorizontalLineBlock"}]
    if kind == "table":
        return _table_rows(node, links)
    if kind == "html_block":
        html = node.content.strip()
        # Comments carry nothing for the reader (our own export marks unsupported blocks so).
        if not html or (html.startswith("<!--") and html.endswith("-->")):
            return []
        return [_text_block([_text_token(html)])]
    return _convert_nodes(node.children, links)


def _strip_final_newline(text: str) -> str:
    return text[:-1] if text.endswith("\n") else text


_EMPTY_TASK_RE = re.compile(r"^\[([ xX])\]$")


def _list_item(item: SyntaxTreeNode, list_type: str, links: _Links) -> Block:
    """One list item: its first paragraph or heading is the block's text, the rest its children."""
    children = list(item.children)
    head = children[0] if children and children[0].type in ("paragraph", "heading") else None
    rest = children[1:] if head is not None else children
    inline = _inline_child(head) if head is not None else None
    level = _heading_level(head) if head is not None and head.type == "heading" else 0

    is_done: bool | None = None
    task_done = item.meta.get("task_done")
    if isinstance(task_done, bool) and inline is not None:
        is_done = task_done
        tokens = _inline_tokens(inline, links)
        if tokens and tokens[0]["type"] == "TextToken":
            tokens[0]["text"] = tokens[0]["text"].lstrip()
            if not tokens[0]["text"]:
                tokens.pop(0)
    elif inline is not None and (empty_task := _EMPTY_TASK_RE.match(inline.content)):
        # `_task_list_rule` (like GitHub) wants text after the checkbox; an empty to-do is still one.
        is_done = empty_task.group(1) != " "
        tokens = []
    else:
        tokens = _inline_tokens(inline, links)

    block = _text_block(tokens, level)
    if is_done is None:
        block["list"] = {"type": list_type}
    else:
        block["todo"] = {"isDone": is_done}
    child_blocks = _convert_nodes(rest, links)
    if child_blocks:
        block["blocks"] = child_blocks
    return block


def _table_rows(table: SyntaxTreeNode, links: _Links) -> list[Block]:
    """Capacities has no table block: one paragraph per row, cells joined by " | ", header bold."""
    rows: list[Block] = []
    for section in table.children:
        for row in section.children:
            tokens: list[Token] = []
            for index, cell in enumerate(row.children):
                if index:
                    tokens.append(_text_token(" | "))
                style = {"bold": True} if cell.type == "th" else {}
                tokens.extend(_inline_tokens(_inline_child(cell) or cell, links, style=style))
            rows.append(_text_block(_merge_tokens(tokens)))
    return rows


def _text_token(text: str, style: dict[str, bool] | None = None) -> Token:
    return {"type": "TextToken", "text": text, "style": dict(style or {})}


def _inline_tokens(
    inline: SyntaxTreeNode | None,
    links: _Links,
    *,
    skip: int = 0,
    style: dict[str, bool] | None = None,
) -> list[Token]:
    if inline is None:
        return []
    tokens: list[Token] = []
    _collect_tokens(inline.children[skip:], dict(style or {}), links, tokens)
    return _merge_tokens(tokens)


def _collect_tokens(
    nodes: Sequence[SyntaxTreeNode],
    style: dict[str, bool],
    links: _Links,
    out: list[Token],
) -> None:
    for node in nodes:
        kind = node.type
        if kind == "html_inline" and node.content.startswith("<!--"):
            continue  # comments show nothing (our own renderer uses them to split markers)
        if kind in ("text", "text_special", "html_inline"):
            out.append(_text_token(node.content, style))
        elif kind in ("softbreak", "hardbreak"):
            out.append(_text_token("\n", style))
        elif kind in _STYLE_OF_NODE:
            _collect_tokens(node.children, {**style, _STYLE_OF_NODE[kind]: True}, links, out)
        elif kind == "code_inline":
            out.append({"type": "CodeToken", "text": node.content})
        elif kind in ("math_inline", "math_inline_double"):
            out.append({"type": "MathToken", "text": node.content})
        elif kind == "link":
            url = str(node.attrs.get("href", ""))
            label = _plain_text_of(node.children)
            entity_id = links.by_url(url) if links.by_url is not None else None
            if entity_id is not None:
                out.append({"type": "LinkToken", "text": label or url, "entityId": entity_id})
            else:
                out.append({"type": "LinkToken", "text": label or url, "url": url})
        elif kind == "image":
            url = str(node.attrs.get("src", ""))
            out.append({"type": "LinkToken", "text": node.content or url, "url": url})
        elif kind == "wikilink":
            out.append(_wikilink_token(node.content, style, links))
        else:
            _collect_tokens(node.children, style, links, out)


def _wikilink_token(inner: str, style: dict[str, bool], links: _Links) -> Token:
    name, _, label = inner.partition("|")
    name = name.strip()
    entity_id = links.by_name(name) if links.by_name is not None else None
    if entity_id is None:
        return _text_token(f"[[{inner}]]", style)
    return {"type": "LinkToken", "text": label.strip() or name, "entityId": entity_id}


def _plain_text_of(nodes: Sequence[SyntaxTreeNode]) -> str:
    parts: list[str] = []
    for node in nodes:
        if node.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif node.type == "wikilink":
            parts.append(node.content.partition("|")[2].strip() or node.content.strip())
        elif node.children:
            parts.append(_plain_text_of(node.children))
        else:
            parts.append(node.content)
    return "".join(parts)


def _merge_tokens(tokens: list[Token]) -> list[Token]:
    """Join neighbouring TextTokens that look the same; drop empty ones."""
    merged: list[Token] = []
    for token in tokens:
        if token["type"] == "TextToken":
            if not token["text"]:
                continue
            previous = merged[-1] if merged else None
            if (
                previous is not None
                and previous["type"] == "TextToken"
                and previous["style"] == token["style"]
                and previous.get("color") == token.get("color")
            ):
                previous["text"] += token["text"]
                continue
        merged.append(token)
    return merged


# --- title and front matter --------------------------------------------------------------------


_FRONT_MATTER_OPEN_RE = re.compile(r"\A\ufeff?---[ \t]*\r?\n")
_FRONT_MATTER_CLOSE_RE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)


def _front_matter_span(markdown: str) -> tuple[int, int, int] | None:
    """(yaml start, yaml end, body start) of a leading front matter block, if there is one."""
    opening = _FRONT_MATTER_OPEN_RE.match(markdown)
    if opening is None:
        return None
    closing = _FRONT_MATTER_CLOSE_RE.search(markdown, opening.end())
    if closing is None:
        return None
    body_start = closing.end()
    if markdown.startswith("\r\n", body_start):
        body_start += 2
    elif markdown.startswith("\n", body_start):
        body_start += 1
    return opening.end(), closing.start(), body_start


def strip_front_matter(markdown: str) -> str:
    """The document without its leading front matter block (its YAML is not read)."""
    span = _front_matter_span(markdown)
    return markdown[span[2] :] if span is not None else markdown


def split_front_matter(markdown: str) -> tuple[dict[str, Any], str]:
    """Split leading YAML front matter (between `---` lines) from the body.

    Returns `({}, markdown)` when there is none. Dates and times in the YAML come back as ISO
    8601 strings so the mapping is plain JSON. Raises ValueError on bad YAML or a non-mapping.
    """
    span = _front_matter_span(markdown)
    if span is None:
        return {}, markdown
    yaml_start, yaml_end, body_start = span
    source = markdown[yaml_start:yaml_end]
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as error:
        raise ValueError(f"Invalid YAML front matter: {_describe_yaml_error(error)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(
            f"Invalid YAML front matter: expected a mapping of `key: value` lines, got {_yaml_kind(data)}"
        )
    return {str(key): _json_friendly(value) for key, value in data.items()}, markdown[body_start:]


def _describe_yaml_error(error: yaml.YAMLError) -> str:
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    if mark is not None:
        # +2: one for 1-based lines, one for the opening `---` line.
        return f"{problem} (line {mark.line + 2} of the document)"
    return str(problem)


def _yaml_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "plain text"
    return f"a single {type(value).__name__} value"


def _json_friendly(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _json_friendly(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_friendly(item) for item in value]
    return value


_ATX_H1_RE = re.compile(r"^ {0,3}#(?:[ \t].*)?$")


def split_title(markdown: str) -> tuple[str | None, str]:
    """Take a leading `# Title` off the document (the way POST /object/markdown names objects).

    Front matter is skipped when looking for the heading and kept in the rest. The title is the
    heading's plain text (inline Markdown removed); without a leading H1 returns (None, markdown).
    """
    span = _front_matter_span(markdown)
    body_start = span[2] if span is not None else 0
    prefix, body = markdown[:body_start], markdown[body_start:]
    lines = body.splitlines(keepends=True)
    index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if index is None:
        return None, markdown
    line = lines[index].rstrip("\r\n")
    if not _ATX_H1_RE.match(line):
        return None, markdown
    inline = _inline_child(SyntaxTreeNode(_PARSER.parse(line)).children[0])
    title = _plain_text_of(inline.children).strip() if inline is not None else ""
    rest = "".join(lines[index + 1 :]).lstrip("\r\n")
    return title, prefix + rest


# --- tokens -> text ----------------------------------------------------------------------------


def tokens_to_plain_text(tokens: list[Token]) -> str:
    """The visible text of a token list (styles, link targets and math markup dropped)."""
    return "".join(str(token.get("text", "")) for token in tokens)


_ALWAYS_ESCAPED = frozenset("\\`*[]~$<")
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});")
# Line starts that would turn prose into a heading, quote, list, setext underline or rule, and
# lines that would make the line above a table header ("a | b" over "--|--").
_LINE_START_RE = re.compile(
    r"^(?:#{1,6}(?=\s|$)|>|[-+](?=\s|$)|=+\s*$|-+\s*$|(?:-\s*){3,}$|[\s|:-]*-[\s|:-]*$)"
)
_ORDERED_START_RE = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")


def _escape_text(text: str) -> str:
    """Backslash-escape what Markdown would otherwise read as syntax inside a run of text."""
    out: list[str] = []
    for index, char in enumerate(text):
        if char in _ALWAYS_ESCAPED:
            out.append("\\" + char)
        elif char == "_":
            inside_word = (
                0 < index < len(text) - 1 and text[index - 1].isalnum() and text[index + 1].isalnum()
            )
            out.append("_" if inside_word else "\\_")
        elif char == "&" and _ENTITY_RE.match(text, index):
            out.append("\\&")
        else:
            out.append(char)
    return "".join(out)


def _escape_line_start(line: str) -> str:
    if _LINE_START_RE.match(line):
        return "\\" + line
    ordered = _ORDERED_START_RE.match(line)
    if ordered:
        return ordered.group(1) + "\\" + line[ordered.end(1) :]
    return line


def _code_span(text: str) -> str:
    text = text.replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    needs_padding = (
        text.startswith("`")
        or text.endswith("`")
        or (len(text) > 1 and text.startswith(" ") and text.endswith(" ") and text.strip())
    )
    return f"{fence} {text} {fence}" if needs_padding else f"{fence}{text}{fence}"


def _link_destination(url: str) -> str:
    if re.search(r"[\s()<>]", url):
        return "<" + url.replace("<", "%3C").replace(">", "%3E") + ">"
    return url


def _styles_of(token: Token) -> list[str]:
    style = token.get("style") or {}
    return [name for name, _ in _STYLE_MARKERS if style.get(name)]


@dataclass(frozen=True)
class _Marker:
    """An emphasis marker that opens or closes a style, placed by `_join_inline`."""

    text: str
    closing: bool


def tokens_to_markdown(tokens: list[Token], *, entity_link: EntityLinker) -> str:
    """Inline Markdown for a token list; entity links become `[text](url)` via `entity_link`.

    Styles stay open across tokens ("**a *b***"). Where CommonMark could read such markers
    differently (markers inside words, next to punctuation), the text is checked against a
    flat rendering in which every styled run closes its own markers, and the first rendering
    that reads the same wins.
    """
    if len(tokens) == 1 and _is_plain_line(tokens[0]):
        # The common case, a line of unstyled text, without the marker machinery below.
        return _escape_line_start(_escape_text(str(tokens[0]["text"]).strip()))
    parts = _inline_parts(tokens, entity_link, flat=False)
    joined, ambiguous = _join_inline(parts, strict=False)
    markdown = _tidy_lines(joined)
    if not ambiguous:
        return markdown
    flat = _tidy_lines(_join_inline(_inline_parts(tokens, entity_link, flat=True), strict=True)[0])
    expected = _reading(flat)
    for candidate in (markdown, _tidy_lines(_join_inline(parts, strict=True)[0])):
        if _reading(candidate) == expected:
            return candidate
    return flat


def _is_plain_line(token: Token) -> bool:
    """An unstyled, uncoloured text token of one line."""
    text = token.get("text")
    return (
        token.get("type") == "TextToken"
        and isinstance(text, str)
        and "\n" not in text
        and not any((token.get("style") or {}).values())
        and not token.get("color")
    )


def _inline_parts(tokens: list[Token], entity_link: EntityLinker, *, flat: bool) -> list[str | _Marker]:
    """Text, atoms and style markers in order; `flat` closes every style after each run."""
    parts: list[str | _Marker] = []
    open_styles: list[str] = []
    pending_space = ""  # whitespace at a style edge, emitted outside the markers

    def close_to(depth: int) -> None:
        while len(open_styles) > depth:
            parts.append(_Marker(_MARKER_OF_STYLE[open_styles.pop()], closing=True))

    for token in tokens:
        kind = token.get("type")
        text = str(token.get("text", ""))
        if kind == "TextToken":
            core = text.strip()
            wanted = _styles_of(token)
            # Keep the open styles that are still wanted, up to the first one that is not.
            keep = 0
            while keep < len(open_styles) and open_styles[keep] in wanted:
                keep += 1
            close_to(keep)
            if not core:
                # Markers cannot open on whitespace: it waits for the next word, unstyled.
                pending_space += text
                continue
            lead = text[: len(text) - len(text.lstrip())]
            trail = text[len(text.rstrip()) :]
            parts.append(pending_space + lead)
            pending_space = ""
            for name in wanted:
                if name not in open_styles:
                    open_styles.append(name)
                    parts.append(_Marker(_MARKER_OF_STYLE[name], closing=False))
            parts.append(_escape_text(core))
            if flat:
                close_to(0)
            pending_space = trail
            continue
        close_to(0)
        parts.append(pending_space)
        pending_space = ""
        if kind == "CodeToken":
            if text:
                parts.append(_code_span(text))
        elif kind == "MathToken":
            latex = text.strip().replace("\n", " ")  # inline math is one line
            if latex:
                parts.append(f"${latex}$")
        elif kind == "LinkToken":
            parts.append(_render_link(token, entity_link))
        elif text:
            parts.append(_escape_text(text))
    close_to(0)
    parts.append(pending_space)
    return parts


def _reading(markdown: str) -> list[Any]:
    """What inline Markdown says, character by character; the style of spaces does not count."""
    blocks = markdown_to_blocks(markdown)
    reading: list[Any] = []
    for token in blocks[0].get("tokens", []) if blocks else []:
        if token["type"] != "TextToken":
            reading.append(token)
            continue
        style = frozenset(name for name, on in token["style"].items() if on)
        reading.extend((char, None if char.isspace() else style) for char in token["text"])
    return reading


# An empty HTML comment: shows as nothing, but splits marker runs CommonMark would misread.
_RUN_BREAK = "<!---->"


def _is_space(char: str) -> bool:
    return isWhiteSpace(ord(char))


def _is_punctuation(char: str) -> bool:
    return isMdAsciiPunct(ord(char)) or isPunctChar(char)


def _can_open(before: str, after: str) -> bool:
    """CommonMark's left-flanking rule, as markdown-it applies it to `*` and `~`."""
    return not (
        _is_space(after) or (_is_punctuation(after) and not (_is_space(before) or _is_punctuation(before)))
    )


def _can_close(before: str, after: str) -> bool:
    """CommonMark's right-flanking rule."""
    return not (
        _is_space(before) or (_is_punctuation(before) and not (_is_space(after) or _is_punctuation(after)))
    )


def _first_run(markers: str) -> str:
    return markers[: len(markers) - len(markers.lstrip(markers[0]))]


def _last_run(markers: str) -> str:
    return markers[len(markers.rstrip(markers[-1])) :]


def _would_stick(before: str, after: str) -> bool:
    """Neighbouring atoms that would read as something else: "`a``b`", "2$x$", "!" + "[l](u)"."""
    return (
        (before == after and before in "`$")
        or (before == "$" and after.isdigit())
        or (before.isdigit() and after == "$")
        or (before == "!" and after == "[")
    )


def _join_inline(parts: list[str | _Marker], *, strict: bool) -> tuple[str, bool]:
    """Join text and markers, breaking marker runs that would not parse back as written.

    "**a.**b" does not close (punctuation before, a letter after), "a**.b**" does not open, and
    "*a*" + "**b**" written together merge into one run. An empty comment between the marker
    and its neighbour fixes all three (and atoms that would stick together, see
    `_would_stick`); `markdown_to_blocks` drops it again. `strict` also breaks markers inside a
    word ("a*b*c"), which could otherwise both open and close. Also says whether any marker
    run can still both open and close (then only parsing tells what the text means).
    """
    items = [part for part in parts if part != ""]
    out: list[str] = []
    ambiguous = False
    index = 0
    while index < len(items):
        item = items[index]
        if isinstance(item, str):
            if out and _would_stick(out[-1][-1], item[0]):
                out.append(_RUN_BREAK)
            out.append(item)
            index += 1
            continue
        cluster: list[_Marker] = []
        while index < len(items):
            marker = items[index]
            if not isinstance(marker, _Marker):
                break
            cluster.append(marker)
            index += 1
        before = before_cluster = out[-1][-1] if out else " "
        following = items[index] if index < len(items) else ""
        after = following[0] if isinstance(following, str) and following else " "
        closers = "".join(marker.text for marker in cluster if marker.closing)
        openers = "".join(marker.text for marker in cluster if not marker.closing)
        pieces: list[str] = []
        if closers:
            last = _last_run(closers)
            last_before = closers[-len(last) - 1] if len(last) < len(closers) else before
            break_after = bool(openers) and openers[0] == closers[-1]
            last_after = "<" if break_after else (openers[:1] or after)
            if not _can_close(last_before, last_after) or (strict and _can_open(last_before, last_after)):
                break_after = True
            pieces += [closers, _RUN_BREAK] if break_after else [closers]
            before = pieces[-1][-1]
        if openers:
            first = _first_run(openers)
            first_after = openers[len(first)] if len(first) < len(openers) else after
            two_way = strict and _can_close(before, first_after)
            if (not _can_open(before, first_after) or two_way) and pieces[-1:] != [_RUN_BREAK]:
                pieces.append(_RUN_BREAK)
            pieces.append(openers)
        ambiguous = ambiguous or _has_two_way_run(before_cluster, "".join(pieces), after)
        out.extend(pieces)
    return "".join(out), ambiguous


def _has_two_way_run(before: str, markers: str, after: str) -> bool:
    """Whether a run of `*` or `~` in `markers` (between `before` and `after`) could both open
    and close emphasis."""
    text = before + markers + after
    for run in re.finditer(r"\*+|~+", markers):
        start, end = run.start() + len(before), run.end() + len(before)
        if _can_open(text[start - 1], text[end]) and _can_close(text[start - 1], text[end]):
            return True
    return False


def _render_link(token: Token, entity_link: EntityLinker) -> str:
    text = str(token.get("text", ""))
    url = token.get("url")
    entity_id = token.get("entityId")
    if not url and entity_id:
        target = entity_link(str(entity_id))
        if target is not None:
            url = target[1]
            text = text or target[0]
    if not url:
        return _escape_text(text)
    label = _escape_text(text.replace("\n", " ").strip()) or _escape_text(str(url))
    return f"[{label}]({_link_destination(str(url))})"


def _tidy_lines(markdown: str) -> str:
    """Per line: no edge whitespace, no accidental block syntax, empty lines kept as hard breaks."""
    markdown = markdown.strip()
    if not markdown:
        return ""
    lines = [_escape_line_start(line.strip()) for line in markdown.split("\n")]
    return "\n".join(line or "\\" for line in lines)


# --- blocks -> Markdown ------------------------------------------------------------------------


def blocks_to_markdown(blocks: list[Block], *, entity_link: EntityLinker) -> str:
    """Render readable (or writable) wire-form blocks as Markdown, blocks separated by a blank line.

    Object embeds and entity links become `[Title](url)` through `entity_link`; block types
    Markdown cannot show become an HTML comment, which `markdown_to_blocks` drops again.
    """
    return "\n".join(_render_sequence(blocks, entity_link))


def _flatten(blocks: Sequence[Block]) -> Iterator[Block]:
    """Containers Markdown has no syntax for (groups, grids) give up their children in order."""
    for block in blocks:
        kind = block.get("type")
        if kind == "GroupBlock":
            yield from _flatten(block.get("blocks") or [])
        elif kind == "GridBlock":
            for column in block.get("columns") or []:
                yield from _flatten(column)
        else:
            yield block


def _is_list_item(block: Block) -> bool:
    return (
        block.get("type") == "TextBlock"
        and bool(block.get("list") or block.get("todo"))
        and not block.get("quote")
    )


def _is_numbered(block: Block) -> bool:
    list_payload = block.get("list") or {}
    return not block.get("todo") and list_payload.get("type") in ("numerical", "alphabetical", "roman")


def _render_sequence(blocks: Sequence[Block], entity_link: EntityLinker) -> list[str]:
    lines: list[str] = []
    previous_in_list = False
    number = 0
    for block in _flatten(blocks):
        in_list = _is_list_item(block)
        number = (number + 1 if previous_in_list and number else 1) if _is_numbered(block) else 0
        rendered = _render_block(block, number, entity_link)
        if not rendered:
            continue
        if lines and not (in_list and previous_in_list):
            lines.append("")
        lines.extend(rendered)
        previous_in_list = in_list
    return lines


def _indent(lines: list[str], prefix: str) -> list[str]:
    return [prefix + line if line else "" for line in lines]


def _render_block(block: Block, number: int, entity_link: EntityLinker) -> list[str]:
    kind = block.get("type")
    if kind == "TextBlock":
        return _render_text_block(block, number, entity_link)
    if kind == "CodeBlock":
        return _render_code(str(block.get("lang") or ""), str(block.get("text") or ""))
    if kind == "MathBlock":
        return ["$$", *str(block.get("text") or "").split("\n"), "$$"]
    if kind == "HorizontalLineBlock":
        return ["---"]
    if kind == "EntityBlock":
        entity_id = block.get("entityId")
        target = entity_link(str(entity_id)) if entity_id else None
        if target is None:
            return []
        title, url = target
        return [f"[{_escape_text(title) or _escape_text(url)}]({_link_destination(url)})"]
    block_type = block.get("blockType") if kind == "unsupported" else kind
    return [f"<!-- unsupported block: {str(block_type).replace('--', '')} -->"]


def _render_text_block(block: Block, number: int, entity_link: EntityLinker) -> list[str]:
    tokens = list(block.get("tokens") or [])
    level = _hierarchy_level(block.get("hierarchy"))
    if level:
        # A heading is one line.
        tokens = [{**t, "text": str(t.get("text", "")).replace("\n", " ")} for t in tokens]
    text = tokens_to_markdown(tokens, entity_link=entity_link)
    if level:
        text = ("#" * level + " " + _escape_closing_hashes(text)).rstrip()
    todo = block.get("todo")
    if todo:
        marker = "- [x] " if todo.get("isDone") else "- [ ] "
    elif block.get("list"):
        marker = f"{number}. " if _is_numbered(block) else "- "
    else:
        marker = ""

    text_lines = text.split("\n") if text else []
    if marker:
        head = (marker + (text_lines[0] if text_lines else "")).rstrip()
        lines = [head, *_indent(text_lines[1:], _INDENT)]
    else:
        lines = text_lines

    children = list(block.get("blocks") or [])
    if children:
        child_lines = _render_sequence(children, entity_link)
        if marker:
            first_child = next(_flatten(children), None)
            glued = first_child is not None and _is_list_item(first_child)
            lines.extend(([] if glued else [""]) + _indent(child_lines, _INDENT))
        else:
            # A paragraph's indented children have no Markdown form: they follow it.
            lines.extend(([""] if lines else []) + child_lines)
    if block.get("quote") and lines:
        lines = [">" if not line else "> " + line for line in lines]
    return lines


def _hierarchy_level(hierarchy: Any) -> int:
    if not isinstance(hierarchy, dict):
        return 0
    key = str(hierarchy.get("key", "Base"))
    if key.startswith("H") and key[1:].isdigit():
        return max(1, min(int(key[1:]), _MAX_HEADING))
    return 0


def _escape_closing_hashes(text: str) -> str:
    # "# C#" would lose its "#" as an ATX closing sequence.
    match = re.search(r"(^|\s)(#+)$", text)
    if match is None:
        return text
    return text[: match.start(2)] + "\\" + text[match.start(2) :]


def _render_code(lang: str, text: str) -> list[str]:
    fence_char = "~" if "`" in lang else "`"
    longest = max((len(run) for run in re.findall(re.escape(fence_char) + "+", text)), default=0)
    fence = fence_char * max(3, longest + 1)
    return [fence + lang.replace("\n", " "), *(text.split("\n") if text else []), fence]
