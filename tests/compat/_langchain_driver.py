"""Worker script: langchain-mcp-adapters against our server, run inside its own venv (mcp<2).

Not a test module: tests/compat/test_frameworks.py starts it with the venv's interpreter, a JSON
job on stdin (the server command and environment, and the steps to run), and reads one JSON
report on stdout: the tools as `bind_tools(strict=True)` would send them, and for each step what
the model would read (the ToolMessage content) and its status. Only the standard library,
langchain-core and the adapters are used here: our own package is not installed in that venv.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.tools import load_mcp_tools


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(block.get("text", "") for block in content if isinstance(block, dict))


async def _run(job: dict[str, Any]) -> dict[str, Any]:
    connection = {"transport": "stdio", "command": job["command"], "args": job["args"], "env": job["env"]}
    client = MultiServerMCPClient({"capacities": connection})
    async with client.session("capacities") as session:
        tools = {tool.name: tool for tool in await load_mcp_tools(session)}
        strict = {name: convert_to_openai_tool(tool, strict=True)["function"] for name, tool in tools.items()}
        seen = []
        for index, step in enumerate(job["steps"]):
            call = {
                "type": "tool_call",
                "id": f"call-{index}",
                "name": step["tool"],
                "args": step["arguments"],
            }
            message = await tools[step["tool"]].ainvoke(call)
            seen.append(
                {
                    "tool": step["tool"],
                    "text": _text(message.content),
                    "status": message.status,
                    "artifact": message.artifact,
                }
            )
    return {"strict_tools": strict, "seen": seen}


def main() -> None:
    job = json.load(sys.stdin)
    report = asyncio.run(_run(job))
    json.dump(report, sys.stdout, default=str)


if __name__ == "__main__":
    main()
