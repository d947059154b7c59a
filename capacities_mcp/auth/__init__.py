"""Signing in to Capacities and keeping the credentials safe.

    from capacities_mcp.auth import load_stored_credentials
    stored = load_stored_credentials()          # None when nobody signed in
    if stored is not None:
        async with CapacitiesClient(**stored.client_kwargs()) as client: ...

`capacities-mcp auth login` runs the OAuth Authorization Code + PKCE flow through a loopback
redirect (or stores a personal API token); the credentials land in one JSON file (mode 0600,
written atomically) that several server processes share, refreshing under a cross-process lock.

The OAuth client steps (PKCE, the authorize URL, the code exchange, revocation) are shared with
the multi-user server, which signs its users in to Capacities the same way.

Names are loaded lazily: `capacities-mcp` imports this package to build its parser, and that must
not pull in the HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from capacities_mcp._lazy import lazy_attributes

if TYPE_CHECKING:
    from ._oauth_client import (
        DEFAULT_SCOPES,
        OAuthEndpoints,
        Pkce,
        authorize_url,
        redeem_code,
        revoke_token,
    )
    from ._store import (
        DEFAULT_API_URL,
        DEFAULT_CLIENT_ID,
        StoredCredentials,
        TokenStore,
        TokenStoreError,
        default_store_path,
        load_stored_credentials,
    )


__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_SCOPES",
    "OAuthEndpoints",
    "Pkce",
    "StoredCredentials",
    "TokenStore",
    "TokenStoreError",
    "authorize_url",
    "default_store_path",
    "load_stored_credentials",
    "redeem_code",
    "revoke_token",
]


_OAUTH_CLIENT = ("DEFAULT_SCOPES", "OAuthEndpoints", "Pkce", "authorize_url", "redeem_code", "revoke_token")
__getattr__ = lazy_attributes(
    __name__, {name: "._oauth_client" if name in _OAUTH_CLIENT else "._store" for name in __all__}
)
