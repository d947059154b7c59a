"""`capacities://` resources: the space, its structures, and any object as Markdown.

Resources are what a host can attach to a conversation without the model calling a tool (e.g.
"@capacities://space" in a chat box). They reuse the tools' cache and renderers, so a resource and
the equivalent tool show the model the same text, and reading the space resource twice costs one
upstream call (the API allows ten `GET /space` a minute).

* `capacities://space`      Markdown: the space and its structures (what `get_space` shows).
* `capacities://structures` JSON: every structure with its property definitions and collections,
                            for clients that want data rather than prose.
* `capacities://object/{id}` Markdown: one object (what `get_object` shows), a page of about
                            8,000 tokens at a time; a long one ends with the URI of the next
                            page (`capacities://object/{id}?offset=N`).

Static resources cannot receive a `Context` in the SDK, so they reach the live state through
`get_state`, the runtime's accessor (see `_app._Runtime`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from capacities_mcp.api import CapacitiesApiError, CapacitiesError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from ._state import ServerState, SpaceSnapshot

__all__ = ["OBJECT_URI_TEMPLATE", "SPACE_URI", "STRUCTURES_URI", "register_resources"]

SPACE_URI = "capacities://space"
STRUCTURES_URI = "capacities://structures"
OBJECT_URI_TEMPLATE = "capacities://object/{id}{?offset}"


def _resource_error(exc: CapacitiesError, what: str) -> Exception:
    """An upstream failure as a resource error, in the same words (and redaction) as a tool error."""
    from ._errors import describe

    text = f"Could not read {what}. " + describe(exc, tool="resource").text
    if isinstance(exc, CapacitiesApiError) and exc.status == 404:
        return ResourceNotFoundError(text)
    return ResourceError(text)


async def _snapshot(state: ServerState, what: str) -> SpaceSnapshot:
    """The cached space snapshot (shared with get_space), failures as resource errors."""
    try:
        return await state.space.get()
    except CapacitiesError as exc:
        raise _resource_error(exc, what) from None


def register_resources(server: MCPServer[Any], get_state: Callable[[], Awaitable[ServerState]]) -> None:
    """The space, its structures and any object as resources (their renderers load on first read)."""

    @server.resource(
        SPACE_URI,
        name="space",
        title="Capacities space",
        description="The connected space and its structures (object types) with their ids.",
        mime_type="text/markdown",
    )
    async def space() -> str:
        from ._render import render_space

        state = await get_state()
        text = render_space(await _snapshot(state, "the space"))
        return f"> {state.sandbox_note}\n\n{text}" if state.sandbox_note else text

    @server.resource(
        STRUCTURES_URI,
        name="structures",
        title="Capacities structures",
        description="Every structure (object type) with its property definitions and collections, as JSON.",
        mime_type="application/json",
    )
    async def structures() -> str:
        snapshot = await _snapshot(await get_state(), "the structures")
        data = [s.model_dump(mode="json", by_alias=True, exclude_none=True) for s in snapshot.structures]
        return json.dumps({"structures": data}, ensure_ascii=False, indent=1)

    @server.resource(
        OBJECT_URI_TEMPLATE,
        name="object",
        title="Capacities object",
        description="One object (page, note, person, ...) as Markdown, by id; long ones in pages.",
        mime_type="text/markdown",
    )
    async def object_markdown(id: str, offset: int = 0) -> str:
        from ._render import render_object_markdown

        state = await get_state()
        try:
            markdown = await state.client.object.markdown.get(id)
        except CapacitiesError as exc:
            raise _resource_error(exc, f"the object with id {id!r}") from None
        return render_object_markdown(markdown, note=state.sandbox_note, offset=offset)
