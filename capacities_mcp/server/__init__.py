"""The MCP server: tools, prompts and resources for a Capacities space, over stdio, SSE or HTTP.

    from capacities_mcp.server import Settings, build_server

    server = build_server(Settings(api_token="cap-api-..."))   # an mcp MCPServer
    server.run()                                               # stdio

Names are loaded lazily: the `capacities-mcp` command imports this package to build its parser,
and that must not pull in the MCP SDK (about 0.7 s of imports).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import App, build_app, build_server
    from ._settings import Settings, SettingsError, resolve_settings

__all__ = ["App", "Settings", "SettingsError", "build_app", "build_server", "resolve_settings"]

_HOMES = {
    "App": "._app",
    "build_app": "._app",
    "build_server": "._app",
    "Settings": "._settings",
    "SettingsError": "._settings",
    "resolve_settings": "._settings",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
