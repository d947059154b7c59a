"""Where the Capacities API lives and which version of it we speak.

Its own module so that naming the default URL (the server's instructions do, at start-up) does
not load the client, its route table and the models.
"""

from __future__ import annotations

__all__ = ["API_VERSION", "API_VERSION_HEADER", "DEFAULT_BASE_URL"]

DEFAULT_BASE_URL = "https://api.capacities.io"
API_VERSION = "1.0.0"
API_VERSION_HEADER = "X-Capacities-Api-Version"
