"""The token budgets of tool results: a page of content, the largest page, the ceiling.

Sizes are estimated by `capacities_mcp._tokens` (re-exported here: `estimate_tokens`,
`token_end`, `token_span`), the same estimate the mirror's sizes use.
"""

from __future__ import annotations

from capacities_mcp._tokens import estimate_tokens, token_end, token_span

__all__ = [
    "PAGE_TOKENS",
    "PAGE_TOKENS_MAX",
    "RESULT_TOKENS_MAX",
    "estimate_tokens",
    "token_end",
    "token_span",
]

PAGE_TOKENS = 8_000
"""A page of content when the caller does not ask for another size."""

PAGE_TOKENS_MAX = 12_000
"""The largest page a caller may ask for: with the header, still well inside the ceiling."""

RESULT_TOKENS_MAX = 16_000
"""Estimated tokens no tool result goes beyond: 20,000 real tokens with a margin for the estimate."""
