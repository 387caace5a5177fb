"""Cost: a per-request estimate from measured CPU/GPU seconds and configured prices, summed per UTC day.

cost = cpu_seconds × cost.cpu_second_price + gpu_seconds × cost.gpu_second_price

The CPU seconds are what the data plane measured for the document (thread CPU time of
its executor stages when it passes them, else the wall time of those stages, which on
a saturated executor is the CPU time it held); GPU seconds are the model stage's time
when the model ran on CUDA. Prices are per second of the resource, so the estimate
follows the real work: a cache hit costs almost nothing, an OCR'd scan a lot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sidecar.config import CostSettings


def _utc_day(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).date().isoformat()


class CostTracker:
    """Thread-safe running totals: since start and for the current UTC day."""

    def __init__(self, settings: CostSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._day = _utc_day(clock())
        self._today = 0.0
        self._total = 0.0
        self._predictions_today = 0

    def estimate(self, cpu_seconds: float, gpu_seconds: float = 0.0) -> float:
        s = self.settings
        return max(0.0, cpu_seconds) * s.cpu_second_price + max(0.0, gpu_seconds) * s.gpu_second_price

    def add(self, cost: float) -> None:
        with self._lock:
            self._roll()
            self._today += cost
            self._total += cost
            self._predictions_today += 1

    def _roll(self) -> None:
        day = _utc_day(self._clock())
        if day != self._day:
            self._day, self._today, self._predictions_today = day, 0.0, 0

    @property
    def today(self) -> float:
        with self._lock:
            self._roll()
            return self._today

    @property
    def total(self) -> float:
        return self._total

    @property
    def predictions_today(self) -> int:
        with self._lock:
            self._roll()
            return self._predictions_today
