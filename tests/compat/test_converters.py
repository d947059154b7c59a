"""Every tool, in every server configuration, through the real schema converters of the agent
frameworks (issue 9): openai-agents strict mode, google-genai's MCP conversion, LangChain's strict
OpenAI tools, pydantic-ai's OpenAI and Google transformers.

For each: no crash and no silent fallback, no open object left (a strict model cannot fill one),
every property still there, and every optional parameter still accepts null after conversion
(strict converters make all parameters required, so null is how a model says "not given").
Problems are collected per configuration, so one run names every tool and rule that fails.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from agents.mcp import MCPServerStdio, MCPUtil
from agents.strict_schema import ensure_strict_json_schema
from google.genai import _mcp_utils as genai_mcp
from google.genai import types as genai_types
from langchain_core.tools import StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from mcp.types import Tool
from pydantic_ai.profiles.google import GoogleJsonSchemaTransformer
from pydantic_ai.profiles.openai import OpenAIJsonSchemaTransformer

from .helpers import (
    CONFIGURATIONS,
    SERVER_COMMAND,
    accepts_null,
    check_converted,
    gemini_accepts_null,
    list_tools,
    open_objects,
    optional_parameters,
    property_paths,
    server_args,
)

ToolJson = dict[str, Any]


@pytest.fixture(scope="module")
def tools_by_configuration() -> dict[str, list[ToolJson]]:
    """tools/list of each configuration, listed once for the module."""
    return {name: anyio.run(list_tools, args) for name, args in CONFIGURATIONS.items()}


def _each_tool(tools: list[ToolJson], check: Callable[[ToolJson], list[str]]) -> list[str]:
    problems = []
    for tool in tools:
        try:
            found = check(tool)
        except Exception as exc:  # a converter that crashes is exactly what we look for
            found = [f"crashed: {type(exc).__name__}: {exc}"]
        problems.extend(f"{tool['name']}: {problem}" for problem in found)
    return problems


def _report(problems: list[str]) -> str:
    return "\n".join(problems)


CONFIGS = pytest.mark.parametrize("configuration", list(CONFIGURATIONS))

BOOLEAN_ADDITIONAL_PROPERTIES = (
    "(google-genai walks additionalProperties as a schema: any boolean there, false included, "
    "crashes it; the other converters close objects themselves when the keyword is absent)"
)


@CONFIGS
def test_input_schemas_are_closed_and_optionals_nullable(
    tools_by_configuration: dict[str, list[ToolJson]], configuration: str
) -> None:
    def check(tool: ToolJson) -> list[str]:
        schema = tool["inputSchema"]
        problems = [f"open: {where}" for where in open_objects(schema)]
        problems += [
            f"optional '{name}' is not nullable"
            for name in optional_parameters(schema)
            if not accepts_null(schema["properties"][name], schema)
        ]
        return problems

    assert not (problems := _each_tool(tools_by_configuration[configuration], check)), _report(problems)


@CONFIGS
def test_openai_agents_strict_conversion(
    tools_by_configuration: dict[str, list[ToolJson]], configuration: str
) -> None:
    """`MCPServerStdio(convert_schemas_to_strict=True)`: strict, or a logged fallback we refuse."""
    server = MCPServerStdio(params={"command": SERVER_COMMAND, "args": server_args()}, name="capacities")

    def check(tool: ToolJson) -> list[str]:
        ensure_strict_json_schema(copy.deepcopy(tool["inputSchema"]))  # raises on what it cannot close
        function_tool = MCPUtil.to_function_tool(
            Tool.model_validate(tool), server, convert_schemas_to_strict=True
        )
        problems = [] if function_tool.strict_json_schema else ["fell back to a non-strict schema"]
        return problems + check_converted(tool["inputSchema"], function_tool.params_json_schema)

    assert not (problems := _each_tool(tools_by_configuration[configuration], check)), _report(problems)


@CONFIGS
def test_google_genai_mcp_conversion(
    tools_by_configuration: dict[str, list[ToolJson]], configuration: str
) -> None:
    """`mcp_to_gemini_tools` converts the whole list at once: one bad schema breaks every tool."""
    tools = tools_by_configuration[configuration]
    crash = None
    try:
        genai_mcp.mcp_to_gemini_tools([Tool.model_validate(tool) for tool in tools])
    except Exception as exc:
        crash = f"the list conversion crashed: {type(exc).__name__}: {exc}"
    problems = [*filter(None, [crash]), *_each_tool(tools, _gemini_problems)]  # names the culprits
    if any("'bool' object has no attribute 'items'" in problem for problem in problems):
        problems.append(BOOLEAN_ADDITIONAL_PROPERTIES)
    assert not problems, _report(problems)


def _gemini_problems(tool: ToolJson) -> list[str]:
    """One tool through `mcp_to_gemini_tool`: closed objects, nullable optionals, nothing lost.

    Note: this converter crashes on any boolean `additionalProperties` (false included), so a
    schema it accepts closes its objects by declaring properties, not with that keyword.
    """
    (declaration,) = genai_mcp.mcp_to_gemini_tool(Tool.model_validate(tool)).function_declarations or []
    assert declaration.parameters is not None
    converted = declaration.parameters.model_dump(mode="json", exclude_none=True)
    problems = [f"open: {where}" for where in open_objects(converted)]
    for name in optional_parameters(tool["inputSchema"]):
        prop = (converted.get("properties") or {}).get(name)
        if prop is None or not gemini_accepts_null(prop):
            problems.append(f"optional '{name}' is not nullable for Gemini")
    lost = set(property_paths(tool["inputSchema"])) - set(property_paths(converted))
    return problems + ([f"properties lost: {sorted(lost)}"] if lost else [])


@CONFIGS
def test_google_genai_function_declaration(
    tools_by_configuration: dict[str, list[ToolJson]], configuration: str
) -> None:
    """The other Gemini path: the JSON schema passed as is (`parameters_json_schema`)."""

    def check(tool: ToolJson) -> list[str]:
        declaration = genai_types.FunctionDeclaration(
            name=tool["name"],
            description=tool.get("description"),
            parameters_json_schema=tool["inputSchema"],
        )
        sent = declaration.model_dump(mode="json", exclude_none=True)["parameters_json_schema"]
        return [] if sent == tool["inputSchema"] else ["schema changed on the way"]

    assert not (problems := _each_tool(tools_by_configuration[configuration], check)), _report(problems)


@CONFIGS
def test_langchain_strict_openai_tool(
    tools_by_configuration: dict[str, list[ToolJson]], configuration: str
) -> None:
    """A tool as langchain-mcp-adapters builds it, bound the way `bind_tools(strict=True)` does;
    and the same schema given as a plain OpenAI-format dict."""

    def check(tool: ToolJson) -> list[str]:
        async def never_called(**_: Any) -> str:
            raise AssertionError("only converted here")

        lc_tool = StructuredTool(
            name=tool["name"],
            description=tool.get("description") or "",
            args_schema=copy.deepcopy(tool["inputSchema"]),
            coroutine=never_called,
            response_format="content_and_artifact",
        )
        from_tool = convert_to_openai_tool(lc_tool, strict=True)["function"]["parameters"]
        as_dict = {"name": tool["name"], "description": "", "parameters": tool["inputSchema"]}
        from_dict = convert_to_openai_tool(as_dict, strict=True)["function"]["parameters"]
        return [f"from a tool: {p}" for p in check_converted(tool["inputSchema"], from_tool)] + [
            f"from a dict: {p}" for p in check_converted(tool["inputSchema"], from_dict)
        ]

    assert not (problems := _each_tool(tools_by_configuration[configuration], check)), _report(problems)


@CONFIGS
def test_pydantic_ai_openai_transformer(
    tools_by_configuration: dict[str, list[ToolJson]], configuration: str
) -> None:
    """Both ways pydantic-ai sends a tool to OpenAI: as is (`strict=None`, what MCP tools get,
    since a tool with optional parameters is never "strict-compatible" there) and forced strict."""

    def check(tool: ToolJson) -> list[str]:
        schema = tool["inputSchema"]
        default = OpenAIJsonSchemaTransformer(copy.deepcopy(schema), strict=None).walk()
        strict = OpenAIJsonSchemaTransformer(copy.deepcopy(schema), strict=True).walk()
        return [f"as is: {p}" for p in check_converted(schema, default)] + [
            f"strict: {p}" for p in check_converted(schema, strict)
        ]

    assert not (problems := _each_tool(tools_by_configuration[configuration], check)), _report(problems)


@CONFIGS
def test_pydantic_ai_google_transformer(
    tools_by_configuration: dict[str, list[ToolJson]], configuration: str
) -> None:
    def check(tool: ToolJson) -> list[str]:
        converted = GoogleJsonSchemaTransformer(copy.deepcopy(tool["inputSchema"])).walk()
        return check_converted(tool["inputSchema"], converted)

    assert not (problems := _each_tool(tools_by_configuration[configuration], check)), _report(problems)


@CONFIGS
def test_output_schemas_only_with_structured_output(
    tools_by_configuration: dict[str, list[ToolJson]], configuration: str
) -> None:
    """By default a model reads the Markdown only; `--structured-output` adds the typed form."""
    wanted = "--structured-output" in CONFIGURATIONS[configuration]
    tools = tools_by_configuration[configuration]
    assert tools, "no tools listed"
    with_schema = [tool["name"] for tool in tools if "outputSchema" in tool]
    assert with_schema == ([tool["name"] for tool in tools] if wanted else []), with_schema
    for tool in tools:
        if wanted:  # the schema is a real contract, not a placeholder
            assert tool["outputSchema"].get("properties"), json.dumps(tool["outputSchema"])[:300]


def test_structured_output_from_the_environment() -> None:
    """Hosts that can set env but not flags: CAPACITIES_MCP_STRUCTURED_OUTPUT=1."""
    env = {
        "CAPACITIES_API_TOKEN": "not-a-real-token",
        "CAPACITIES_API_URL": "http://127.0.0.1:9",
        "CAPACITIES_MCP_STRUCTURED_OUTPUT": "1",
    }
    tools = anyio.run(list_tools, (), env)
    assert tools and all("outputSchema" in tool for tool in tools), [t["name"] for t in tools]
