"""The data plane: runs one document through the pipeline stages, transport-agnostic.

Servicers translate proto ⇄ domain and call `DataPlane.classify`; everything
here works on domain objects. CPU work runs in the one bounded executor; the
event loop only waits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import structlog

from sidecar.config import Settings
from sidecar.domain import ClassifyResult, Document, Inspection, Prediction
from sidecar.errors import DeadlineExceeded, Reason, ResourceExhausted
from sidecar.models.registry import ModelRegistry
from sidecar.models.runtime import OnnxModel
from sidecar.pipeline.decide import Thresholds, decide
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.infer import infer_batch
from sidecar.pipeline.normalize import normalize_page
from sidecar.pipeline.validate import validate_document

log = structlog.get_logger("doctriage.request")
T = TypeVar("T")


class DataPlane:
    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.executor = ThreadPoolExecutor(max_workers=settings.server.workers, thread_name_prefix="doctriage-cpu")
        self.thresholds = Thresholds(settings.decision.accept, settings.decision.review_below)
        self._in_flight = 0
        self.draining = False

    # -- admission -------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    # -- the pipeline ----------------------------------------------------

    async def classify(self, doc: Document) -> ClassifyResult:
        if self._in_flight >= self.settings.server.max_concurrent_requests:
            raise ResourceExhausted("too many requests in flight", Reason.OVERLOADED, retry_after=0.05)
        self._in_flight += 1
        started = time.perf_counter()
        try:
            result = await self._classify(doc)
        except Exception as exc:
            log.info(
                "classify",
                outcome="error",
                error=type(exc).__name__,
                reason=str(getattr(exc, "reason", "INTERNAL")),
                latency_s=round(time.perf_counter() - started, 6),
            )
            raise
        finally:
            self._in_flight -= 1
        result.timings["total"] = time.perf_counter() - started
        self._record(result)
        return result

    async def _classify(self, doc: Document) -> ClassifyResult:
        timings: dict[str, float] = {}
        inspection = await self._stage("validate", timings, doc, validate_document, doc, self.settings.validation)
        model = self._route(doc)
        prediction = await self._stage("predict", timings, doc, self._predict, model, doc, inspection, timings)
        started = time.perf_counter()
        decision = decide(prediction, self.thresholds)
        timings["decide"] = time.perf_counter() - started
        return ClassifyResult(
            request_id=doc.request_id,
            client_ref=doc.client_ref,
            inspection=inspection,
            prediction=prediction,
            decision=decision,
            timings=timings,
            flags=inspection.flags,
        )

    def _route(self, doc: Document) -> OnnxModel:
        settings = self.settings.models
        return self.registry.get(settings.name, settings.default_version)

    def _predict(
        self, model: OnnxModel, doc: Document, inspection: Inspection, timings: dict[str, float]
    ) -> Prediction:
        spec = model.manifest.input_spec
        t0 = time.perf_counter()
        page = decode_document(doc.content, inspection, (spec.height, spec.width), self.settings.validation.max_pixels)
        t1 = time.perf_counter()
        tensor = normalize_page(page, spec)
        t2 = time.perf_counter()
        timings["decode"], timings["normalize"] = t1 - t0, t2 - t1
        self._check_deadline(doc)
        prediction = infer_batch(model, tensor[np.newaxis])[0]
        timings["model"] = time.perf_counter() - t2
        return prediction

    async def _stage(
        self, name: str, timings: dict[str, float], doc: Document, fn: Callable[..., T], *args: object
    ) -> T:
        """Run one CPU stage in the executor, honouring the request's deadline."""
        self._check_deadline(doc)
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.executor, fn, *args)
        left = doc.time_left()
        try:
            result = await (asyncio.wait_for(future, left) if left is not None else future)
        except TimeoutError:
            raise DeadlineExceeded(f"deadline passed during {name}") from None
        timings.setdefault(name, time.perf_counter() - started)
        return result

    @staticmethod
    def _check_deadline(doc: Document) -> None:
        left = doc.time_left()
        if left is not None and left <= 0:
            raise DeadlineExceeded("the request's deadline has passed")

    def _record(self, result: ClassifyResult) -> None:
        p = result.prediction
        log.info(
            "classify",
            outcome="ok",
            digest=result.inspection.digest,
            content_type=result.inspection.kind.value,
            model=f"{p.model_name}/{p.model_version}",
            label=p.label,
            confidence=round(p.confidence, 4),
            ood_score=round(p.ood_score, 4),
            decision=result.decision.kind.value,
            source=p.source.value,
            latency_s=round(result.timings.get("total", 0.0), 6),
            timings={k: round(v, 6) for k, v in result.timings.items()},
        )
