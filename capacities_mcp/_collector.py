"""Garbage-collector settings for our long-running processes (server, remote server, sandbox),
and a pause for the moments one of them builds a large document or space.

Parsing one large API answer makes millions of small objects (a 25,000-block object is 5 MB of
JSON), and with CPython's default thresholds (700 allocations) the collector runs over and over
while they are made, each pass walking what earlier passes kept: `ApiObject` parsing of such a
body took 1.2 s, 0.5 s with these settings (json.loads alone: 0.35 s -> 0.10 s). Objects made at
start-up (modules, schemas, the demo space) are frozen out of every later pass. Cycles are still
collected, only in bigger batches.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["COLLECTOR_THRESHOLDS", "collector_paused", "tune_garbage_collector"]

COLLECTOR_THRESHOLDS = (50_000, 20, 20)
"""Allocations before a young collection, and young (then middle) collections per older one."""


def tune_garbage_collector() -> None:
    """Call once, after start-up work and before serving."""
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector while a large document or space is built.

    A large document becomes hundreds of thousands of objects (markdown-it's tokens and tree,
    then the blocks), and the collector walks them again and again while they are made. Paused,
    25,000 to-dos take about a quarter less CPU in total, counting the one collection the pause
    defers to later. When another thread paused it first, it is left for that thread to restore.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
