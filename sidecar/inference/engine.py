"""Running a page through one model version: its dynamic batcher behind its circuit breaker.

`InferenceEngine.predict` raises `ModelFailure(reason)` when the version cannot answer
(`model_unavailable`: not loaded; `breaker_open`; `model_error`; `timeout`: still running
after `breaker.call_timeout_s`); calls over `latency_budget_s` still answer but count as
failures for the breaker. The data plane then walks the fallback chain. Load shedding
(queue full) and passed deadlines are not model failures: they propagate to the caller
unchanged and leave the breaker alone.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import structlog

from sidecar.config import BatchingSettings, BreakerSettings
from sidecar.domain import Prediction, Source
from sidecar.errors import DeadlineExceeded, ResourceExhausted
from sidecar.inference.batcher import DynamicBatcher, predict_unbatched
from sidecar.inference.breaker import BreakerState, CircuitBreaker
from sidecar.inference.registry import ModelRegistry
from sidecar.models.runtime import OnnxModel
from sidecar.observability import metrics as m

log = structlog.get_logger(__name__)


class ModelFailure(Exception):
    """The version could not answer; `reason` is a bounded fallback-reason label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def observe_batch(model: str, size: int, waits: list[float]) -> None:
    m.BATCH_SIZE.labels(model=model).observe(size)
    hist = m.BATCH_QUEUE_WAIT.labels(model=model)
    for wait in waits:
        hist.observe(wait)


def _breaker_changed(model: str, state: BreakerState) -> None:
    m.CIRCUIT_BREAKER_STATE.labels(model=model).set(int(state))


class InferenceEngine:
    def __init__(
        self, registry: ModelRegistry, executor: Executor, batching: BatchingSettings, breaker: BreakerSettings
    ) -> None:
        self.registry = registry
        self.executor = executor
        self.batching = batching
        self.breaker_settings = breaker
        self._batchers: dict[str, DynamicBatcher] = {}
        self._breakers: dict[str, CircuitBreaker] = {}

    def breaker(self, key: str) -> CircuitBreaker:
        breaker = self._breakers.get(key)
        if breaker is None:
            s = self.breaker_settings
            breaker = CircuitBreaker(
                key, s.failure_threshold, s.reset_timeout_s, s.latency_budget_s, on_change=_breaker_changed
            )
            self._breakers[key] = breaker
            m.CIRCUIT_BREAKER_STATE.labels(model=key).set(0)
        return breaker

    def _batcher(self, model: OnnxModel) -> DynamicBatcher:
        batcher = self._batchers.get(model.key)
        if batcher is None or batcher.model is not model:  # first use, or the version was reloaded
            if batcher is not None:
                stale = batcher
                asyncio.get_running_loop().create_task(stale.close())
            b = self.batching
            batcher = DynamicBatcher(
                model,
                self.executor,
                max_batch_size=b.max_batch_size,
                max_delay_s=b.max_delay_s,
                max_queue=b.max_queue,
                observer=observe_batch,
            )
            self._batchers[model.key] = batcher
        return batcher

    async def release(self, name: str, version: str) -> None:
        """The version was unloaded: stop its batcher (waiting callers fall back)."""
        batcher = self._batchers.pop(f"{name}/{version}", None)
        if batcher is not None:
            await batcher.close()

    async def close(self) -> None:
        for batcher in list(self._batchers.values()):
            await batcher.close()
        self._batchers.clear()

    async def predict(
        self,
        model: OnnxModel | None,
        key: str,
        image: npt.NDArray[np.float32],
        text: npt.NDArray[np.float32] | None,
        deadline: float | None,
        source: Source = Source.MODEL,
    ) -> Prediction:
        if model is None:
            raise ModelFailure("model_unavailable", f"{key} is not loaded")
        breaker = self.breaker(key)
        if not breaker.allow():
            raise ModelFailure("breaker_open", key)
        started = time.perf_counter()
        call_timeout = self.breaker_settings.call_timeout_s
        left = None if deadline is None else deadline - time.monotonic()
        try:
            if self.batching.enabled:
                call = self._batcher(model).predict(image, text, deadline)
            else:
                call = predict_unbatched(model, self.executor, image, text, observe_batch)
            prediction = await asyncio.wait_for(call, call_timeout if left is None else min(left, call_timeout))
        except TimeoutError:
            if left is not None and left <= call_timeout:
                breaker.release()
                raise DeadlineExceeded("the deadline passed while the model ran") from None
            breaker.record(False)
            log.warning("model_timeout", model=key, timeout_s=call_timeout)
            raise ModelFailure("timeout", f"{key} took longer than {call_timeout:g} s") from None
        except (ResourceExhausted, DeadlineExceeded, asyncio.CancelledError):
            breaker.release()
            raise
        except Exception as exc:  # any model failure opens the way to the fallbacks
            breaker.record(False)
            log.warning("model_error", model=key, error=f"{type(exc).__name__}: {exc}"[:300])
            raise ModelFailure("model_error", type(exc).__name__) from exc
        latency = time.perf_counter() - started
        breaker.record(True, latency)
        if source is not Source.MODEL:
            prediction = replace(prediction, source=source)
        return prediction
