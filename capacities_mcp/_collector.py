"""Garbage-collector settings for our long-running processes (server, remote server, sandbox).

Parsing one large API answer makes millions of small objects (a 25,000-block object is 5 MB of
JSON), and with CPython's default thresholds (700 allocations) the collector runs over and over
while they are made, each pass walking what earlier passes kept: `ApiObject` parsing of such a
body took 1.2 s, 0.5 s with these settings (json.loads alone: 0.35 s -> 0.10 s). Objects made at
start-up (modules, schemas, the demo space) are frozen out of every later pass. Cycles are still
collected, only in bigger batches.
"""

from __future__ import annotations

import gc

__all__ = ["COLLECTOR_THRESHOLDS", "tune_garbage_collector"]

COLLECTOR_THRESHOLDS = (50_000, 20, 20)
"""Allocations before a young collection, and young (then middle) collections per older one."""


def tune_garbage_collector() -> None:
    """Call once, after start-up work and before serving."""
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
