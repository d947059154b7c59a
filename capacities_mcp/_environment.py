"""Every `CAPACITIES_*` environment variable, named once.

MCP hosts configure servers through `env` (a token on the command line would show in `ps`), so
these names are part of the user-facing interface: `serve --help` and every module that reads
or prints one take them from here, so a renamed variable cannot drift between them. No imports,
so any layer (and the start-up path) can use it for free.
"""

from __future__ import annotations

__all__ = [
    "DESCRIPTIONS",
    "ENV_API_TOKEN",
    "ENV_API_URL",
    "ENV_API_VERSION",
    "ENV_BODY_TIMEOUT",
    "ENV_ENCRYPTION_KEY",
    "ENV_HEADER_TIMEOUT",
    "ENV_HTTP_TOKEN",
    "ENV_MAX_SESSIONS",
    "ENV_MIRROR_DIR",
    "ENV_NO_MIRROR",
    "ENV_OAUTH_CLIENT_ID",
    "ENV_PROMPTS_DIR",
    "ENV_PUBLIC_URL",
    "ENV_READ_ONLY",
    "ENV_REDIS_URL",
    "ENV_SANDBOX_ADMIN_TOKEN",
    "ENV_SANDBOX_READ_ONLY_TOKEN",
    "ENV_SESSION_IDLE_TIMEOUT",
    "ENV_STRUCTURED_OUTPUT",
    "ENV_TOKEN_STORE",
]

ENV_API_TOKEN = "CAPACITIES_API_TOKEN"
ENV_API_URL = "CAPACITIES_API_URL"
ENV_API_VERSION = "CAPACITIES_API_VERSION"
ENV_HTTP_TOKEN = "CAPACITIES_MCP_HTTP_TOKEN"
ENV_MAX_SESSIONS = "CAPACITIES_MCP_MAX_SESSIONS"
ENV_SESSION_IDLE_TIMEOUT = "CAPACITIES_MCP_SESSION_IDLE_TIMEOUT"
ENV_HEADER_TIMEOUT = "CAPACITIES_MCP_HEADER_TIMEOUT"
ENV_BODY_TIMEOUT = "CAPACITIES_MCP_BODY_TIMEOUT"
ENV_READ_ONLY = "CAPACITIES_MCP_READ_ONLY"
ENV_STRUCTURED_OUTPUT = "CAPACITIES_MCP_STRUCTURED_OUTPUT"
ENV_TOKEN_STORE = "CAPACITIES_MCP_TOKEN_STORE"
ENV_PROMPTS_DIR = "CAPACITIES_MCP_PROMPTS_DIR"
# The local mirror (full-text search): where its files live, and a switch to turn it off.
ENV_MIRROR_DIR = "CAPACITIES_MCP_MIRROR_DIR"
ENV_NO_MIRROR = "CAPACITIES_MCP_NO_MIRROR"
# Remote multi-user mode: the shared store of every replica, and the key(s) its Capacities tokens
# are encrypted with (`kid:base64key,...`, the first encrypts, all decrypt).
ENV_REDIS_URL = "CAPACITIES_MCP_REDIS_URL"
ENV_ENCRYPTION_KEY = "CAPACITIES_MCP_ENCRYPTION_KEY"
# The URL users reach a multi-user server at, and its client id at Capacities OAuth.
ENV_PUBLIC_URL = "CAPACITIES_MCP_PUBLIC_URL"
ENV_OAUTH_CLIENT_ID = "CAPACITIES_MCP_OAUTH_CLIENT_ID"
ENV_SANDBOX_ADMIN_TOKEN = "CAPACITIES_SANDBOX_ADMIN_TOKEN"
# Never read: `capacities-mcp sandbox --read-only-token` prints it as a ready shell assignment.
ENV_SANDBOX_READ_ONLY_TOKEN = "CAPACITIES_READ_ONLY_TOKEN"

# What each variable the server reads means, one line each (the `serve --help` epilog).
DESCRIPTIONS: dict[str, str] = {
    ENV_API_TOKEN: "personal API token (cap-api-...) of your space",
    ENV_API_URL: "API base URL (default https://api.capacities.io)",
    ENV_API_VERSION: "API version header (default 1.0.0)",
    ENV_HTTP_TOKEN: "bearer token HTTP clients must send, 32+ characters (required off loopback)",
    ENV_MAX_SESSIONS: "HTTP: most MCP sessions open at once (default 100); same as --max-sessions",
    ENV_SESSION_IDLE_TIMEOUT: "HTTP: seconds an idle session is kept (default 600); --session-idle-timeout",
    ENV_HEADER_TIMEOUT: "HTTP: seconds a client has to send request headers (default 10); --header-timeout",
    ENV_BODY_TIMEOUT: "HTTP: seconds a client has to send a request body (default 30); --body-timeout",
    ENV_READ_ONLY: '"true" = same as --read-only (for hosts that set env but not flags)',
    ENV_STRUCTURED_OUTPUT: '"true" = same as --structured-output',
    ENV_TOKEN_STORE: "file of the credentials stored by 'capacities-mcp auth login'",
    ENV_PROMPTS_DIR: "extra directory of prompt templates (*.md)",
    ENV_MIRROR_DIR: "directory of the local mirror's files (default: the user cache directory)",
    ENV_NO_MIRROR: '"true" = same as --no-mirror (no local mirror, title search only)',
    ENV_PUBLIC_URL: "multi-user: the URL users reach this server at; same as --public-url",
    ENV_OAUTH_CLIENT_ID: "multi-user: client id at Capacities OAuth (default capacities-mcp)",
    ENV_REDIS_URL: "multi-user: Redis URL of the state replicas share (default: in memory)",
    ENV_ENCRYPTION_KEY: "multi-user: kid:base64key[,kid:oldkey] for stored tokens (required with Redis)",
}
