"""The MCP server: tools, prompts and resources for a Capacities space, over stdio, SSE or HTTP.

    from capacities_mcp.server import Settings, build_server

    server = build_server(Settings(api_token="cap-api-..."))   # an mcp MCPServer
    server.run()                                               # stdio

Names are loaded lazily: the `capacities-mcp` command imports this package to build its parser,
and that must not pull in the MCP SDK (about 0.7 s of imports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from capacities_mcp._lazy import lazy_attributes

if TYPE_CHECKING:
    from ._app import App, CapacitiesMCPServer, build_app, build_server, populate, server_options
    from ._http import MCP_PATH, guarded, run_uvicorn, transport_security
    from ._logging import configure_logging
    from ._serving import active_state, serving
    from ._settings import Settings, SettingsError, is_loopback, resolve_settings
    from ._state import ServerState, SpaceCache

__all__ = [
    "MCP_PATH",
    "App",
    "CapacitiesMCPServer",
    "ServerState",
    "Settings",
    "SettingsError",
    "SpaceCache",
    "active_state",
    "build_app",
    "build_server",
    "configure_logging",
    "guarded",
    "is_loopback",
    "populate",
    "resolve_settings",
    "run_uvicorn",
    "server_options",
    "serving",
    "transport_security",
]

_HOMES = {
    "App": "._app",
    "CapacitiesMCPServer": "._app",
    "build_app": "._app",
    "build_server": "._app",
    "populate": "._app",
    "server_options": "._app",
    "MCP_PATH": "._http",
    "guarded": "._http",
    "run_uvicorn": "._http",
    "transport_security": "._http",
    "configure_logging": "._logging",
    "Settings": "._settings",
    "SettingsError": "._settings",
    "is_loopback": "._settings",
    "resolve_settings": "._settings",
    "ServerState": "._state",
    "SpaceCache": "._state",
    "active_state": "._serving",
    "serving": "._serving",
}


__getattr__ = lazy_attributes(__name__, _HOMES)
