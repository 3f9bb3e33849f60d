"""Shared helpers for the benchmarks: timing with repeats, machine facts, results."""

import platform
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any


def per_call_us(fn: Callable[[], object], number: int, repeats: int) -> dict[str, float]:
    """Median, min and max microseconds per call over `repeats` runs of `number` calls."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number * 1e6)
    return summary(samples)


def summary(samples: list[float]) -> dict[str, float]:
    """Median, min and max of repeated measurements."""
    return {
        "median": round(statistics.median(samples), 4),
        "min": round(min(samples), 4),
        "max": round(max(samples), 4),
    }


def machine() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "date": date.today().isoformat(),  # noqa: DTZ011 (a report's date, not engine time)
    }


def ratio(ours: float, peer: float) -> float:
    return round(ours / peer, 4) if peer else float("inf")
