"""One account of the sandbox: a space and what works on it, nothing shared.

A sandbox serves one space, or several (`SandboxConfig.accounts`) so that multi-user servers
can be tested with real isolation. What a token reaches is its account's: the state, the
service over it, upload sessions and files, queued daily-note appends. The rest (quotas, fault
switches, OAuth, the admin token, the server's address) belongs to the runtime and is shared.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ._config import SandboxConfig
from ._media import MediaUploads
from ._space import SpaceService
from ._store import SandboxStore

__all__ = ["SandboxAccount"]


class SandboxAccount:
    """A space's state, the service over it, its uploads and its queued daily-note appends."""

    def __init__(self, store: SandboxStore, config: SandboxConfig, *, base_url: Callable[[], str]) -> None:
        """`base_url`: the sandbox's address (shared, known once the server has its port)."""
        self.store = store
        self.store.claim()  # one sandbox per data file
        self.service = SpaceService(store, config.clock)
        self.media = MediaUploads(max_bytes=config.max_upload_bytes, part_size=config.upload_part_size)
        self._base_url = base_url
        self._daily_note_delay = config.daily_note_delay
        self._pending: list[list[Callable[[], None]]] = []  # queued daily-note appends: [apply]

    @property
    def base_url(self) -> str:
        """Where the sandbox serves, so that uploaded files get full URLs."""
        return self._base_url()

    def queue(self, apply: Callable[[], None]) -> None:
        """Apply a daily-note append now (delay 0) or after `daily_note_delay` seconds.

        A sleeping daemon thread, not the event loop, applies it: the app then works under any
        ASGI server and loop, and the store lock keeps the change atomic. (Not `threading.Timer`:
        its timed wait never ends when the process clock is faked, as libfaketime does.)
        """
        delay = self._daily_note_delay
        if delay <= 0:
            apply()
            return
        entry = [apply]  # its own identity, even if the same function is queued twice

        def later() -> None:
            time.sleep(delay)
            with self.store.lock:
                if any(queued is entry for queued in self._pending):  # not flushed meanwhile
                    self._pending = [queued for queued in self._pending if queued is not entry]
                    apply()
                    self.store.save()

        with self.store.lock:
            self._pending.append(entry)
        threading.Thread(target=later, name="daily-note-append", daemon=True).start()

    @property
    def pending_daily_notes(self) -> int:
        return len(self._pending)

    def flush_daily_notes(self) -> None:
        """Apply every queued daily-note append now, in order (also done on shutdown)."""
        with self.store.lock:
            pending, self._pending = self._pending, []
            for (apply,) in pending:
                apply()
            if pending:
                self.store.save()

    def close(self) -> None:
        """Apply queued daily-note appends and let another sandbox serve the data file."""
        self.flush_daily_notes()
        self.store.release()
