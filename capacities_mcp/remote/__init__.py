"""Remote multi-user mode: many people, several replicas, one shared State.

Imports api, auth and server; nothing below imports it. The Redis backend and its package load
only when a Redis URL is given, so the single-user stdio server never pays for them.
"""

from ._app import MultiUserServer, RemoteRuntime, build_remote_app, open_runtime
from ._crypto import EncryptionKeyError, TokenCipher, TokenDecryptError, new_key_spec
from ._oauth import MultiUserProvider
from ._quotas import StateQuotaStore, owner_hash
from ._settings import RemoteSettings, resolve_remote_settings
from ._state import MemoryState, State, StateUnavailableError, open_state

__all__ = [
    "EncryptionKeyError",
    "MemoryState",
    "MultiUserProvider",
    "MultiUserServer",
    "RemoteRuntime",
    "RemoteSettings",
    "State",
    "StateQuotaStore",
    "StateUnavailableError",
    "TokenCipher",
    "TokenDecryptError",
    "build_remote_app",
    "new_key_spec",
    "open_runtime",
    "open_state",
    "owner_hash",
    "resolve_remote_settings",
]
