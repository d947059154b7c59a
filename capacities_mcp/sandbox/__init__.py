"""A local, Capacities-compatible API with a demo space: for tests, demos and offline work.

    from capacities_mcp.sandbox import SandboxConfig, SandboxServer

    with SandboxServer(SandboxConfig()) as sb:
        sb.base_url, sb.api_token        # point a CapacitiesClient here
        sb.faults.status = 503           # make it misbehave, at run time
        sb.admin_token                   # what POST /_sandbox/faults and OAuth auto-approval need
        sb.state.objects                 # and look inside

All routes of the route table, personal tokens with scopes, an OAuth 2.0 provider (PKCE,
rotation, reuse detection), per-token rate limits, Markdown in and out, asynchronous daily-note
appends, optional persistence, and fault injection. `create_app(config)` gives the ASGI app
without a thread; `capacities-mcp sandbox` runs it from the command line.
"""

from typing import TYPE_CHECKING

from capacities_mcp._lazy import lazy_attributes

if TYPE_CHECKING:
    from ._account import SandboxAccount
    from ._app import ADMIN_TOKEN_HEADER, SandboxApp, SandboxRuntime, create_app
    from ._clock import Clock
    from ._config import CURRENT_API_VERSION, MAX_SEED_SIZE, SandboxConfig
    from ._faults import Faults
    from ._oauth import OAUTH_CLIENT_ID, OAUTH_SCOPES, is_loopback_redirect
    from ._ratelimit import FixedWindowLimiter, RateDecision
    from ._server import SandboxServer
    from ._space import store_from_seed
    from ._store import SandboxStore, TokenGrant

# Imported on first use: `capacities-mcp` builds its parser from every area's CLI module, and
# the sandbox app (Starlette, the API models, the demo space) must not slow down a stdio start.
_WHERE = {
    "SandboxAccount": "._account",
    "ADMIN_TOKEN_HEADER": "._app",
    "SandboxApp": "._app",
    "SandboxRuntime": "._app",
    "create_app": "._app",
    "Clock": "._clock",
    "CURRENT_API_VERSION": "._config",
    "MAX_SEED_SIZE": "._config",
    "SandboxConfig": "._config",
    "Faults": "._faults",
    "OAUTH_CLIENT_ID": "._oauth",
    "OAUTH_SCOPES": "._oauth",
    "is_loopback_redirect": "._oauth",
    "FixedWindowLimiter": "._ratelimit",
    "RateDecision": "._ratelimit",
    "SandboxServer": "._server",
    "store_from_seed": "._space",
    "SandboxStore": "._store",
    "TokenGrant": "._store",
}


__getattr__ = lazy_attributes(__name__, _WHERE)


__all__ = [
    "ADMIN_TOKEN_HEADER",
    "CURRENT_API_VERSION",
    "MAX_SEED_SIZE",
    "OAUTH_CLIENT_ID",
    "OAUTH_SCOPES",
    "Clock",
    "Faults",
    "FixedWindowLimiter",
    "RateDecision",
    "SandboxAccount",
    "SandboxApp",
    "SandboxConfig",
    "SandboxRuntime",
    "SandboxServer",
    "SandboxStore",
    "TokenGrant",
    "create_app",
    "is_loopback_redirect",
    "store_from_seed",
]
