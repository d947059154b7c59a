"""`capacities://` resources: the space, its structures, and any object as Markdown.

Resources are what a host can attach to a conversation without the model calling a tool (e.g.
"@capacities://space" in a chat box). They reuse the tools' cache and renderers, so a resource and
the equivalent tool show the model the same text, and reading the space resource twice costs one
upstream call (the API allows ten `GET /space` a minute).

* `capacities://space`      Markdown: the space and its structures (what `get_space` shows).
* `capacities://structures` JSON: every structure with its property definitions and collections,
                            for clients that want data rather than prose.
* `capacities://object/{id}` Markdown: one object (what `get_object` shows).

Static resources cannot receive a `Context` in the SDK, so they reach the live state through
`get_state`, the runtime's accessor (see `_app._Runtime`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from capacities_mcp.api import CapacitiesApiError, CapacitiesError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from ._state import ServerState

__all__ = ["SPACE_URI", "STRUCTURES_URI", "OBJECT_URI_TEMPLATE", "register_resources"]

SPACE_URI = "capacities://space"
STRUCTURES_URI = "capacities://structures"
OBJECT_URI_TEMPLATE = "capacities://object/{id}"


def _resource_error(exc: CapacitiesError, what: str) -> Exception:
    """An upstream failure as a resource error the client can show (never with a token in it)."""
    if isinstance(exc, CapacitiesApiError) and exc.status == 404:
        return ResourceNotFoundError(f"No {what} found (cap_not_found). Search with the search_objects tool.")
    code = getattr(exc, "code", "cap_unknown")
    return ResourceError(f"Could not read {what} from Capacities ({code}): {exc}")


def register_resources(server: MCPServer[Any], get_state: Callable[[], ServerState]) -> None:
    from ._render import render_object_markdown, render_space

    @server.resource(
        SPACE_URI,
        name="space",
        title="Capacities space",
        description="The connected space and its structures (object types) with their ids.",
        mime_type="text/markdown",
    )
    async def space() -> str:
        state = get_state()
        try:
            snapshot = await state.space.get()
        except CapacitiesError as exc:
            raise _resource_error(exc, "space") from None
        text = render_space(snapshot)
        return f"> {state.sandbox_note}\n\n{text}" if state.sandbox_note else text

    @server.resource(
        STRUCTURES_URI,
        name="structures",
        title="Capacities structures",
        description="Every structure (object type) with its property definitions and collections, as JSON.",
        mime_type="application/json",
    )
    async def structures() -> str:
        state = get_state()
        try:
            snapshot = await state.space.get()
        except CapacitiesError as exc:
            raise _resource_error(exc, "structures") from None
        data = [s.model_dump(mode="json", by_alias=True, exclude_none=True) for s in snapshot.structures]
        return json.dumps({"structures": data}, ensure_ascii=False, indent=1)

    @server.resource(
        OBJECT_URI_TEMPLATE,
        name="object",
        title="Capacities object",
        description="One object (page, note, person, ...) as Markdown, by id.",
        mime_type="text/markdown",
    )
    async def object_markdown(id: str) -> str:
        state = get_state()
        try:
            markdown = await state.client.object.markdown.get(id)
        except CapacitiesError as exc:
            raise _resource_error(exc, f"object with id {id!r}") from None
        return render_object_markdown(markdown, note=state.sandbox_note)
