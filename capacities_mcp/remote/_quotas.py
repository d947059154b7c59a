"""The API's rate-limit quotas of one Capacities account, kept in the State all replicas share.

Implements `api.QuotaStore` (the api package defines it and knows nothing of remote) lock-free:
read the record, compute the change, write it with `put_if` only if nobody changed it since, else
read again. One round trip for an answer that changes nothing (the common case), two for a
change: every API call costs Redis three, where a lock would cost eight. The account appears in
keys only as a SHA-256 of what identifies it, never as a token.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

from capacities_mcp.api import QuotaStore, SharedQuota

from ._state import State

__all__ = ["StateQuotaStore", "owner_hash"]

_NAMESPACE = "quota"
_KEEP_AFTER_RESET = 60.0  # seconds a record outlives its window (then nobody needs it)


def owner_hash(owner: str) -> str:
    """What stands for an account in keys and logs: a SHA-256 prefix of its token or id."""
    return hashlib.sha256(owner.encode()).hexdigest()[:32]


def _dumps(quota: SharedQuota) -> bytes:
    return json.dumps([quota.limit, quota.remaining, quota.reset_at, quota.settled]).encode()


def _loads(raw: bytes | None) -> SharedQuota | None:
    if raw is None:
        return None
    try:
        limit, remaining, reset_at, settled = json.loads(raw)
        return SharedQuota(limit, remaining, float(reset_at), bool(settled))
    except (ValueError, TypeError):
        return None  # unreadable (another version wrote it): start over from the next answer


class StateQuotaStore(QuotaStore):
    """One account's quotas in `state`; give every client of that account (on any replica) one."""

    def __init__(self, state: State, owner: str) -> None:
        """`owner` is the account's Capacities token or a stable id of it; only its hash is kept."""
        self._state = state
        self._owner = owner_hash(owner)

    async def modify(self, key: str, change: Callable[[SharedQuota | None], SharedQuota | None]) -> None:
        name = f"{self._owner}:{key}"
        while True:
            raw = await self._state.get(_NAMESPACE, name)
            quota = change(_loads(raw))
            if quota is None:
                return
            new = _dumps(quota)
            if new == raw:
                return
            ttl = max(1.0, quota.reset_at - time.time()) + _KEEP_AFTER_RESET
            if await self._state.put_if(_NAMESPACE, name, new, expected=raw, ttl=ttl):
                return
