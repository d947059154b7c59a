"""Signing in to Capacities and keeping the credentials safe.

    from capacities_mcp.auth import load_stored_credentials
    stored = load_stored_credentials()          # None when nobody signed in
    if stored is not None:
        async with CapacitiesClient(**stored.client_kwargs()) as client: ...

`capacities-mcp auth login` runs the OAuth Authorization Code + PKCE flow through a loopback
redirect (or stores a personal API token); the credentials land in one JSON file (mode 0600,
written atomically) that several server processes share, refreshing under a cross-process lock.

Names are loaded lazily: `capacities-mcp` imports this package to build its parser, and that must
not pull in the HTTP client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    "StoredCredentials",
    "TokenStore",
    "TokenStoreError",
    "default_store_path",
    "load_stored_credentials",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("._store", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
