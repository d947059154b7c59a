"""Secrets in the OS keyring (macOS Keychain, Windows Credential Locker, Secret Service).

Opt-in (`auth login --keyring`, needs the `keyring` extra): the JSON file then keeps only the
non-secret part of the credentials (API URL, kind, scopes, expiry, space) plus a marker, and the
tokens live in one keyring entry named after the file. The file stays the place that says what
is stored, so locking, `status` and `logout` work the same for both.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["KEYRING_SERVICE", "KeyringUnavailable", "delete_secrets", "load_secrets", "save_secrets"]

KEYRING_SERVICE = "capacities-mcp"


class KeyringUnavailable(Exception):
    """No usable keyring (package missing, no backend, or the backend refused)."""


def _keyring() -> Any:
    try:
        import keyring
        import keyring.errors
    except ImportError:
        raise KeyringUnavailable(
            "the `keyring` package is not installed (pip install 'capacities-mcp[keyring]')"
        ) from None
    return keyring


def save_secrets(account: str, secrets: dict[str, str]) -> None:
    keyring = _keyring()
    try:
        keyring.set_password(KEYRING_SERVICE, account, json.dumps(secrets))
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(
            f"the OS keyring refused to store the credentials ({type(exc).__name__})"
        ) from None


def load_secrets(account: str) -> dict[str, str] | None:
    keyring = _keyring()
    try:
        raw = keyring.get_password(KEYRING_SERVICE, account)
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(f"the OS keyring could not be read ({type(exc).__name__})") from None
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def delete_secrets(account: str) -> bool:
    keyring = _keyring()
    try:
        keyring.delete_password(KEYRING_SERVICE, account)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(
            f"the OS keyring could not delete the entry ({type(exc).__name__})"
        ) from None
    return True
