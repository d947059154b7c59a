"""What the server needs to know before it starts: credentials, backend, tools, transport.

Settings come from two places only: the environment (credentials and URLs, because MCP hosts pass
secrets through `env`, and tokens on a command line would be visible in `ps`) and the command line
(everything else). Resolution happens once, up front, so that `build_server` and the transports
work from one immutable value and the instructions can say truthfully which backend is in use.

Credential order: `CAPACITIES_API_TOKEN` → credentials stored by `capacities-mcp auth login` →
the embedded sandbox (also forced by `--sandbox`). Secret fields are excluded from `repr` so a
stray log line or traceback cannot print them.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from capacities_mcp._environment import (
    ENV_API_TOKEN,
    ENV_API_URL,
    ENV_API_VERSION,
    ENV_BODY_TIMEOUT,
    ENV_HEADER_TIMEOUT,
    ENV_HTTP_TOKEN,
    ENV_MAX_SESSIONS,
    ENV_MIRROR_DIR,
    ENV_NO_MIRROR,
    ENV_READ_ONLY,
    ENV_SESSION_IDLE_TIMEOUT,
    ENV_STRUCTURED_OUTPUT,
)

if TYPE_CHECKING:
    from capacities_mcp.api import CapacitiesClient

__all__ = [
    "Settings",
    "SettingsError",
    "Transport",
    "is_loopback",
    "resolve_settings",
]

_TRUE = ("1", "true", "yes", "on")
# A bearer token anyone could guess or brute-force protects nothing; 32 characters of
# token_urlsafe are 192 bits.
MIN_HTTP_TOKEN_LENGTH = 32
_MAKE_A_TOKEN = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'

Transport = Literal["stdio", "http", "sse"]
Backend = Literal["env", "stored", "sandbox", "multi_user"]

_log = logging.getLogger("capacities_mcp.server")


class SettingsError(Exception):
    """The configuration cannot work; the message says why and what to change (exit code 2)."""


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost).

    Anything else (0.0.0.0, a LAN address, a hostname) can be reached from other machines, so the
    HTTP transports demand a bearer token there.
    """
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    """Everything `build_server` and the transports need, resolved and validated.

    Build it with `resolve_settings` (CLI) or directly in tests, e.g.
    `Settings(api_token=sb.api_token, api_url=sb.base_url)` or `Settings(use_sandbox=True)`.
    """

    api_token: str | None = field(default=None, repr=False)
    api_url: str | None = None
    api_version: str | None = None
    # StoredCredentials from capacities_mcp.auth (typed loosely: that module may be absent).
    stored_credentials: Any = field(default=None, repr=False)
    use_sandbox: bool = False
    sandbox_reason: str | None = None
    read_only: bool = False
    structured_output: bool = False
    tools: tuple[str, ...] | None = None
    toolsets: tuple[str, ...] | None = None
    transport: Transport = "stdio"
    host: str = "127.0.0.1"
    port: int = 8000
    http_token: str | None = field(default=None, repr=False)
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    # HTTP transport limits: see `_http_limits` for why each exists.
    max_sessions: int = 100
    session_idle_timeout: float = 600.0
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    # Each client signs its user in (capacities_mcp.remote); no credentials of the process's own.
    multi_user: bool = False
    # The local mirror (full-text search, queries); its directory (None: the user cache directory).
    mirror: bool = True
    mirror_dir: str | None = None

    @property
    def backend(self) -> Backend:
        if self.multi_user:
            return "multi_user"
        if self.use_sandbox:
            return "sandbox"
        if self.api_token:
            return "env"
        if self.stored_credentials is not None:
            return "stored"
        return "sandbox"

    def secrets(self) -> list[str]:
        """Every secret value these settings know, for the log redaction filter."""
        values = [self.api_token, self.http_token]
        stored = self.stored_credentials
        if stored is not None:
            for attr in ("api_token", "access_token", "refresh_token"):
                values.append(getattr(stored, attr, None))
            tokens = getattr(stored, "tokens", None)
            for attr in ("access_token", "refresh_token"):
                values.append(getattr(tokens, attr, None))
        return [v for v in values if isinstance(v, str) and v]

    def client_for(self, *, base_url: str | None = None, api_token: str | None = None) -> CapacitiesClient:
        """The one `CapacitiesClient` of a server process.

        `base_url`/`api_token` override the configured ones (the embedded sandbox passes its own).
        Its HTTP transport is built on the first request (see `_deferred_transport`), so opening a
        session costs no connection machinery.
        """
        from capacities_mcp.api import API_VERSION, DEFAULT_BASE_URL, CapacitiesClient

        from ._deferred_transport import deferred_transport

        kwargs: dict[str, Any] = {"api_version": self.api_version or API_VERSION}
        if api_token is not None:
            kwargs.update(api_token=api_token, base_url=base_url or DEFAULT_BASE_URL)
        elif self.api_token:
            kwargs.update(api_token=self.api_token, base_url=self.api_url or DEFAULT_BASE_URL)
        elif self.stored_credentials is not None:
            stored = self.stored_credentials
            kwargs.update(stored.client_kwargs())
            kwargs["base_url"] = (
                self.api_url
                or kwargs.get("base_url")
                or getattr(stored, "base_url", None)
                or DEFAULT_BASE_URL
            )
        else:
            raise SettingsError("no Capacities credentials configured")
        kwargs.setdefault("transport", deferred_transport())
        return CapacitiesClient(**kwargs)


def _split_names(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """`--tools a,b --tools c` → ("a", "b", "c"); None when the option was not given."""
    if not values:
        return None
    names = [name.strip() for value in values for name in value.split(",")]
    return tuple(name for name in names if name)


def _load_stored_credentials() -> Any:
    """Credentials saved by `capacities-mcp auth login`, or None when nothing is stored.

    A store that exists but cannot be used is an error, not "no credentials": silently falling
    back to the sandbox would make an agent write demo data while the user believes it is their
    space. The auth package is optional at this layer (absent = nothing stored).
    """
    try:
        from capacities_mcp.auth import load_stored_credentials
    except ImportError:
        return None
    try:
        return load_stored_credentials()
    except ImportError:
        return None
    except Exception as exc:
        raise SettingsError(
            f"the stored Capacities credentials cannot be used ({exc}). Run 'capacities-mcp auth "
            f"login' again, or 'capacities-mcp auth logout' to remove them."
        ) from None


def resolve_settings(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the parsed `serve` options and the environment.

    Raises `SettingsError` for configurations that cannot work (e.g. a public HTTP bind without a
    bearer token), so the CLI can refuse to start with a clear message.
    """
    env = os.environ if environ is None else environ
    api_token = (env.get(ENV_API_TOKEN) or "").strip() or None
    api_url = (env.get(ENV_API_URL) or "").strip() or None
    api_version = (env.get(ENV_API_VERSION) or "").strip() or None
    http_token = (env.get(ENV_HTTP_TOKEN) or "").strip() or None

    transport: Transport = getattr(args, "transport", "stdio") or "stdio"
    host: str = getattr(args, "host", None) or "127.0.0.1"
    port: int = int(getattr(args, "port", 8000) if getattr(args, "port", None) is not None else 8000)
    if not 0 <= port <= 65535:
        raise SettingsError(f"--port must be between 0 and 65535, not {port}")
    multi_user = bool(getattr(args, "multi_user", False))
    if multi_user:
        return _multi_user_settings(args, env, transport, host, port, api_url, api_version)
    if transport != "stdio" and not is_loopback(host) and not http_token:
        raise SettingsError(
            f"refusing to serve on {host}: that address is reachable from other machines, and "
            f"anyone who can reach it could read and change your Capacities space. Set "
            f"{ENV_HTTP_TOKEN} to a long random secret (clients then send "
            f"'Authorization: Bearer <secret>'), or bind to 127.0.0.1."
        )
    if transport != "stdio" and http_token and len(http_token) < MIN_HTTP_TOKEN_LENGTH:
        raise SettingsError(
            f"{ENV_HTTP_TOKEN} is too short ({len(http_token)} characters): use a random secret of at "
            f"least {MIN_HTTP_TOKEN_LENGTH} characters, for example the output of {_MAKE_A_TOKEN}"
        )

    use_sandbox = bool(getattr(args, "sandbox", False))
    sandbox_reason: str | None = "--sandbox was given" if use_sandbox else None
    stored = None
    if not use_sandbox and not api_token:
        stored = _load_stored_credentials()
        if stored is None:
            use_sandbox = True
            sandbox_reason = (
                f"no Capacities credentials found ({ENV_API_TOKEN} is not set and nothing is "
                f"stored by 'capacities-mcp auth login')"
            )
            if api_url:
                sandbox_reason += f"; {ENV_API_URL} is ignored without a token"

    return Settings(
        api_token=api_token,
        api_url=api_url,
        api_version=api_version,
        stored_credentials=stored,
        use_sandbox=use_sandbox,
        sandbox_reason=sandbox_reason,
        transport=transport,
        host=host,
        port=port,
        http_token=http_token,
        mirror=not _flag(args, "no_mirror", env, ENV_NO_MIRROR),
        mirror_dir=getattr(args, "mirror_dir", None) or (env.get(ENV_MIRROR_DIR) or "").strip() or None,
        **_tool_options(args, env),
        **_http_limits(args, env),
    )


def _flag(args: argparse.Namespace, name: str, env: Mapping[str, str], env_name: str) -> bool:
    """An on/off option: the command-line switch, or its environment variable set to a true word."""
    return bool(getattr(args, name, False)) or (env.get(env_name) or "").strip().lower() in _TRUE


def _tool_options(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, Any]:
    """What single-user and multi-user servers read alike: which tools, how they answer, logs."""
    return {
        "read_only": _flag(args, "read_only", env, ENV_READ_ONLY),
        "structured_output": _flag(args, "structured_output", env, ENV_STRUCTURED_OUTPUT),
        "tools": _split_names(getattr(args, "tools", None)),
        "toolsets": _split_names(getattr(args, "toolsets", None)),
        "allowed_hosts": tuple(_split_names(getattr(args, "allowed_hosts", None)) or ()),
        "allowed_origins": tuple(_split_names(getattr(args, "allowed_origins", None)) or ()),
        "log_level": (getattr(args, "log_level", None) or "INFO").upper(),
    }


def _multi_user_settings(
    args: argparse.Namespace,
    env: Mapping[str, str],
    transport: Transport,
    host: str,
    port: int,
    api_url: str | None,
    api_version: str | None,
) -> Settings:
    """`--multi-user`: OAuth guards every request, so no shared bearer token and no credentials of
    the process's own (a personal token in the environment is ignored: it would be one space
    for everybody)."""
    if transport != "http":
        raise SettingsError("--multi-user needs --transport http (each client signs in over HTTP)")
    if getattr(args, "sandbox", False):
        raise SettingsError(
            f"--multi-user serves each user's own space: point {ENV_API_URL} at a sandbox "
            "instead of using --sandbox"
        )
    return Settings(
        api_url=api_url,
        api_version=api_version,
        transport=transport,
        host=host,
        port=port,
        **_tool_options(args, env),
        multi_user=True,
        mirror=False,
        **_http_limits(args, env),
    )


_LIMITS: tuple[tuple[str, str, str, type[int] | type[float]], ...] = (
    ("max_sessions", "--max-sessions", ENV_MAX_SESSIONS, int),
    ("session_idle_timeout", "--session-idle-timeout", ENV_SESSION_IDLE_TIMEOUT, float),
    ("header_timeout", "--header-timeout", ENV_HEADER_TIMEOUT, float),
    ("body_timeout", "--body-timeout", ENV_BODY_TIMEOUT, float),
)


def _http_limits(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, Any]:
    """The HTTP limits: the option if given, else the environment variable, else the default.

    Every one must be a positive number: zero or "unlimited" would bring back the exhaustion
    these limits exist to prevent.
    """
    limits: dict[str, Any] = {}
    for name, option, variable, kind in _LIMITS:
        raw = getattr(args, name, None)
        source = option
        if raw is None and (env.get(variable) or "").strip():
            raw, source = env[variable].strip(), variable
        if raw is None:
            continue
        try:
            value = kind(raw)
        except ValueError:
            value = 0
        if not 0 < value < float("inf"):
            raise SettingsError(f"{source} must be a positive number, not {raw!r}")
        limits[name] = value
    return limits
