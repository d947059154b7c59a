"""Logging for the server process: stderr only, quiet libraries, secrets redacted.

stdout belongs to the MCP protocol in stdio mode, so the one handler writes to stderr (MCP hosts
capture it into their per-server log file). Tokens must never reach a log line: the filter masks
the configured secret values, anything shaped like a Capacities token and any bearer credential,
whatever logger produced the record (ours, the SDK's, uvicorn's or httpx2's).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

__all__ = ["RedactSecrets", "configure_logging", "redact"]

# Capacities token prefixes, credentials after "Bearer " as in an Authorization header (of any
# length: a short credential is still a credential), and JWTs (OAuth access tokens are JWTs; a
# rotated one is in no configured-secrets list).
_TOKEN_SHAPES = re.compile(
    r"(cap-api-|cap-oauth-)[A-Za-z0-9._~+/=*-]+"
    r"|Bearer\s+[A-Za-z0-9._~+/=-]+"
    r"|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"
)


def redact(text: str) -> str:
    """Mask anything shaped like a Capacities token, a bearer credential or a JWT.

    The one masking rule for log lines, tool errors and CLI messages.
    """

    def mask(match: re.Match[str]) -> str:
        prefix = match.group(1) or ("Bearer " if match.group(0).startswith("Bearer") else "")
        return prefix + "***"

    return _TOKEN_SHAPES.sub(mask, text)


# Libraries that log every request at INFO; they only speak up at DEBUG.
_CHATTY = ("mcp", "uvicorn", "uvicorn.access", "uvicorn.error", "httpx2", "httpcore2", "sse_starlette")


class RedactSecrets(logging.Filter):
    """Masks secrets in the fully formatted message (args included) of every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return redact(text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self._mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._mask(record.exc_text)
        return True


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Route every log record to stderr through the redaction filter.

    Replaces any handler already on the root logger (the SDK installs one of its own when no
    handler exists), so this must run before anything else logs.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(numeric if numeric <= logging.DEBUG else logging.WARNING)


def reclaim_uvicorn_loggers() -> None:
    """Undo the logging config uvicorn installs when a `uvicorn.Config` uses its default.

    The embedded sandbox runs its own uvicorn; with uvicorn's default `log_config` that gives the
    `uvicorn` loggers private handlers (the access log one writes to stdout) which bypass our
    stderr handler and its redaction. Called after starting the sandbox.
    """
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
