"""TokenCipher: AES-GCM with key ids; rotation, tampering, bad keys, and no key ever shown."""

from __future__ import annotations

import base64

import pytest

from capacities_mcp._environment import ENV_ENCRYPTION_KEY
from capacities_mcp.remote import EncryptionKeyError, TokenCipher, TokenDecryptError, new_key_spec

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
SPEC_A = "a:" + base64.b64encode(KEY_A).decode()
SPEC_B = "b:" + base64.b64encode(KEY_B).decode()
AAD = b"capacities-token:user-hash"


def test_round_trip_names_the_key_and_hides_the_plaintext() -> None:
    cipher = TokenCipher.from_spec(SPEC_A)
    first, second = cipher.encrypt(b"cap-api-secret", AAD), cipher.encrypt(b"cap-api-secret", AAD)
    assert first != second  # a fresh nonce each time
    assert b"cap-api-secret" not in first and first[2:3] == b"a"
    assert cipher.decrypt(first, AAD) == cipher.decrypt(second, AAD) == b"cap-api-secret"
    assert cipher.decrypt(cipher.encrypt(b"", AAD), AAD) == b""


def test_rotation_new_key_encrypts_old_key_still_decrypts() -> None:
    old = TokenCipher.from_spec(SPEC_A)
    rotated = TokenCipher.from_spec(f"{SPEC_B}, {SPEC_A}")
    stored_before = old.encrypt(b"token", AAD)
    assert rotated.decrypt(stored_before, AAD) == b"token"
    stored_after = rotated.encrypt(b"token", AAD)
    assert stored_after[2:3] == b"b" and rotated.key_ids == ("b", "a") and rotated.primary_kid == "b"
    with pytest.raises(TokenDecryptError, match="'b'"):
        old.decrypt(stored_after, AAD)  # a replica not yet given the new key says which one it lacks


def test_blob_is_bound_to_its_aad() -> None:
    cipher = TokenCipher.from_spec(SPEC_A)
    blob = cipher.encrypt(b"token", b"slot-of-user-1")
    with pytest.raises(TokenDecryptError):
        cipher.decrypt(blob, b"slot-of-user-2")


def test_every_flipped_bit_position_and_every_truncation_is_refused() -> None:
    cipher = TokenCipher.from_spec(SPEC_A)
    blob = cipher.encrypt(b"token", AAD)
    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        with pytest.raises(TokenDecryptError):
            cipher.decrypt(bytes(tampered), AAD)
    for end in range(len(blob)):
        with pytest.raises(TokenDecryptError):
            cipher.decrypt(blob[:end], AAD)


def test_relabelling_a_blob_with_another_configured_key_id_is_refused() -> None:
    both = TokenCipher.from_spec(f"{SPEC_A},{SPEC_B}")
    blob = both.encrypt(b"token", AAD)
    relabelled = blob[:2] + b"b" + blob[3:]
    with pytest.raises(TokenDecryptError):
        both.decrypt(relabelled, AAD)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "nokey",
        "a:",
        "a:not base64!",
        "a:" + base64.b64encode(bytes(16)).decode(),  # AES-128 length: we want 256
        "a:" + base64.b64encode(bytes(33)).decode(),
        f"{SPEC_A},{SPEC_A}",
        "bad id:" + base64.b64encode(KEY_A).decode(),
        "x" * 33 + ":" + base64.b64encode(KEY_A).decode(),
        f"{SPEC_A},",
    ],
)
def test_malformed_key_specs_are_refused_without_showing_key_material(spec: str) -> None:
    with pytest.raises(EncryptionKeyError) as refused:
        TokenCipher.from_spec(spec)
    assert ENV_ENCRYPTION_KEY in str(refused.value)
    assert base64.b64encode(KEY_A).decode() not in str(refused.value)


def test_url_safe_base64_and_unpadded_keys_are_accepted() -> None:
    key = bytes([0xFB] * 32)  # encodes with + and / in standard base64
    url_safe = base64.urlsafe_b64encode(key).decode().rstrip("=")
    standard = TokenCipher.from_spec("k:" + base64.b64encode(key).decode())
    assert TokenCipher.from_spec(f"k:{url_safe}").decrypt(standard.encrypt(b"t", AAD), AAD) == b"t"


def test_environment_unset_blank_set_and_required() -> None:
    assert TokenCipher.from_environment({}) is None
    assert TokenCipher.from_environment({ENV_ENCRYPTION_KEY: "  "}) is None
    configured = TokenCipher.from_environment({ENV_ENCRYPTION_KEY: SPEC_A})
    assert configured is not None and configured.key_ids == ("a",) and not configured.is_ephemeral
    with pytest.raises(EncryptionKeyError, match=f"{ENV_ENCRYPTION_KEY} is required with a shared store"):
        TokenCipher.required_from_environment({})
    assert TokenCipher.required_from_environment({ENV_ENCRYPTION_KEY: SPEC_A}).key_ids == ("a",)


def test_ephemeral_keys_are_per_process_and_say_so() -> None:
    one, two = TokenCipher.ephemeral(), TokenCipher.ephemeral()
    assert one.is_ephemeral and two.is_ephemeral
    assert one.decrypt(one.encrypt(b"t", AAD), AAD) == b"t"
    with pytest.raises(TokenDecryptError):
        two.decrypt(one.encrypt(b"t", AAD), AAD)


def test_new_key_spec_makes_a_working_random_key() -> None:
    spec = new_key_spec("k7")
    assert spec.startswith("k7:") and spec != new_key_spec("k7")
    cipher = TokenCipher.from_spec(spec)
    assert cipher.decrypt(cipher.encrypt(b"t", AAD), AAD) == b"t"
    with pytest.raises(EncryptionKeyError):
        new_key_spec("no spaces")


def test_repr_shows_key_ids_only() -> None:
    text = repr(TokenCipher.from_spec(SPEC_A))
    assert text == "TokenCipher(key_ids=('a',), ephemeral=False)"


def test_only_bytes_are_encrypted() -> None:
    cipher = TokenCipher.from_spec(SPEC_A)
    with pytest.raises(TypeError):
        cipher.encrypt("text", AAD)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cipher.decrypt(cipher.encrypt(b"t", AAD), "aad")  # type: ignore[arg-type]
