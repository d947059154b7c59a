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


def _is_api_error_body(parsed: Any) -> bool:
    """The API's documented error document: a known `code` and a `message`."""
    return (
        isinstance(parsed, Mapping)
        and parsed.get("code") in ERROR_CODES
        and isinstance(parsed.get("message"), str)
    )


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


_MAYBE_APPLIED_NOTE = "; the write may or may not have been applied: check before retrying"


class CapacitiesError(Exception):
    """Base of every error this package raises about the Capacities API.

    `maybe_applied` is true when the request was a write that may have taken effect despite the
    error (it reached, or may have reached, the API): check before sending it again. False means
    proven unchanged (never sent, a 429, an API error answer, bad input) or a read. The client
    sets it in one place for every error it raises (`_Transport._exchange`).
    """

    maybe_applied: bool = False

    def __str__(self) -> str:
        text = super().__str__()
        return text + _MAYBE_APPLIED_NOTE if self.maybe_applied else text


class CapacitiesApiError(CapacitiesError):
    """The API answered with an error (or something that cannot be used).

    `code` is one of `ERROR_CODES` or `cap_unknown`; `retry_after` is in seconds when the API (or
    our own rate limiter) said when to try again; `missing_scopes` lists the scopes a 403 named.
    `api_error_body` is true when the body was the API's own error document (`code` + `message`):
    the API itself refused, as opposed to a proxy's page or a body cut short.
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
        api_error_body: bool = False,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retry_after = retry_after
        self.route = route
        self.api_error_body = api_error_body
        self.maybe_applied = maybe_applied

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
        api_error_body = False
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
                api_error_body = _is_api_error_body(parsed)
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
        return cls(
            status,
            code,
            message,
            details,
            retry_after=retry_after,
            route=route,
            api_error_body=api_error_body,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code!r}, message={self.message!r}, "
            f"maybe_applied={self.maybe_applied})"
        )


class CapacitiesConnectionError(CapacitiesApiError):
    """The API could not be reached, or did not answer in time (status 0).

    `request_sent` is false only when the request provably never left (connection refused,
    connect timeout): then nothing can have changed. For a write, `maybe_applied` follows.
    """

    def __init__(
        self,
        message: str,
        *,
        request_sent: bool = True,
        maybe_applied: bool = False,
        route: str | None = None,
    ) -> None:
        super().__init__(0, "cap_connection_error", message, route=route, maybe_applied=maybe_applied)
        self.request_sent = request_sent


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
