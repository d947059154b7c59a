"""An async, typed client for the Capacities REST API, mirroring `@capacities/api`.

async with CapacitiesClient(api_token="cap-api-...") as client:
    space = await client.space.get()
    hits = await client.objects.search(query="project")
    obj = await client.object.get(hits.results[0].id)
    await client.blocks.append(id=obj.id, markdown="## Notes\\n\\n- one")
"""

from . import models
from ._auth import PROACTIVE_REFRESH_SECONDS, OAuthCredential, OAuthTokenManager, OAuthTokens
from ._client import API_VERSION, API_VERSION_HEADER, DEFAULT_BASE_URL, CapacitiesClient, Observer
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
