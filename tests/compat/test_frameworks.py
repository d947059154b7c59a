"""One end-to-end run per agent framework, over stdio, against the sandbox (issue 9).

Each framework starts `capacities-mcp serve` the way its users do and runs the same sequence:
get_space → search_objects → get_object → append_blocks → get_object on a missing id. What is
asserted is what the *model* receives: our Markdown (in pydantic-ai at most 1.1x its length, the
issue's limit) on success, and the error's next-step advice on failure. No LLM is involved: each
framework is driven by a scripted model (pydantic-ai `FunctionModel`, an openai-agents `Model`)
or called as its users' code calls it (LangChain tools, fastmcp `Client`).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import Any

import fastmcp
import pytest
from agents import Agent, ModelResponse, ModelSettings, RunConfig, Runner, Usage
from agents.mcp import MCPServerStdio
from agents.models.interface import Model
from fastmcp.client.transports import StdioTransport
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText
from pydantic_ai import Agent as PydanticAgent
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.messages import ModelResponse as PydanticResponse
from pydantic_ai.models.function import AgentInfo, FunctionModel

from .helpers import (
    REPO_ROOT,
    SERVER_COMMAND,
    Reference,
    Step,
    agent_script,
    check_converted,
    list_tools,
    object_text,
    reference,
    server_args,
)
from .helpers_venv import framework_python

# langchain-mcp-adapters 0.3.2 requires mcp<2: it runs from its own venv (see helpers_venv).
LANGCHAIN_VENV = ("langchain-mcp-adapters==0.3.2", "langchain-core==1.8.3", "mcp==1.30.0")
MAX_SUCCESS_RATIO = 1.1  # model-visible success text / our Markdown text (issue 9)


@dataclass(frozen=True)
class Seen:
    """One tool result as the model receives it."""

    tool: str
    text: str
    is_error: bool | None  # None: the framework passes no error flag to the model


def assert_model_read(seen: list[Seen], ref: Reference, steps: list[Step]) -> None:
    """The checks every framework must pass, whatever its wrapping."""
    assert [s.tool for s in seen] == [step.tool for step in steps], seen
    *reads, append, failure = seen
    for read in reads:
        ours = ref.texts[read.tool]
        assert read.is_error in (False, None), read
        assert ours in read.text, f"{read.tool}: the model did not get our Markdown:\n{read.text[:500]}"
        assert len(read.text) <= MAX_SUCCESS_RATIO * len(ours), (read.tool, len(read.text), len(ours))
    assert append.is_error in (False, None) and append.text.strip(), append
    assert not append.text.lstrip().startswith("{"), f"append_blocks reached the model as JSON: {append.text}"
    assert failure.is_error in (True, None), failure
    readable = readable_text(failure.text)
    assert ref.error_next_step and ref.error_next_step in readable, (
        f"the next-step advice did not reach the model:\n{failure.text}"
    )
    assert "not found" in readable.lower(), failure.text


def readable_text(text: str) -> str:
    """The text a model reads in `text`, JSON layers decoded (pydantic-ai hands an error over as
    JSON whose strings may hold JSON again): every string in it, one per line."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, str):
        return readable_text(value)
    if isinstance(value, dict):
        return "\n".join(readable_text(json.dumps(item)) for item in value.values())
    if isinstance(value, list):
        return "\n".join(readable_text(json.dumps(item)) for item in value)
    return text


async def assert_written(env: dict[str, str], ref: Reference, marker: str) -> None:
    assert marker in await object_text(env, ref.task_id), "append_blocks did not reach the space"


# --- pydantic-ai --------------------------------------------------------------------------------


def _scripted_function(steps: list[Step]) -> Any:
    """A FunctionModel function: one tool call per turn, in order, then a final answer."""

    def respond(messages: list[ModelMessage], _info: AgentInfo) -> PydanticResponse:
        turn = sum(isinstance(message, PydanticResponse) for message in messages)
        if turn < len(steps):
            step = steps[turn]
            return PydanticResponse(
                parts=[ToolCallPart(step.tool, step.arguments, tool_call_id=f"call-{turn}")]
            )
        return PydanticResponse(parts=[TextPart("done")])

    return respond


def _pydantic_seen(messages: list[ModelMessage]) -> list[Seen]:
    seen = []
    for message in messages:
        if not isinstance(message, ModelRequest):
            continue
        for part in message.parts:
            if isinstance(part, ToolReturnPart):  # a failed call too: outcome "retried" or "failed"
                seen.append(Seen(part.tool_name, part.model_response_str(), part.outcome != "success"))
            elif isinstance(part, RetryPromptPart) and part.tool_name:
                seen.append(Seen(part.tool_name, part.model_response(), True))
    return seen


async def test_pydantic_ai_agent(env: dict[str, str]) -> None:
    """`MCPToolset` prefers structured content: by default there is none, so the model reads our
    Markdown; on an error it reads the structured payload only, which must carry the advice."""
    ref = await reference(env)
    marker = "compat check from pydantic-ai"
    steps = agent_script(ref.task_id, marker)
    # A generous start-up allowance: 2 shared cores start a Python server slower than 5 s at times.
    toolset = MCPToolset(StdioTransport(SERVER_COMMAND, server_args(), env=env), init_timeout=30)
    agent = PydanticAgent(FunctionModel(_scripted_function(steps)), toolsets=[toolset])
    result = await agent.run("Look at the Q3 planning task and add a to-do to it.")
    assert_model_read(_pydantic_seen(result.all_messages()), ref, steps)
    await assert_written(env, ref, marker)


# --- openai-agents ------------------------------------------------------------------------------


class ScriptedModel(Model):
    """Calls the steps' tools in order the way a strict model must: every parameter sent, null
    for each optional one not wanted (strict schemas make them all required)."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps
        self.turn = 0
        self.strict_flags: dict[str, bool] = {}
        self.final_input: list[Any] = []

    async def get_response(
        self,
        system_instructions: str | None,
        input: Any,
        model_settings: ModelSettings,
        tools: list[Any],
        output_schema: Any,
        handoffs: list[Any],
        tracing: Any,
        **_: Any,
    ) -> ModelResponse:
        self.strict_flags = {tool.name: tool.strict_json_schema for tool in tools}
        turn, self.turn = self.turn, self.turn + 1
        if turn >= len(self.steps):
            self.final_input = list(input)
            text = ResponseOutputText(type="output_text", text="done", annotations=[])
            message = ResponseOutputMessage(
                id="msg-final", type="message", role="assistant", status="completed", content=[text]
            )
            return ModelResponse(output=[message], usage=Usage(), response_id=None)
        step = self.steps[turn]
        tool = next(tool for tool in tools if tool.name == step.tool)
        arguments = {name: None for name in tool.params_json_schema["properties"]} | step.arguments
        call = ResponseFunctionToolCall(
            type="function_call",
            id=f"fc-{turn}",
            call_id=f"call-{turn}",
            name=step.tool,
            arguments=json.dumps(arguments),
            status="completed",
        )
        return ModelResponse(output=[call], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the scripted model does not stream")


def _output_text(output: Any) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, dict):
        return str(output.get("text", ""))
    return "\n".join(_output_text(item) for item in output)


def _agents_seen(model: ScriptedModel) -> list[Seen]:
    calls = {
        item["call_id"]: item["name"] for item in model.final_input if item.get("type") == "function_call"
    }
    return [
        Seen(calls[item["call_id"]], _output_text(item["output"]), None)
        for item in model.final_input
        if item.get("type") == "function_call_output"
    ]


async def test_openai_agents_runner(env: dict[str, str]) -> None:
    """`convert_schemas_to_strict=True`: every tool must go strict (no silent fallback), and
    the nulls a strict model sends for optional parameters must mean "not given"."""
    ref = await reference(env)
    marker = "compat check from openai-agents"
    steps = agent_script(ref.task_id, marker)
    model = ScriptedModel(steps)
    server = MCPServerStdio(
        params={"command": SERVER_COMMAND, "args": server_args(), "env": env},
        name="capacities",
        client_session_timeout_seconds=30,
    )
    async with server:
        agent = Agent(
            name="capacities-check",
            model=model,
            mcp_servers=[server],
            mcp_config={"convert_schemas_to_strict": True},
        )
        await Runner.run(agent, "Look at the Q3 planning task.", run_config=RunConfig(tracing_disabled=True))
    not_strict = [name for name, strict in model.strict_flags.items() if not strict]
    assert model.strict_flags and not not_strict, f"sent non-strict (conversion fell back): {not_strict}"
    assert_model_read(_agents_seen(model), ref, steps)
    await assert_written(env, ref, marker)


# --- langchain-mcp-adapters ---------------------------------------------------------------------


@pytest.mark.timeout(900)  # the first run builds the adapters' venv
async def test_langchain_mcp_adapters(env: dict[str, str]) -> None:
    """The adapters' tools invoked as LangChain tools (as an agent's tool node does), and
    converted by `bind_tools(strict=True)`'s converter. The error's structured payload is dropped
    there (`artifact=None`), so the advice must be in the text."""
    ref = await reference(env)
    marker = "compat check from langchain"
    steps = agent_script(ref.task_id, marker)
    python = framework_python("langchain-mcp-adapters", LANGCHAIN_VENV)
    job = {
        "command": SERVER_COMMAND,
        "args": server_args(),
        "env": env,
        "steps": [{"tool": step.tool, "arguments": step.arguments} for step in steps],
    }
    driver = REPO_ROOT / "tests" / "compat" / "_langchain_driver.py"
    completed = subprocess.run(
        [str(python), str(driver)], input=json.dumps(job), capture_output=True, text=True, timeout=180
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    seen = [Seen(s["tool"], s["text"], s["status"] == "error") for s in report["seen"]]
    assert_model_read(seen, ref, steps)
    await assert_written(env, ref, marker)
    ours = {tool["name"]: tool["inputSchema"] for tool in await list_tools((), env)}
    assert sorted(report["strict_tools"]) == sorted(ours)
    problems = [
        f"{name}: {problem}"
        for name, function in report["strict_tools"].items()
        for problem in check_converted(ours[name], function["parameters"])
    ]
    assert not problems, "\n".join(problems)


# --- fastmcp ------------------------------------------------------------------------------------


async def _fastmcp_run(env: dict[str, str], steps: list[Step], *options: str) -> list[Any]:
    async with fastmcp.Client(
        StdioTransport(SERVER_COMMAND, server_args(*options), env=env), init_timeout=30
    ) as client:
        return [await client.call_tool(s.tool, s.arguments, raise_on_error=False) for s in steps]


def _fastmcp_text(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def test_fastmcp_client(env: dict[str, str]) -> None:
    """Default configuration: Markdown only on success; an error always carries its payload."""
    ref = await reference(env)
    marker = "compat check from fastmcp"
    steps = agent_script(ref.task_id, marker)
    results = await _fastmcp_run(env, steps)
    seen = [Seen(step.tool, _fastmcp_text(r), r.is_error) for step, r in zip(steps, results, strict=True)]
    assert_model_read(seen, ref, steps)
    *successes, failure = results
    assert all(r.structured_content is None for r in successes), [r.structured_content for r in successes]
    error = (failure.structured_content or {}).get("error", {})
    assert {"code", "status", "message", "next_step"} <= error.keys(), failure.structured_content
    assert error["next_step"] == ref.error_next_step
    await assert_written(env, ref, marker)


async def test_fastmcp_client_structured_output(env: dict[str, str]) -> None:
    """`--structured-output`: the typed form comes with the text, checked by fastmcp against
    the published output schema; errors look the same as without the option."""
    ref = await reference(env)
    steps = agent_script(ref.task_id, "compat check from fastmcp, structured")
    results = await _fastmcp_run(env, steps, "--structured-output")
    *successes, failure = results
    for step, result in zip(steps, successes, strict=False):
        assert not result.is_error, _fastmcp_text(result)
        assert isinstance(result.structured_content, dict) and result.structured_content, step.tool
        assert "error" not in result.structured_content
        assert result.data is not None, f"{step.tool}: fastmcp could not read the structured content"
    for step, result in zip(steps[:3], successes, strict=False):
        assert ref.texts[step.tool] in _fastmcp_text(result)
    assert (
        failure.is_error and (failure.structured_content or {})["error"]["next_step"] == ref.error_next_step
    )
