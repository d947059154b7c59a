"""How many tokens a text costs a model, estimated cheaply, and where a token budget ends in it.

Shared by the server (result sizes and pages) and the mirror (the sizes it shows in listings),
so a size means the same wherever the model sees it; here, at the top of the package, because
the mirror may not import the server.

Results are sized in tokens because that is what a model pays: 60,000 characters of Chinese
cost about ten times the tokens of 60,000 characters of English. No tokenizer runs here (each
model family has its own, and none ships with the server); the text is cut into the pieces a
BPE tokenizer's pre-split makes (words, digit groups, punctuation runs, line breaks, CJK runs)
and each piece is priced by its script. The prices were fitted to o200k_base on the demo
space's tool results and on prose in six languages, and tests/server/test_tokens.py holds them
to a tolerance band. They lean high where a script's real cost varies most (CJK, symbols,
emoji), so a page sized by the estimate stays inside the result ceiling.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["estimate_tokens", "token_end", "token_span"]

# CJK ideographs, kana and hangul: about one token a character in real prose (rare characters
# cost two, common words less). Letters of other scripts (Cyrillic, Greek, accented Latin)
# are words priced by length, ASCII words by theirs.
_CJK = "\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_PIECES = re.compile(
    rf"""
     (?P<cjk>[ ]?[{_CJK}]+)
    |(?P<ascii>[ ]?(?:[A-Z]*[a-z]+|[A-Z]+))
    |(?P<word>[ ]?[^\W\d_{_CJK}]+)
    |(?P<digits>\d+)
    |(?P<newline>\s*\n)
    |(?P<space>\s+)
    |(?P<punct>[ ]?[!-/:-@\[-`{{-~]+)
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _price(kind: str | None, piece: str) -> float:
    """Estimated tokens of one piece (the prices of the module docstring)."""
    length = len(piece.lstrip(" "))
    if kind == "ascii":  # a word of up to 12 letters is one or two tokens; longer runs are codes
        return 1.0 + 0.22 * max(0, length - 6) if length <= 12 else 0.35 * length
    if kind == "cjk":
        return float(length)
    if kind == "word":
        return 1.0 + 0.12 * length if length <= 10 else 0.5 * length
    if kind == "digits":
        return 1.2 * -(-length // 3)
    if kind == "newline":
        return 0.45 + 0.5 * (len(piece) - 1)
    if kind == "space":
        return 0.55 + 0.1 * (len(piece) - 1)
    if kind == "punct":
        return 0.5 + 0.1 * length if length <= 3 else 0.3 * length
    return 2.5 if ord(piece) > 0xFFFF else 1.0  # emoji and other symbols


def _priced(text: str, start: int = 0) -> Iterator[tuple[int, int, float]]:
    """(start, end, price) of each piece of `text` from `start` on, in order."""
    for match in _PIECES.finditer(text, start):
        yield match.start(), match.end(), _price(match.lastgroup, match.group())


def estimate_tokens(text: str) -> int:
    """About how many tokens `text` costs a model (o200k_base-like), rounded up."""
    # No positions here (only `token_span` needs them): a third less time on a long text.
    return -int(-sum(_price(match.lastgroup, match.group()) for match in _PIECES.finditer(text)) // 1)


def token_end(text: str, start: int, budget: int) -> int:
    """The end of the longest run of `text` from `start` that fits in `budget` estimated tokens.

    Pieces are kept whole when they fit; a single piece too long for what is left (a 10,000-letter
    "word") is cut by its average price per character, so even a text without any separator
    pages. Always moves forward at least one character while text remains.
    """
    return token_span(text, start, budget)[0]


def token_span(text: str, start: int, budget: int) -> tuple[int, float]:
    """`token_end`, and the estimated tokens of the run it ends (a page's density, measured once)."""
    spent = 0.0
    for begin, end, price in _priced(text, start):
        if spent + price <= budget:
            spent += price
            continue
        cut = max(begin + int((budget - spent) / price * (end - begin)), start + 1)
        return cut, spent + price * (cut - begin) / (end - begin)
    return len(text), spent
