"""Shared by the benchmark scripts: a quiet sandbox and simple timing statistics.

Benchmarks report ratios against a baseline measured in the same run, never absolute times:
these machines are noisy, but both sides of a ratio see the same noise.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable

from capacities_mcp.sandbox import SandboxConfig, SandboxServer

__all__ = ["median_ms", "quiet_sandbox", "time_async"]


def quiet_sandbox() -> SandboxServer:
    """A sandbox whose rate-limit window is so short that quotas never interfere."""
    return SandboxServer(SandboxConfig(port=0, rate_limit_window=0.001))


async def time_async(call: Callable[[], Awaitable[object]], repeats: int) -> list[float]:
    """Seconds taken by each of `repeats` sequential calls (after 5 warm-up calls)."""
    for _ in range(5):
        await call()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return samples


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000
