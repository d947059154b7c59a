"""How a sandbox is set up; one frozen value shared by the app, the server and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ._clock import Clock

__all__ = ["CURRENT_API_VERSION", "MAX_SEED_SIZE", "SandboxConfig"]

CURRENT_API_VERSION = "1.0.0"
MAX_SEED_SIZE = 200_000
"""More than any test or bench needs; beyond it the sandbox's memory, not realism, is tested."""


@dataclass(frozen=True)
class SandboxConfig:
    """Every knob of the sandbox; the defaults behave like the real API, minus the waiting.

    `port=0` picks a free port. `data_file=None` keeps state in memory only. `rate_limit_window`
    is the fixed window (seconds) of every route's quota; shrink it in tests. `daily_note_delay`
    is how long a daily-note append stays queued (0: applied before the answer is sent).
    `seed` loads the demo space on first start; `seed_size` adds that many generated objects to
    it (a large realistic space, the same for the same size and `seed_random`; see `_synthetic`).
    `max_body_bytes` bounds request bodies (413). Media uploads take files up to
    `max_upload_bytes`, in parts of `upload_part_size` bytes (a part's body may be that large).
    `clock` is the one source of "now" and "today" (seed dates, daily notes, timestamps).
    `admin_token` guards the fault switches and OAuth auto-approval (None: a random one).
    `accounts` names several accounts, each with its own demo space (the first one is the main
    space, the one `api_token` and the data file belong to; the others live in memory): the OAuth
    consent page asks which one signs in, so multi-user servers can be tested with real isolation.
    """

    host: str = "127.0.0.1"
    port: int = 0
    data_file: str | Path | None = None
    rate_limit_window: float = 60.0
    access_token_lifetime: float = 3600.0
    refresh_token_lifetime: float = 30 * 86400.0
    daily_note_delay: float = 0.0
    auto_approve: bool = False
    seed: bool = True
    seed_size: int = 0
    seed_random: int = 0
    min_api_version: str = "1.0.0"
    reuse_detection: bool = True
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 50 * 1024 * 1024
    upload_part_size: int = 5 * 1024 * 1024
    clock: Clock = field(default_factory=Clock, compare=False)
    admin_token: str | None = field(default=None, repr=False)
    accounts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.seed_size <= MAX_SEED_SIZE:  # the one check (the CLI shows its text)
            raise ValueError(f"seed size must be between 0 and {MAX_SEED_SIZE}, not {self.seed_size}")
        if self.upload_part_size < 1 or self.max_upload_bytes < 1:
            raise ValueError("upload_part_size and max_upload_bytes must be >= 1")
        if self.seed_size and not self.seed:
            raise ValueError("seed_size adds objects to the demo space: it needs seed=True")

    @property
    def data_path(self) -> Path | None:
        return Path(self.data_file) if self.data_file is not None else None
