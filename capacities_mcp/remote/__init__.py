"""Remote multi-user mode: many people, several replicas, one shared State.

Imports api, auth and server; nothing below imports it. The Redis backend and its package load
only when a Redis URL is given, so the single-user stdio server never pays for them.
"""

from ._crypto import EncryptionKeyError, TokenCipher, TokenDecryptError, new_key_spec
from ._state import MemoryState, State, StateUnavailableError, open_state

__all__ = [
    "EncryptionKeyError",
    "MemoryState",
    "State",
    "StateUnavailableError",
    "TokenCipher",
    "TokenDecryptError",
    "new_key_spec",
    "open_state",
]
