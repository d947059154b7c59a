"""An async, typed client for the Capacities REST API, mirroring `@capacities/api`.

async with CapacitiesClient(api_token="cap-api-...") as client:
    space = await client.space.get()
    hits = await client.objects.search(query="project")
    obj = await client.object.get(hits.results[0].id)
    await client.blocks.append(id=obj.id, markdown="## Notes\\n\\n- one")

Names are loaded on first use: the MCP server answers `tools/list` before it needs the client, and
a module of this package (its error classes, say) must be importable without the models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from capacities_mcp._lazy import lazy_attributes

if TYPE_CHECKING:
    from . import models
    from ._auth import PROACTIVE_REFRESH_SECONDS, OAuthCredential, OAuthTokenManager, OAuthTokens
    from ._client import CapacitiesClient, Observer
    from ._endpoint import API_VERSION, API_VERSION_HEADER, DEFAULT_BASE_URL
    from ._errors import (
        CAP_UNKNOWN,
        ERROR_CODES,
        CapacitiesApiError,
        CapacitiesConnectionError,
        CapacitiesError,
        CapacitiesOAuthError,
        code_for_status,
    )
    from ._priority import DEFAULT_KEEP_FREE, background_priority, in_background
    from ._ratelimit import RateLimiter, RateLimitState, parse_rate_limit, parse_retry_after
    from ._routes import RATE_LIMIT_WINDOW_SECONDS, ROUTES, ROUTES_BY_NAME, Route
    from ._shared_limits import QuotaStore, SharedQuota, SharedRateLimiter
    from ._validation import CapacitiesValidationError, Issue, format_issues, issues_from
    from ._waits import WaitReport, reporting_waits

__all__ = [
    "API_VERSION",
    "API_VERSION_HEADER",
    "CAP_UNKNOWN",
    "DEFAULT_BASE_URL",
    "DEFAULT_KEEP_FREE",
    "ERROR_CODES",
    "PROACTIVE_REFRESH_SECONDS",
    "RATE_LIMIT_WINDOW_SECONDS",
    "ROUTES",
    "ROUTES_BY_NAME",
    "CapacitiesApiError",
    "CapacitiesClient",
    "CapacitiesConnectionError",
    "CapacitiesError",
    "CapacitiesOAuthError",
    "CapacitiesValidationError",
    "Issue",
    "OAuthCredential",
    "OAuthTokenManager",
    "OAuthTokens",
    "Observer",
    "QuotaStore",
    "RateLimitState",
    "RateLimiter",
    "Route",
    "SharedQuota",
    "SharedRateLimiter",
    "WaitReport",
    "background_priority",
    "code_for_status",
    "format_issues",
    "in_background",
    "issues_from",
    "models",
    "parse_rate_limit",
    "parse_retry_after",
    "reporting_waits",
]

_HOMES = {
    "models": ".models",
    "PROACTIVE_REFRESH_SECONDS": "._auth",
    "OAuthCredential": "._auth",
    "OAuthTokenManager": "._auth",
    "OAuthTokens": "._auth",
    "API_VERSION": "._endpoint",
    "API_VERSION_HEADER": "._endpoint",
    "DEFAULT_BASE_URL": "._endpoint",
    "CapacitiesClient": "._client",
    "Observer": "._client",
    "CAP_UNKNOWN": "._errors",
    "ERROR_CODES": "._errors",
    "CapacitiesApiError": "._errors",
    "CapacitiesConnectionError": "._errors",
    "CapacitiesError": "._errors",
    "CapacitiesOAuthError": "._errors",
    "code_for_status": "._errors",
    "DEFAULT_KEEP_FREE": "._priority",
    "background_priority": "._priority",
    "in_background": "._priority",
    "RateLimiter": "._ratelimit",
    "RateLimitState": "._ratelimit",
    "parse_rate_limit": "._ratelimit",
    "parse_retry_after": "._ratelimit",
    "RATE_LIMIT_WINDOW_SECONDS": "._routes",
    "ROUTES": "._routes",
    "ROUTES_BY_NAME": "._routes",
    "Route": "._routes",
    "QuotaStore": "._shared_limits",
    "SharedQuota": "._shared_limits",
    "SharedRateLimiter": "._shared_limits",
    "CapacitiesValidationError": "._validation",
    "Issue": "._validation",
    "format_issues": "._validation",
    "issues_from": "._validation",
    "WaitReport": "._waits",
    "reporting_waits": "._waits",
}


__getattr__ = lazy_attributes(__name__, _HOMES)
