"""Circuit breaker around one model version: errors, timeouts and over-budget calls open it.

CLOSED: calls pass; `failure_threshold` consecutive failures open it.
OPEN: calls are refused at once (the caller falls back) for `reset_timeout_s`.
HALF_OPEN: one probe call passes; success closes the breaker, failure opens it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import IntEnum

import structlog

log = structlog.get_logger(__name__)


class BreakerState(IntEnum):
    # Integer values: exported as the doctriage_circuit_breaker_state gauge.
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        failure_threshold: int = 5,
        reset_timeout_s: float = 10.0,
        latency_budget_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, BreakerState], None] | None = None,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self.latency_budget_s = latency_budget_s
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            self._maybe_half_open()
            return self._state

    def allow(self) -> bool:
        """May a call go through now? In HALF_OPEN only one probe at a time does."""
        with self._lock:
            self._maybe_half_open()
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.HALF_OPEN and not self._probe_in_flight:
                self._probe_in_flight = True
                return True
            return False

    def record(self, ok: bool, latency_s: float = 0.0) -> None:
        """The outcome of an allowed call; a successful call over the latency budget is a failure."""
        ok = ok and latency_s <= self.latency_budget_s
        with self._lock:
            self._probe_in_flight = False
            if ok:
                self._failures = 0
                self._set(BreakerState.CLOSED)
                return
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
                self._set(BreakerState.OPEN)

    def release(self) -> None:
        """An allowed call ended without telling anything about the model (load shed, deadline)."""
        with self._lock:
            self._probe_in_flight = False

    def _maybe_half_open(self) -> None:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.reset_timeout_s:
            self._set(BreakerState.HALF_OPEN)

    def _set(self, state: BreakerState) -> None:
        if state is self._state:
            return
        self._state = state
        log.warning("circuit_breaker", model=self.name, state=state.name, failures=self._failures)
        if self._on_change is not None:
            self._on_change(self.name, state)
