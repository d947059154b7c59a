"""What a multi-user server needs beyond the ordinary settings: where users reach it, who it is
at Capacities OAuth, where replicas share their state, and how long its tokens live.

Resolved once, from the `serve` options and the environment (option first), and refused early
when it cannot work: an http public URL off loopback would send authorization codes and tokens
in clear text, so it is an error, not a warning.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from capacities_mcp._environment import ENV_OAUTH_CLIENT_ID, ENV_PUBLIC_URL, ENV_REDIS_URL
from capacities_mcp.server import Settings, SettingsError, is_loopback

__all__ = [
    "CALLBACK_PATH",
    "CONSENT_PATH",
    "DEFAULT_OAUTH_CLIENT_ID",
    "MCP_SCOPE",
    "RemoteSettings",
    "resolve_remote_settings",
]

DEFAULT_OAUTH_CLIENT_ID = "capacities-mcp"
MCP_SCOPE = "capacities"  # the one scope of this server's tokens: use the tools on your space
CONSENT_PATH = "/consent"
CALLBACK_PATH = "/oauth/callback"
_MCP_PATH = "/mcp"


@dataclass(frozen=True)
class RemoteSettings:
    """`public_url` has no trailing slash and no path; the MCP endpoint is `<public_url>/mcp`."""

    public_url: str
    api_url: str
    oauth_client_id: str = DEFAULT_OAUTH_CLIENT_ID
    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    access_token_lifetime: float = 3600.0
    code_lifetime: float = 300.0
    refresh_token_lifetime: float = 30 * 86400.0
    max_users: int = 200  # per-user Capacities clients kept open in one replica
    # Client ID Metadata Documents: fetch timeout and size bound, and how long one is trusted.
    client_document_timeout: float = 5.0
    client_document_max_bytes: int = 16_384
    client_document_ttl: float = 3600.0

    @property
    def resource_url(self) -> str:
        """This server's RFC 8707 resource identifier: the audience of every token it accepts."""
        return self.public_url + _MCP_PATH

    @property
    def callback_url(self) -> str:
        """Where Capacities sends users back: register exactly this at Capacities."""
        return self.public_url + CALLBACK_PATH

    @property
    def loopback(self) -> bool:
        """A server only this machine reaches (tests, a laptop): http client ids on loopback are fine."""
        return is_loopback(urlsplit(self.public_url).hostname or "")

    @property
    def netloc(self) -> str:
        return urlsplit(self.public_url).netloc


def _public_url(raw: str | None, settings: Settings) -> str:
    if not raw:
        if not is_loopback(settings.host):
            raise SettingsError(
                f"--multi-user on {settings.host} needs --public-url (or {ENV_PUBLIC_URL}): the https "
                f"URL users reach this server at, e.g. https://mcp.example.org"
            )
        if settings.port == 0:
            raise SettingsError(
                "--multi-user with --port 0 needs --public-url: the URL must be known up front"
            )
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        return f"http://{host}:{settings.port}"
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"--public-url must be an http(s) URL such as https://mcp.example.org, not {raw!r}"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise SettingsError(
            "--public-url must be https off loopback: authorization codes and tokens travel through it"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise SettingsError("--public-url is an origin only (scheme, host, port), without path or query")
    return f"{parts.scheme}://{parts.netloc}".lower()


def resolve_remote_settings(
    args: argparse.Namespace, settings: Settings, environ: Mapping[str, str] | None = None
) -> RemoteSettings:
    """The multi-user settings from the `serve` options and the environment (options win)."""
    from capacities_mcp.api import DEFAULT_BASE_URL

    env = os.environ if environ is None else environ

    def pick(option: str, variable: str) -> str | None:
        value = getattr(args, option, None) or env.get(variable) or ""
        return value.strip() or None

    client_id = pick("oauth_client_id", ENV_OAUTH_CLIENT_ID) or DEFAULT_OAUTH_CLIENT_ID
    return RemoteSettings(
        public_url=_public_url(pick("public_url", ENV_PUBLIC_URL), settings),
        api_url=(settings.api_url or DEFAULT_BASE_URL).rstrip("/"),
        oauth_client_id=client_id,
        redis_url=pick("redis_url", ENV_REDIS_URL),
    )
