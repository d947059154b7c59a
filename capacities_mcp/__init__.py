"""capacities-mcp: an MCP server, API client and local sandbox for Capacities."""

from ._environment import (
    ENV_API_TOKEN,
    ENV_API_URL,
    ENV_API_VERSION,
    ENV_HTTP_TOKEN,
    ENV_PROMPTS_DIR,
    ENV_READ_ONLY,
    ENV_TOKEN_STORE,
)

__version__ = "0.1.0"

__all__ = [
    "ENV_API_TOKEN",
    "ENV_API_URL",
    "ENV_API_VERSION",
    "ENV_HTTP_TOKEN",
    "ENV_PROMPTS_DIR",
    "ENV_READ_ONLY",
    "ENV_TOKEN_STORE",
    "__version__",
]
