"""What a phase measures: successes with their latencies, errors with a few samples."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

ERROR_SAMPLES = 5


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Recorder:
    """Collects one phase's outcomes. ``count`` is in ``unit`` (a request may carry many
    resources); latencies are per request, successful ones only."""

    unit: str
    concurrency: int = 1
    count: int = 0
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    _started: float = field(default_factory=time.perf_counter)
    _cpu_started: float = field(default_factory=time.process_time)
    _seconds: float | None = None
    _client_cpu: float = 0.0

    def ok(self, latency: float, units: int = 1) -> None:
        self.requests += 1
        self.count += units
        self.latencies.append(latency)

    def error(self, message: str) -> None:
        self.requests += 1
        self.errors += 1
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(message[:300])

    def restart_clock(self) -> None:
        self._started, self._cpu_started = time.perf_counter(), time.process_time()

    def stop(self) -> None:
        self._seconds = time.perf_counter() - self._started
        self._client_cpu = time.process_time() - self._cpu_started

    @property
    def seconds(self) -> float:
        return self._seconds if self._seconds is not None else time.perf_counter() - self._started

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        seconds = self.seconds
        return {
            "count": self.count,
            "unit": self.unit,
            "requests": self.requests,
            "concurrency": self.concurrency,
            "seconds": round(seconds, 3),
            "per_second": round(self.count / seconds, 1) if seconds > 0 else 0.0,
            "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2) if ordered else 0.0,
            "errors": self.errors,
            "error_samples": self.error_samples,
            # Share of one core the load tool itself used: near 1.0 means it was the limit.
            "client_cpu": round(self._client_cpu / seconds, 2) if seconds > 0 else 0.0,
            **self.extra,
        }
