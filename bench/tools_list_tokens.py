"""What does tools/list cost an agent, in o200k_base tokens, per tool and per configuration?

Every agent pays for the whole tool list on every request, so this is the fixed price of
connecting the server. Measured the way issue 9 states the budget: for each tool, the compact
JSON (`separators=(",", ":")`) of its name, title, description, inputSchema, outputSchema (when
present) and annotations, as the MCP wire form has them; summed per configuration. Budgets:
<= 4,000 tokens for the full set, <= 1,500 with --read-only (enforced by
tests/compat/test_tools_budget.py, which imports this module). Tokens come from the `bpe-openai`
wheel, which ships the o200k_base data: nothing is downloaded.

    python bench/tools_list_tokens.py
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import anyio
import bpe_openai
from mcp import Client

from capacities_mcp.cli import build_parser
from capacities_mcp.server import build_app, resolve_settings
from capacities_mcp.server.tools import TOOLSETS

__all__ = [
    "BUDGETS",
    "CONFIGURATIONS",
    "COST_FIELDS",
    "list_tools",
    "tool_tokens",
]

COST_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")

# Every way the server can be started that changes the tool list (`capacities-mcp serve ...`).
CONFIGURATIONS: dict[str, tuple[str, ...]] = {
    "full": (),
    "read-only": ("--read-only",),
    **{f"toolset {name}": ("--toolsets", name) for name in TOOLSETS},
    "structured-output": ("--structured-output",),
    "read-only, structured-output": ("--read-only", "--structured-output"),
}

BUDGETS: dict[str, int] = {"full": 4000, "read-only": 1500}

# Tools are only listed, never called: the client inside is never used, so any loopback URL does.
_LISTING_ENV = {"CAPACITIES_API_TOKEN": "not-a-real-token", "CAPACITIES_API_URL": "http://127.0.0.1:9"}


async def list_tools(args: Sequence[str], env: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """tools/list of `capacities-mcp serve <args>`, as wire JSON, through a real in-memory client.

    The app is built the way the CLI builds it (same parser, same settings resolution), so a
    configuration here is exactly what a host gets with those options.
    """
    namespace = build_parser().parse_args(["serve", *args])
    app = build_app(resolve_settings(namespace, env if env is not None else _LISTING_ENV))
    async with Client(app.server) as client:
        tools = (await client.list_tools()).tools
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]


@cache
def _encoding() -> bpe_openai.Encoding:
    return bpe_openai.get_encoding("o200k_base")


def tool_tokens(tool: Mapping[str, Any]) -> int:
    """o200k_base tokens of one tool's compact JSON (only the fields a model is shown)."""
    shown = {key: tool[key] for key in COST_FIELDS if key in tool}
    return len(_encoding().encode(json.dumps(shown, separators=(",", ":"))))


async def _report() -> None:
    logging.getLogger("capacities_mcp").setLevel(logging.WARNING)  # no start-up chatter per config
    totals: dict[str, tuple[int, int]] = {}
    per_tool: dict[str, dict[str, int]] = {}
    for name, args in CONFIGURATIONS.items():
        tools = await list_tools(args)
        costs = {tool["name"]: tool_tokens(tool) for tool in tools}
        totals[name] = (len(tools), sum(costs.values()))
        per_tool[name] = costs
    print(f"{'configuration':32} {'tools':>5} {'tokens':>7} {'budget':>7}")
    for name, (count, tokens) in totals.items():
        budget = f"{BUDGETS[name]:,}" if name in BUDGETS else "-"
        print(f"{name:32} {count:5} {tokens:7,} {budget:>7}")
    print()
    plain, structured = per_tool["full"], per_tool["structured-output"]
    print(f"{'tool':24} {'tokens':>7} {'with --structured-output':>25}")
    for tool, tokens in plain.items():
        print(f"{tool:24} {tokens:7,} {structured.get(tool, 0):25,}")


if __name__ == "__main__":
    anyio.run(_report)
