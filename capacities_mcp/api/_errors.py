"""The client's errors, parsed exactly as the official SDK parses them (plus retry hints)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "CAP_UNKNOWN",
    "ERROR_CODES",
    "CapacitiesApiError",
    "CapacitiesConnectionError",
    "CapacitiesError",
    "CapacitiesOAuthError",
    "code_for_status",
]

ERROR_CODES = (
    "cap_not_authenticated",
    "cap_scope_insufficient",
    "cap_not_found",
    "cap_invalid_input",
    "cap_rate_limit_exceeded",
    "cap_server_error",
    "cap_service_unavailable",
    "cap_object_creation_quota_reached",
)
CAP_UNKNOWN = "cap_unknown"


def code_for_status(status: int) -> str:
    """The code the official SDK infers when the body names none."""
    if status == 401:
        return "cap_not_authenticated"
    if status == 403:
        return "cap_scope_insufficient"
    if status == 404:
        return "cap_not_found"
    if status in (400, 413):
        return "cap_invalid_input"
    if status == 429:
        return "cap_rate_limit_exceeded"
    if status == 503:
        return "cap_service_unavailable"
    if status >= 500:
        return "cap_server_error"
    return CAP_UNKNOWN


class CapacitiesError(Exception):
    """Base of every error this package raises about the Capacities API."""


class CapacitiesApiError(CapacitiesError):
    """The API answered with an error (or something that cannot be used).

    `code` is one of `ERROR_CODES` or `cap_unknown`; `retry_after` is in seconds when the API (or
    our own rate limiter) said when to try again; `missing_scopes` lists the scopes a 403 named.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        *,
        retry_after: float | None = None,
        route: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retry_after = retry_after
        self.route = route

    @property
    def scope_details(self) -> dict[str, Any] | None:
        if (
            self.code == "cap_scope_insufficient"
            and isinstance(self.details, dict)
            and isinstance(self.details.get("missingScopes"), list)
        ):
            return self.details
        return None

    @property
    def missing_scopes(self) -> list[str]:
        details = self.scope_details
        return [str(s) for s in details["missingScopes"]] if details else []

    @classmethod
    def from_response(
        cls,
        status: int,
        body: str,
        *,
        reason: str = "",
        retry_after: float | None = None,
        route: str | None = None,
    ) -> CapacitiesApiError:
        """Parse an error response the way `CapacitiesApiError.fromResponse` does."""
        code = CAP_UNKNOWN
        message = body.strip() or reason
        details: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                code = code_for_status(status)
            else:
                if parsed is None:
                    # `null`: the SDK's `body.message` throws, so it infers from the status.
                    return cls(
                        status,
                        code_for_status(status),
                        message,
                        retry_after=retry_after,
                        route=route,
                    )
                if isinstance(parsed, Mapping):
                    if isinstance(parsed.get("message"), str):
                        message = parsed["message"]
                    if "details" in parsed:
                        details = parsed["details"]
                    if isinstance(parsed.get("code"), str) and parsed["code"] in ERROR_CODES:
                        code = parsed["code"]
                if status == 429:
                    code = "cap_rate_limit_exceeded"
        else:
            code = code_for_status(status)
        return cls(status, code, message, details, retry_after=retry_after, route=route)

    def __repr__(self) -> str:
        return f"CapacitiesApiError(status={self.status}, code={self.code!r}, message={self.message!r})"


class CapacitiesConnectionError(CapacitiesApiError):
    """The API could not be reached, or did not answer in time (status 0).

    `maybe_applied` is true when a write was sent but no answer came: it may or may not have
    taken effect, so check before sending it again.
    """

    def __init__(self, message: str, *, maybe_applied: bool, route: str | None = None) -> None:
        super().__init__(0, "cap_connection_error", message, route=route)
        self.maybe_applied = maybe_applied


class CapacitiesOAuthError(CapacitiesError):
    """Refreshing the OAuth tokens failed: the user has to sign in again."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error = error
        self.__cause__ = cause
