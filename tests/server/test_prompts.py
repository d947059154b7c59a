"""Prompts: the shipped `prompts/*.md` files, their parsing, rendering and errors over MCP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mcp import Client, MCPError

from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server._app import build_app
from capacities_mcp.server._prompts import (
    ENV_PROMPTS_DIR,
    PromptFileError,
    load_prompt_specs,
    parse_prompt_file,
    render_template,
    shipped_prompts_dir,
)
from capacities_mcp.server._settings import Settings
from capacities_mcp.server.tools import TOOLSETS

from .helpers_process import REPO_ROOT

MODES = ["auto", "legacy"]
ALL_TOOLS = {name for names in TOOLSETS.values() for name in names}
SHIPPED = {"capture_meeting_notes", "summarize_object", "plan_week", "save_web_page", "daily_review"}


def test_shipped_prompts_are_found_and_valid() -> None:
    # The package finds them through capacities_mcp/prompts, a link to the top-level prompts/.
    found = shipped_prompts_dir()
    assert found is not None and found.resolve() == (REPO_ROOT / "prompts").resolve()
    specs = {spec.name: spec for spec in load_prompt_specs()}
    assert set(specs) >= SHIPPED
    for spec in specs.values():
        assert spec.description and spec.template.strip()
        # every tool a prompt relies on exists, so no prompt silently disappears
        assert set(spec.tools) <= ALL_TOOLS, (spec.name, set(spec.tools) - ALL_TOOLS)
        # every tool the text tells the model to call exists, and is required by the prompt
        named = set(
            re.findall(r"`((?:get|search|list|create|update|delete|append|save)_[a-z_]+)`", spec.template)
        )
        assert named <= ALL_TOOLS, (spec.name, named - ALL_TOOLS)
        assert named <= set(spec.tools), (spec.name, named - set(spec.tools))
        # every declared argument is used in the text
        for argument in spec.arguments:
            assert "{" + argument.name + "}" in spec.template, (spec.name, argument.name)


def test_render_fills_placeholders_and_keeps_other_braces(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_text(
        "---\nname: p\ndescription: d\narguments:\n  - {name: who, required: true}\n"
        '  - {name: mood, default: calm}\n---\nHello {who}, be {mood}. JSON {"a": 1} and {unknown}.\n'
    )
    spec = parse_prompt_file(path)
    assert render_template(spec, {"who": "Ada"}) == 'Hello Ada, be calm. JSON {"a": 1} and {unknown}.\n'
    assert render_template(spec, {"who": "Ada", "mood": "bold"}).startswith("Hello Ada, be bold.")
    with pytest.raises(MCPError) as missing:
        render_template(spec, {"who": "  "})
    assert missing.value.error.code == -32602 and "'who'" in missing.value.error.message
    with pytest.raises(MCPError, match="unknown argument"):
        render_template(spec, {"who": "Ada", "color": "red"})


@pytest.mark.parametrize(
    "text",
    [
        "no front matter",
        "---\nname: x\n",
        "---\nname: x\n---\nbody",
        "---\n- a\n---\nbody",
        "---\nname: 'bad name'\ndescription: d\n---\nbody",
        "---\ndescription: d\narguments:\n  - {name: a}\n  - {name: a}\n---\n{a}",
    ],
)
def test_malformed_prompt_files_are_rejected(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.md"
    path.write_text(text)
    with pytest.raises(PromptFileError, match=r"bad.md"):
        parse_prompt_file(path)


def test_user_prompt_directory_adds_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.md").write_text("---\nname: mine\ndescription: Mine\n---\nDo it.\n")
    (tmp_path / "daily_review.md").write_text(
        "---\nname: daily_review\ndescription: Overridden\n---\nMy own review.\n"
    )
    monkeypatch.setenv(ENV_PROMPTS_DIR, str(tmp_path))
    specs = {spec.name: spec for spec in load_prompt_specs()}
    assert specs["mine"].template == "Do it.\n"
    assert specs["daily_review"].description == "Overridden"
    assert "summarize_object" in specs


@pytest.mark.parametrize("mode", MODES)
async def test_prompts_over_mcp(sandbox: SandboxServer, mode: str) -> None:
    server = build_app(Settings(api_token=sandbox.api_token, api_url=sandbox.base_url)).server
    async with Client(server, mode=mode) as client:
        prompts = {prompt.name: prompt for prompt in (await client.list_prompts()).prompts}
        assert set(prompts) >= SHIPPED
        meeting = prompts["capture_meeting_notes"]
        assert meeting.description
        arguments = {arg.name: arg.required for arg in meeting.arguments or []}
        assert arguments["notes"] is True and arguments["title"] is False

        result = await client.get_prompt(
            "capture_meeting_notes", {"notes": "Agreed to ship on Friday. Ana owns QA.", "title": "Sync"}
        )
        text = result.messages[0].content.text  # type: ignore[union-attr]
        assert result.messages[0].role == "user"
        assert "Agreed to ship on Friday. Ana owns QA." in text and "Meeting title: Sync" in text
        assert "{notes}" not in text and "search_objects" in text

        with pytest.raises(MCPError) as missing:
            await client.get_prompt("summarize_object", {})
        assert missing.value.error.code == -32602
        assert "'object'" in missing.value.error.message

        with pytest.raises(MCPError) as unknown:
            await client.get_prompt("no_such_prompt", {})
        assert unknown.value.error.code == -32602
        assert "Unknown prompt: no_such_prompt" in unknown.value.error.message
        assert "summarize_object" in unknown.value.error.message
