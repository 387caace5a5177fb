"""Answers for one request: a model version's prediction (batched, behind its breaker), the
fallbacks when it fails, the shadow copy, and the prediction cache.

fallbacks, in order: the lite model (`traffic.fallback_name/version`) → rule-based classification
from the page's text → the latest cached answer for the same bytes → DEGRADED (human review).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import structlog

from sidecar.config import Settings
from sidecar.dataplane.cache import CachedAnswer, PredictionCache
from sidecar.dataplane.request import Request
from sidecar.domain import Inspection, Prediction, RuleFinding, Source
from sidecar.inference.engine import InferenceEngine, ModelFailure
from sidecar.inference.registry import ModelRegistry
from sidecar.inference.routing import TrafficSplit
from sidecar.models.runtime import OnnxModel
from sidecar.observability import metrics as m
from sidecar.pipeline.rules import RuleBook

log = structlog.get_logger("doctriage.request")
RULES_MODEL = "rules"
CacheKey = tuple[str, str, str]  # (digest, "name/version", preprocessing version)


class Predictor:
    def __init__(self, settings: Settings, registry: ModelRegistry, engine: InferenceEngine, rules: RuleBook) -> None:
        self.settings = settings
        self.registry = registry
        self.engine = engine
        self.rules = rules
        self.cache = PredictionCache(settings.cache.max_bytes, settings.cache.ttl_s)
        self._shadow_tasks: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        for task in list(self._shadow_tasks):
            task.cancel()
        await self.engine.close()

    async def predict(
        self, req: Request, model: OnnxModel | None, key: str, source: Source = Source.MODEL
    ) -> Prediction:
        """`key`'s answer for this document, computed at most once per request."""
        if model is None:
            raise ModelFailure("model_unavailable", f"{key} is not loaded")
        if key in req.predictions:
            return req.predictions[key]
        tensor = await req.tensor(model.input_spec)
        text = await req.text_features(model)
        started = time.perf_counter()
        try:
            prediction = await self.engine.predict(model, key, tensor, text, req.doc.deadline, source)
        finally:
            req.add_time("model", time.perf_counter() - started)
        req.predictions[key] = prediction
        return prediction

    async def fallback(self, req: Request, failure: ModelFailure, model_name: str) -> Prediction:
        """lite model → rule-based classification from text → cached prediction → DEGRADED."""
        t = self.settings.traffic
        log.warning("fallback", reason=failure.reason, detail=str(failure))
        if t.fallback_name:
            lite = self.registry.find(t.fallback_name, t.fallback_version)
            try:
                key = f"{t.fallback_name}/{t.fallback_version}"
                return await self.predict(req, lite, key, Source.FALLBACK_MODEL)
            except ModelFailure:
                pass
        by_rules = self.rules.classify(await req.text())
        if by_rules is not None:
            return Prediction(
                by_rules.label, by_rules.confidence, by_rules.scores, RULES_MODEL, "1", source=Source.RULES
            )
        cached = self.cache.latest_for_digest(req.inspection.digest)
        if cached is not None:
            return replace(cached.prediction, source=Source.CACHE)
        return Prediction("", 0.0, {}, model_name, "", source=Source.DEGRADED)

    # -- the cache ----------------------------------------------------------------

    def cached(self, key: CacheKey, *, count: bool = True) -> tuple[Prediction, tuple[RuleFinding, ...] | None] | None:
        """A cached answer for (digest, model key, preprocessing version), marked as from the cache;
        `count`: a lookup for the routed version (the cache hit rate is of those)."""
        found = self.cache.get(key) if self.settings.cache.enabled else None
        if count:
            m.CACHE_REQUESTS.labels(result="hit" if found else "miss").inc()
        if found is None:
            return None
        return replace(found.prediction, source=Source.CACHE), found.findings

    def would_answer(self, key: CacheKey) -> bool:
        """Whether `cached(key)` would answer now (thread-safe, counts nothing): the data plane then
        skips decoding. An entry that expires in between only costs the decode it skipped."""
        return self.settings.cache.enabled and self.cache.holds(key)

    def remember(
        self, inspection: Inspection, prediction: Prediction, findings: tuple[RuleFinding, ...] | None, prep: str
    ) -> None:
        """Cache a model's answer (never a fallback's) under the version that gave it."""
        if prediction.source not in (Source.MODEL, Source.FALLBACK_MODEL) or not self.settings.cache.enabled:
            return
        answered = self.registry.find(prediction.model_name, prediction.model_version)
        key = (
            inspection.digest,
            f"{prediction.model_name}/{prediction.model_version}",
            answered.manifest.preprocessing_version if answered else prep,
        )
        self.cache.put(key, CachedAnswer(prediction, findings))

    def correct(self, digest: str, true_label: str) -> None:
        """A reviewer's answer: it replaces what is cached for the digest, or is remembered for every
        serving version."""
        if self.cache.correct(digest, true_label):
            return
        for model in self.registry.ready():
            key = (digest, model.key, model.manifest.preprocessing_version)
            reviewed = Prediction(true_label, 1.0, {true_label: 1.0}, model.manifest.name, model.manifest.version)
            self.cache.put(key, CachedAnswer(reviewed, ()))

    # -- shadow --------------------------------------------------------------

    def maybe_shadow(self, req: Request, split: TrafficSplit, served: str, prediction: Prediction) -> None:
        version = split.shadow_for(req.doc.routing_key, served)
        if not version:
            return
        # Its own copy: the shadow must not write into the timings of the answer being sent.
        task = asyncio.get_running_loop().create_task(self._shadow(req.fork(), split.model_name, version, prediction))
        self._shadow_tasks.add(task)
        task.add_done_callback(self._shadow_tasks.discard)

    async def _shadow(self, req: Request, name: str, version: str, served: Prediction) -> None:
        """Run the candidate on the same document; record agreement, never answer with it."""
        key = f"{name}/{version}"
        try:
            shadow = await self.predict(req, self.registry.find(name, version), key)
        except Exception as exc:  # noqa: BLE001 - a shadow failure must never reach the caller
            m.SHADOW_PREDICTIONS.labels(model=key, agreement="error").inc()
            log.info("shadow", model=key, outcome="error", error=type(exc).__name__)
            return
        agreement = "agree" if shadow.label == served.label else "disagree"
        m.SHADOW_PREDICTIONS.labels(model=key, agreement=agreement).inc()
        m.CONFIDENCE.labels(model=key).observe(shadow.confidence)
        log.info(
            "shadow",
            model=key,
            served_model=f"{served.model_name}/{served.model_version}",
            label=shadow.label,
            served_label=served.label,
            confidence=round(shadow.confidence, 4),
            agreement=agreement,
        )
