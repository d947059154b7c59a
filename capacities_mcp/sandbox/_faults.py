"""Run-time fault switches, so tests can make the sandbox misbehave the way the real API can."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields
from typing import Any

__all__ = ["Faults"]

_FORCEABLE_STATUSES = range(500, 600)


@dataclass
class Faults:
    """What the sandbox should get wrong right now; every switch is off after `reset()`.

    * `latency`: seconds added before every API/OAuth response.
    * `status`: answer every API request with this 5xx status (JSON error body with its code).
    * `html_429`: answer every API request with Cloudflare's HTML "error code: 1015" page.
    * `drop_connection`: close the socket without sending any HTTP response.
    * `expire_tokens`: every OAuth access token counts as expired (personal tokens still work).
    """

    latency: float = 0.0
    status: int | None = None
    html_429: bool = False
    drop_connection: bool = False
    expire_tokens: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def reset(self) -> None:
        self.update({}, reset=True)

    def update(self, changes: Mapping[str, Any], *, reset: bool = False) -> None:
        """Apply switches by name (as `POST /_sandbox/faults` does); ValueError on a bad one."""
        switches = _switches()
        unknown = set(changes) - {f.name for f in switches}
        if unknown:
            raise ValueError(f"Unknown fault switch(es): {', '.join(sorted(unknown))}")
        # Reset means every switch back to its declared default (all of them plain values).
        values: dict[str, Any] = {f.name: f.default if reset else getattr(self, f.name) for f in switches}
        for name, value in changes.items():
            values[name] = _checked(name, value)
        with self._lock:
            for name, value in values.items():
                setattr(self, name, value)

    def snapshot(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in _switches()}


def _switches() -> list[Field[Any]]:
    """The public switches (not the lock), in declaration order."""
    return [f for f in fields(Faults) if not f.name.startswith("_")]


def _checked(name: str, value: Any) -> Any:
    if name == "latency":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError("latency must be a number of seconds >= 0")
        return float(value)
    if name == "status":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value not in _FORCEABLE_STATUSES:
            raise ValueError("status must be null or a 5xx status code such as 500 or 503")
        return value
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value
