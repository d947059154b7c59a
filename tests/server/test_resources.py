"""Resources: capacities://space, capacities://structures and capacities://object/{id}{?offset}."""

from __future__ import annotations

import json

import pytest
from mcp import Client, MCPError

from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server._app import build_app
from capacities_mcp.server._settings import Settings

MODES = ["auto", "legacy"]
MISSING_ID = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize("mode", MODES)
async def test_resources(sandbox: SandboxServer, mode: str) -> None:
    app = build_app(Settings(api_token=sandbox.api_token, api_url=sandbox.base_url))
    async with Client(app.server, mode=mode) as client:
        listed = {str(r.uri): r for r in (await client.list_resources()).resources}
        assert set(listed) == {"capacities://space", "capacities://structures"}
        assert listed["capacities://space"].mime_type == "text/markdown"
        templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
        assert templates == ["capacities://object/{id}{?offset}"]

        space = (await client.read_resource("capacities://space")).contents[0]
        assert space.mime_type == "text/markdown"
        assert "Demo space" in space.text  # type: ignore[union-attr]

        structures = (await client.read_resource("capacities://structures")).contents[0]
        assert structures.mime_type == "application/json"
        data = json.loads(structures.text)  # type: ignore[union-attr]
        titles = {s["title"] for s in data["structures"]}
        assert {"Page", "Task"} <= titles
        assert all("id" in s for s in data["structures"])

        hits = await app.runtime.state.client.objects.search(query="Q3 planning")
        object_id = hits.results[0].id
        obj = (await client.read_resource(f"capacities://object/{object_id}")).contents[0]
        assert obj.mime_type == "text/markdown"
        assert "Q3 planning" in obj.text  # type: ignore[union-attr]

        with pytest.raises(MCPError) as missing:
            await client.read_resource(f"capacities://object/{MISSING_ID}")
        assert missing.value.error.code == -32602
        assert "search_objects" in missing.value.error.message
        with pytest.raises(MCPError):
            await client.read_resource("capacities://nothing-here")


async def test_space_resource_says_sandbox() -> None:
    app = build_app(Settings(use_sandbox=True))
    async with Client(app.server) as client:
        text = (await client.read_resource("capacities://space")).contents[0].text  # type: ignore[union-attr]
    assert "SANDBOX" in text


async def test_resource_errors_say_what_to_do_in_the_tools_words(sandbox: SandboxServer) -> None:
    """A rejected credential on a resource read: the tools' next step (sign in again), no token."""
    bad_token = "cap-api-" + "x" * 40
    app = build_app(Settings(api_token=bad_token, api_url=sandbox.base_url))
    async with Client(app.server) as client:
        for uri in ("capacities://space", "capacities://structures", f"capacities://object/{MISSING_ID}"):
            with pytest.raises(MCPError) as failed:
                await client.read_resource(uri)
            message = failed.value.error.message
            assert message.startswith("Could not read ") and "cap_not_authenticated" in message, message
            assert "capacities-mcp auth login" in message and bad_token not in message, message
