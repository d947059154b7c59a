"""JSON on the wire as a JavaScript server reads and writes it.

The official server parses bodies with `JSON.parse`, so three things differ from Python's
`json` defaults, and the sandbox copies them:

* `5.0` is the number 5: zod's `int()` accepts it. Integral floats are read as ints.
* `1e400` is `Infinity`, which every number rule rejects: it must be a 400 naming the field,
  never a 500. Non-finite numbers become `NON_FINITE`, which no model accepts. The bare
  literals `NaN` / `Infinity` are not JSON at all.
* A lone UTF-16 surrogate (`"\\ud800"`) is a valid JS string, echoed back escaped. Python
  keeps it, but pydantic and UTF-8 cannot, so on the way in each lone surrogate is mapped to
  a code point of Supplementary Private Use Area-B (U+10F000 + offset), stored as such, and
  written back out as its `\\udXXX` escape.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from starlette.responses import JSONResponse

__all__ = ["NON_FINITE", "WireJSONResponse", "parse_json"]

_SURROGATE = re.compile("[\ud800-\udfff]")
_SENTINEL = re.compile("[\U0010f000-\U0010f7ff]")
_SENTINEL_BASE = 0x10F000
_SAFE_INTEGER = 2**53


class _NonFinite:
    """Stands in for Infinity: no request model accepts it, so the error names the field."""

    def __repr__(self) -> str:
        return "Infinity"


# Validators that name the received type print this: `typeof Infinity` is "number" in JS.
_NonFinite.__name__ = "number"
NON_FINITE = _NonFinite()


def _number(text: str) -> Any:
    value = float(text)
    if not math.isfinite(value):
        return NON_FINITE
    if value.is_integer() and abs(value) < _SAFE_INTEGER:
        return int(value)
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _hide_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub(lambda m: chr(_SENTINEL_BASE + ord(m.group()) - 0xD800), value)
    if isinstance(value, list):
        return [_hide_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_hide_surrogates(k): _hide_surrogates(v) for k, v in value.items()}
    return value


def parse_json(raw: bytes) -> Any:
    """`JSON.parse` semantics; ValueError (or UnicodeDecodeError) when it is not JSON."""
    data = json.loads(raw.decode("utf-8"), parse_float=_number, parse_constant=_no_constants)
    return _hide_surrogates(data)


class WireJSONResponse(JSONResponse):
    """Renders stored sentinels back as the lone-surrogate escapes the client sent."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        text = _SENTINEL.sub(lambda m: "\\u%04x" % (ord(m.group()) - _SENTINEL_BASE + 0xD800), text)
        return text.encode("utf-8")
