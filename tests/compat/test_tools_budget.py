"""tools/list within its token budget (issue 9): every agent pays it on every request.

Counted exactly as `bench/tools_list_tokens.py` reports it (o200k_base tokens of each tool's
compact JSON: name, title, description, inputSchema, outputSchema when present, annotations),
with the tokenizer data shipped in the `bpe-openai` wheel, so nothing is downloaded.
"""

from __future__ import annotations

import anyio
import pytest

from .helpers import BUDGETS, CONFIGURATIONS, list_tools, tool_tokens


@pytest.mark.parametrize("configuration", list(BUDGETS))
def test_tools_list_within_budget(configuration: str) -> None:
    tools = anyio.run(list_tools, CONFIGURATIONS[configuration])
    costs = {tool["name"]: tool_tokens(tool) for tool in tools}
    total = sum(costs.values())
    by_cost = ", ".join(f"{name} {tokens}" for name, tokens in sorted(costs.items(), key=lambda c: -c[1]))
    assert total <= BUDGETS[configuration], f"{total} tokens > {BUDGETS[configuration]}: {by_cost}"


def test_the_measure_counts_every_field_a_model_is_shown() -> None:
    """A guard on the measure itself: a longer description or schema must cost more tokens."""
    tool = {"name": "t", "title": "T", "description": "Reads one object.", "inputSchema": {"type": "object"}}
    longer = {**tool, "description": tool["description"] * 3}
    with_output = {**tool, "outputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}
    ignored = {**tool, "_meta": {"anything": "not shown to the model"}}
    assert tool_tokens(longer) > tool_tokens(tool)
    assert tool_tokens(with_output) > tool_tokens(tool)
    assert tool_tokens(ignored) == tool_tokens(tool)
