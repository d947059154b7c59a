"""Capacities tokens at rest: AES-256-GCM with key ids, so keys can rotate without a migration.

`CAPACITIES_MCP_ENCRYPTION_KEY` holds `kid:base64key` pairs separated by commas. The first key
encrypts; every listed key decrypts, so a rotation is: put a new key first, keep the old one
after it until every stored token has been rewritten (tokens are rewritten on each refresh),
then drop it. Each blob names its key id, and the id is authenticated with the data.

Blob layout: version (1 byte, 1) | kid length (1 byte) | kid | nonce (12 bytes) | ciphertext+tag.
The caller's `aad` (for example the store key the blob lives under) binds a blob to its place:
a blob copied to another user's slot does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from capacities_mcp._environment import ENV_ENCRYPTION_KEY

__all__ = ["EncryptionKeyError", "TokenCipher", "TokenDecryptError", "new_key_spec"]

_VERSION = 1
_NONCE_BYTES = 12
_KEY_BYTES = 32
_KID = re.compile(r"[A-Za-z0-9_.-]{1,32}")


class EncryptionKeyError(ValueError):
    """The configured key is missing or malformed (the message names the variable, never the key)."""


class TokenDecryptError(ValueError):
    """A blob did not decrypt: unknown key id, wrong key or `aad`, or tampered with."""


def new_key_spec(kid: str = "k1") -> str:
    """A fresh `kid:base64key` value for the environment variable."""
    _check_kid(kid)
    return f"{kid}:{base64.b64encode(secrets.token_bytes(_KEY_BYTES)).decode()}"


def _check_kid(kid: str) -> str:
    if not _KID.fullmatch(kid):
        raise EncryptionKeyError(f"{ENV_ENCRYPTION_KEY}: key id {kid!r:.40} must be 1-32 of A-Za-z0-9_.-")
    return kid


def _decode_key(kid: str, text: str) -> bytes:
    plain = text.strip().replace("-", "+").replace("_", "/")  # URL-safe base64 too
    try:
        key = base64.b64decode(plain + "=" * (-len(plain) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != _KEY_BYTES:
        raise EncryptionKeyError(
            f"{ENV_ENCRYPTION_KEY}: key {kid!r} must be {_KEY_BYTES} random bytes in base64 "
            f"(make one with: python -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')"
        )
    return key


def _parse_spec(spec: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for part in spec.split(","):
        kid, sep, text = part.strip().partition(":")
        if not sep:
            raise EncryptionKeyError(f"{ENV_ENCRYPTION_KEY}: each entry is kid:base64key, comma-separated")
        kid = _check_kid(kid.strip())
        if kid in keys:
            raise EncryptionKeyError(f"{ENV_ENCRYPTION_KEY}: key id {kid!r} is listed twice")
        keys[kid] = _decode_key(kid, text)
    return keys


class TokenCipher:
    """Encrypts with the first key, decrypts with any; never shows a key in its repr."""

    def __init__(self, keys: Mapping[str, bytes], *, ephemeral: bool = False) -> None:
        if not keys:
            raise EncryptionKeyError(f"{ENV_ENCRYPTION_KEY}: no key given")
        for kid, key in keys.items():
            _check_kid(kid)
            if len(key) != _KEY_BYTES:
                raise EncryptionKeyError(f"key {kid!r} must be {_KEY_BYTES} bytes")
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self.primary_kid = next(iter(keys))
        self.is_ephemeral = ephemeral

    @classmethod
    def from_spec(cls, spec: str) -> TokenCipher:
        """From `kid:base64key[,kid:base64key...]` (the environment variable's format)."""
        return cls(_parse_spec(spec))

    @classmethod
    def ephemeral(cls) -> TokenCipher:
        """A random key for this process only: stored tokens do not survive a restart."""
        return cls({"ephemeral": secrets.token_bytes(_KEY_BYTES)}, ephemeral=True)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> TokenCipher | None:
        """The configured cipher, or None when the variable is unset or blank."""
        spec = (os.environ if environ is None else environ).get(ENV_ENCRYPTION_KEY, "").strip()
        return cls.from_spec(spec) if spec else None

    @classmethod
    def required_from_environment(cls, environ: Mapping[str, str] | None = None) -> TokenCipher:
        """The configured cipher; with a shared store (Redis) every replica needs the same key."""
        cipher = cls.from_environment(environ)
        if cipher is None:
            raise EncryptionKeyError(
                f"{ENV_ENCRYPTION_KEY} is required with a shared store (Redis): every replica must "
                f"decrypt the tokens the others stored. Set it to the same kid:base64key on each one, "
                f"for example {ENV_ENCRYPTION_KEY}=k1:<32 random bytes in base64>"
            )
        return cipher

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        header = bytes((_VERSION, len(self.primary_kid))) + self.primary_kid.encode()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._ciphers[self.primary_kid].encrypt(nonce, _bytes(plaintext), header + _bytes(aad))
        return header + nonce + sealed

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        blob, aad = _bytes(blob), _bytes(aad)
        if len(blob) < 2 or blob[0] != _VERSION:
            raise TokenDecryptError("not a token blob (unknown format)")
        end = 2 + blob[1]
        kid = blob[2:end].decode("ascii", errors="replace")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise TokenDecryptError(f"token blob sealed with key id {kid!r:.40}, which is not configured")
        nonce, sealed = blob[end : end + _NONCE_BYTES], blob[end + _NONCE_BYTES :]
        try:
            return cipher.decrypt(nonce, sealed, blob[:end] + aad)
        except (InvalidTag, ValueError):
            raise TokenDecryptError("token blob does not decrypt (tampered, or other key or aad)") from None

    def __repr__(self) -> str:
        return f"TokenCipher(key_ids={self.key_ids!r}, ephemeral={self.is_ephemeral})"


def _bytes(data: bytes) -> bytes:
    if not isinstance(data, bytes):
        raise TypeError(f"expected bytes, not {type(data).__name__}")
    return data
