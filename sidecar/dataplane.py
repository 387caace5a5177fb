"""The data plane: runs one document through the pipeline stages, transport-agnostic.

Servicers translate proto ⇄ domain and call `DataPlane.classify`; everything here works
on domain objects. CPU work runs in the one bounded executor; the event loop only waits.

validate → scan (clamd) → route (A/B, sticky) → cache → decode + normalize → infer (batcher behind
a breaker; shadow copy) → fallbacks (lite model → rules from text → cached prediction →
DEGRADED) → business rules (text layer, OCR only when needed) → decide → review queue →
record (metrics, drift, the canonical log line).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import structlog

from sidecar.admission import Admission
from sidecar.cache import CachedAnswer, PredictionCache
from sidecar.config import Settings
from sidecar.domain import (
    ClassifyResult,
    Decision,
    DecisionKind,
    Document,
    Inspection,
    Prediction,
    RuleFinding,
    Source,
)
from sidecar.errors import DeadlineExceeded, InvalidRequest, Reason, ReviewQueueUnavailable
from sidecar.models.engine import InferenceEngine, ModelFailure
from sidecar.models.registry import ModelRegistry
from sidecar.models.routing import TrafficSplit
from sidecar.models.runtime import OnnxModel
from sidecar.observability import metrics as m
from sidecar.observability import recorder
from sidecar.pipeline.analysis import Analysis, Stages
from sidecar.pipeline.decide import Thresholds, decide, in_middle_band
from sidecar.pipeline.normalize import PREPROCESSING_VERSION, InputSpec
from sidecar.pipeline.scan import Scanner, scan_document
from sidecar.review.store import ReviewStore
from sidecar.risk.audit import DEFAULT_AUDIT_RATE
from sidecar.risk.monitor import RiskMonitor, rule_key
from sidecar.state import StateStore

log = structlog.get_logger("doctriage.request")
T = TypeVar("T")
RULES_MODEL = "rules"
_AUTO_ACCEPTED = (DecisionKind.ACCEPTED, DecisionKind.ACCEPTED_AFTER_RULES)
# How often (at most) the accepted/decided counts of the audit estimate are written to the review store.
RISK_COUNTS_EVERY_S = 1.0


@dataclass(slots=True)
class _Work:
    """One request: its analysis (sidecar/pipeline/analysis.py: each stage at most once) and each model
    version's answer, computed at most once (the agreement check and the cascade share them)."""

    analysis: Analysis
    predictions: dict[str, Prediction] = field(default_factory=dict)
    features: Any = None

    @property
    def doc(self) -> Document:
        return self.analysis.doc

    @property
    def timings(self) -> dict[str, float]:
        return self.analysis.timings

    @property
    def inspection(self) -> Inspection | None:
        return self.analysis.inspection


class DataPlane:
    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.executor = ThreadPoolExecutor(max_workers=settings.server.workers, thread_name_prefix="doctriage-cpu")
        self.engine = InferenceEngine(registry, self.executor, settings.batching, settings.breaker)
        self.state = StateStore(settings.state.dir)
        self.cache = PredictionCache(settings.cache.max_bytes, settings.cache.ttl_s)
        # The analysis core's settings, business rules and OCR pool (sidecar/pipeline/analysis.py).
        self.stages = Stages(settings)
        self.rules = self.stages.rules
        self.reviews = ReviewStore(
            settings.review.path, settings.review.lease_s, busy_timeout_s=settings.review.busy_timeout_s
        )
        m.REVIEW_QUEUE_DEPTH.set(self.reviews.depth())
        self.thresholds: dict[str, Thresholds] = {
            "": Thresholds(settings.decision.accept, settings.decision.review_below)
        }
        for version, raw in (self.state.get("thresholds") or {}).items():
            self.thresholds["" if version == "*" else version] = Thresholds.from_dict(raw)
        self._load_rule_file(settings.decision.rule_file)
        t = settings.traffic
        persisted = self.state.get("traffic_split")
        self.split = (
            TrafficSplit.from_dict(persisted)
            if persisted
            else TrafficSplit(settings.models.name, t.weights, t.shadow_version, t.shadow_share)
        )
        # One clamd client for the process (its own pool); None when scanning is disabled.
        self.scanner = Scanner(settings.scanner) if settings.scanner.enabled else None
        self._shadow_tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        s = settings.server
        self.admission = Admission(s.max_concurrent_requests, s.queue_limit, s.queue_delay_target_s)
        self.draining = False
        # Risk control (sidecar/risk): audit sampling of accepted documents, the audit estimate.
        default = self.thresholds[""]
        self.risk = RiskMonitor(DEFAULT_AUDIT_RATE if default.audit_rate is None else default.audit_rate)
        # The estimate watches a rule that accepts (a deferring or unproven one accepts nothing to audit).
        rules = [t.rule for t in self.thresholds.values() if t.rule is not None]
        self.risk.set_rule(next((r for r in rules if r.proven), rules[0] if rules else None))
        # The running audit estimate survives a restart: its audits are the review store's resolved audit
        # items, its accepted/decided counts are saved there (at most every RISK_COUNTS_EVERY_S, and on close).
        self._risk_epoch = ("", 0.0)  # (rule_key, since) of the persisted estimate
        self._risk_saving = False
        self._risk_saved_at = time.monotonic()
        self._open_risk_estimate(restore=True)

    def _load_rule_file(self, path: Path | None) -> None:
        """Acceptance rules from `doctriage calibrate`'s file, for versions without an installed rule."""
        if path is None or not path.is_file():
            return
        from sidecar.risk.rulefile import read_config

        rules, audit_rate = read_config(path)
        for version, rule in rules.items():
            current = self.thresholds.get(version)
            if current is not None and current.rule is not None:
                continue  # an operator installed one through Admin.SetThresholds: it wins
            base = current or self.thresholds[""]
            self.thresholds[version] = replace(base, rule=rule, audit_rate=audit_rate).validate()
            log.info(
                "acceptance_rule_loaded",
                model_version=version or "*",
                proven=rule.proven,
                alpha=rule.alpha,
                coverage=rule.coverage,
                file=str(path),
            )

    # -- admission -------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Admitted requests: running, or queued for a slot."""
        return self._in_flight + self.admission.queued

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self._save_risk_counts()
        self.reviews.close()
        self.stages.close()

    async def aclose(self) -> None:
        for task in list(self._shadow_tasks):
            task.cancel()
        await self.engine.close()
        if self.scanner is not None:
            await self.scanner.close()

    # -- the pipeline ----------------------------------------------------

    async def classify(self, doc: Document) -> ClassifyResult:
        waited = await self.admission.enter(doc.deadline)  # queued, or shed at once (sidecar/admission.py)
        self._in_flight += 1
        started = time.perf_counter()
        try:
            result, work, fallback_reason = await self._classify(doc)
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
            self.admission.leave(time.perf_counter() - started)
        if waited:
            result.timings["queue"] = waited
        result.timings["total"] = time.perf_counter() - started + waited
        self._record(result, work, fallback_reason)
        return result

    async def _classify(self, doc: Document) -> tuple[ClassifyResult, _Work, str]:
        work = _Work(self.stages.analyse(doc))
        inspection = await self._call("validate", work, work.analysis.validate)
        self._check_deadline(doc)
        started = time.perf_counter()
        scan_flags = await scan_document(doc.content, self.scanner)
        work.timings["scan"] = time.perf_counter() - started
        name = self.split.model_name
        version = self.split.route(doc.routing_key)
        model = self.registry.find(name, version)
        key = f"{name}/{version}"
        cache_key = (inspection.digest, key, model.manifest.preprocessing_version if model else PREPROCESSING_VERSION)
        fallback_reason = ""
        cached = self._from_cache(cache_key)
        m.CACHE_REQUESTS.labels(result="hit" if cached else "miss").inc()
        findings: tuple[RuleFinding, ...] | None = None
        if cached is not None:
            prediction, findings = cached
        else:
            spec = model.manifest.input_spec if model else InputSpec()
            await self._tensor(work, spec)
            try:
                prediction = await self._run_model(work, model, key)
            except ModelFailure as failure:
                fallback_reason = failure.reason
                prediction = await self._fallback(work, failure)
            else:
                self._maybe_shadow(work, version, prediction)
        findings, decision = await self._decide(work, prediction, findings)
        self._cache_answer(inspection, prediction, findings, cache_key[2])
        escalated = await self._escalate(work, prediction, decision)
        if escalated is not None:
            prediction, findings, decision = escalated
        audit = self.risk.on_decision(decision.kind in _AUTO_ACCEPTED, inspection.digest)
        self._maybe_save_risk_counts()
        if audit:
            await self._audit_sample(work, prediction, decision)
        if decision.kind is DecisionKind.HUMAN_REVIEW:
            prediction, decision = await self._to_review(work, prediction, decision)
        result = ClassifyResult(
            request_id=doc.request_id,
            client_ref=doc.client_ref,
            inspection=inspection,
            prediction=prediction,
            decision=decision,
            timings=work.timings,
            flags=inspection.flags + scan_flags,
        )
        if work.analysis.page is not None:
            # Drift features (~1-2 ms of numpy): in the executor, never on the event loop.
            work.features = await self._stage("features", work, work.analysis.drift_features)
        return result, work, fallback_reason

    async def _decide(
        self, work: _Work, prediction: Prediction, findings: tuple[RuleFinding, ...] | None
    ) -> tuple[tuple[RuleFinding, ...] | None, Decision]:
        """Business rules (unless cached), the acceptance rule's second opinion, then decide()."""
        thresholds = self.thresholds_for(prediction.model_version)
        if findings is None:
            findings = await self._rules(work, prediction, thresholds)
        started = time.perf_counter()
        second_label = await self._second_opinion(work, prediction, thresholds)
        decision = decide(prediction, thresholds, findings, second_label)
        work.timings["decide"] = work.timings.get("decide", 0.0) + time.perf_counter() - started
        return findings, decision

    def _from_cache(self, key: tuple[str, str, str]) -> tuple[Prediction, tuple[RuleFinding, ...] | None] | None:
        """A cached answer for (digest, model key, preprocessing version), marked as from the cache."""
        cached = self.cache.get(key) if self.settings.cache.enabled else None
        if cached is None:
            return None
        return replace(cached.prediction, source=Source.CACHE), cached.findings

    def _cache_answer(
        self, inspection: Inspection, prediction: Prediction, findings: tuple[RuleFinding, ...] | None, prep: str
    ) -> None:
        if prediction.source not in (Source.MODEL, Source.FALLBACK_MODEL) or not self.settings.cache.enabled:
            return
        answered = self.registry.find(prediction.model_name, prediction.model_version)
        key = (
            inspection.digest,
            f"{prediction.model_name}/{prediction.model_version}",
            answered.manifest.preprocessing_version if answered else prep,
        )
        self.cache.put(key, CachedAnswer(prediction, findings))

    async def _escalate(
        self, work: _Work, prediction: Prediction, decision: Decision
    ) -> tuple[Prediction, tuple[RuleFinding, ...] | None, Decision] | None:
        """The cascade: an answer the routed model cannot stand behind (it would go to review) is asked
        again of `traffic.escalate_to`, a version that also reads the page's text (the PDF text layer,
        else OCR: the expensive step, so only for these pages). Its answer and its own decision (its
        thresholds, its acceptance rule) replace the first; None keeps the first answer: nothing to
        escalate, the version is not loaded, it failed, or the deadline passed."""
        version = self.settings.traffic.escalate_to
        if (
            not version
            or decision.kind is not DecisionKind.HUMAN_REVIEW
            or prediction.source not in (Source.MODEL, Source.CACHE)
            or prediction.model_version == version
        ):
            return None
        name = prediction.model_name
        model = self.registry.find(name, version)
        if model is None:
            return None
        assert work.inspection is not None
        key = f"{name}/{version}"
        prep = model.manifest.preprocessing_version
        cached = self._from_cache((work.inspection.digest, key, prep))
        findings: tuple[RuleFinding, ...] | None = None
        try:
            if cached is not None:
                second, findings = cached
            else:
                second = await self._run_model(work, model, key)
            findings, second_decision = await self._decide(work, second, findings)
        except (ModelFailure, DeadlineExceeded) as exc:
            m.ESCALATIONS.labels(from_model=f"{name}/{prediction.model_version}", to_model=key, outcome="error").inc()
            log.info("escalation_failed", model=key, error=type(exc).__name__)
            return None
        self._cache_answer(work.inspection, second, findings, prep)
        outcome = "accepted" if second_decision.kind in _AUTO_ACCEPTED else "review"
        m.ESCALATIONS.labels(from_model=f"{name}/{prediction.model_version}", to_model=key, outcome=outcome).inc()
        reasons = (*second_decision.reasons, f"ESCALATED_FROM_{prediction.model_version}")
        return second, findings, replace(second_decision, reasons=reasons)

    # -- stages ------------------------------------------------------------

    async def _tensor(self, work: _Work, spec: InputSpec) -> npt.NDArray[np.float32]:
        """Decode (once) and normalize (once per input spec); InvalidDocument propagates."""
        tensor = work.analysis.tensors.get(spec)
        if tensor is None:
            # One executor hop for both stages (each hop costs a thread hand-off and a loop turn).
            tensor = await self._call("decode", work, work.analysis.tensor, spec)
        return tensor

    async def _text(self, work: _Work) -> str | None:
        """The page's text: its PDF text layer, else OCR (run only here, only once)."""
        if work.analysis.text_is_free():
            return work.analysis.read_text()  # known, or the text layer: no executor hop
        return await self._call("ocr", work, work.analysis.read_text)

    async def _text_features(self, work: _Work, model: OnnxModel) -> npt.NDArray[np.float32] | None:
        if not model.text_dim:
            return None
        if work.analysis.text_is_free() and model.embedder is None and model.lexicon is None:
            return model.text_features(work.analysis.read_text())  # hashing only: microseconds, no hop
        return await self._call("text_embedding", work, work.analysis.text_features, model)

    async def _run_model(
        self, work: _Work, model: OnnxModel | None, key: str, source: Source = Source.MODEL
    ) -> Prediction:
        if model is None:
            raise ModelFailure("model_unavailable", f"{key} is not loaded")
        if key in work.predictions:
            return work.predictions[key]
        tensor = await self._tensor(work, model.manifest.input_spec)
        text = await self._text_features(work, model)
        started = time.perf_counter()
        try:
            prediction = await self.engine.predict(model, key, tensor, text, work.doc.deadline, source)
        finally:
            work.timings["model"] = work.timings.get("model", 0.0) + time.perf_counter() - started
        work.predictions[key] = prediction
        return prediction

    async def _fallback(self, work: _Work, failure: ModelFailure) -> Prediction:
        """lite model → rule-based classification from text → cached prediction → DEGRADED."""
        t = self.settings.traffic
        assert work.inspection is not None
        log.warning("fallback", reason=failure.reason, detail=str(failure))
        if t.fallback_name:
            lite = self.registry.find(t.fallback_name, t.fallback_version)
            try:
                key = f"{t.fallback_name}/{t.fallback_version}"
                return await self._run_model(work, lite, key, Source.FALLBACK_MODEL)
            except ModelFailure:
                pass
        text = await self._text(work)
        by_rules = self.rules.classify(text)
        if by_rules is not None:
            return Prediction(
                by_rules.label, by_rules.confidence, by_rules.scores, RULES_MODEL, "1", source=Source.RULES
            )
        cached = self.cache.latest_for_digest(work.inspection.digest)
        if cached is not None:
            return replace(cached.prediction, source=Source.CACHE)
        return Prediction("", 0.0, {}, self.split.model_name, "", source=Source.DEGRADED)

    async def _rules(
        self, work: _Work, prediction: Prediction, thresholds: Thresholds
    ) -> tuple[RuleFinding, ...] | None:
        """Business-rule findings of the predicted label (Analysis.findings); None when not evaluated.
        In the middle band (and for rule-based answers) they decide, so text is fetched, with OCR if it
        must; outside it they run only when they are free."""
        label = prediction.label
        if not label or not self.rules.has_rules(label):
            return None
        fetch = in_middle_band(prediction, thresholds)
        if fetch and self.rules.needs_text(label):
            await self._text(work)  # decode and OCR in the executor; the checks themselves are regexes
        return work.analysis.findings(label, fetch_text=fetch)

    # -- shadow --------------------------------------------------------------

    def _maybe_shadow(self, work: _Work, served: str, prediction: Prediction) -> None:
        version = self.split.shadow_for(work.doc.routing_key, served)
        if not version:
            return
        # Its own copy: the shadow must not write into the timings of the answer being sent.
        copy = _Work(work.analysis.fork())
        task = asyncio.get_running_loop().create_task(self._shadow(copy, version, prediction))
        self._shadow_tasks.add(task)
        task.add_done_callback(self._shadow_tasks.discard)

    async def _shadow(self, work: _Work, version: str, served: Prediction) -> None:
        """Run the candidate on the same document; record agreement, never answer with it."""
        name = self.split.model_name
        key = f"{name}/{version}"
        try:
            shadow = await self._run_model(work, self.registry.find(name, version), key)
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

    # -- review --------------------------------------------------------------

    async def _to_review(self, work: _Work, prediction: Prediction, decision: Decision) -> tuple[Prediction, Decision]:
        assert work.inspection is not None
        inspection = work.inspection

        def queue() -> tuple[str | None, str, bool]:
            # One executor hop: the reviewer's answer if there is one, else the (idempotent) enqueue.
            true_label = self.reviews.resolution(inspection.digest)
            if true_label and true_label != "other":
                return true_label, "", False
            review_id, created = self._enqueue(work, prediction, ",".join(decision.reasons))
            return true_label, review_id, created

        try:
            true_label, review_id, _created = await self._stage("review", work, queue)
        except ReviewQueueUnavailable as exc:
            # Never an answer whose review item was not written: the caller retries (nothing is lost).
            log.error("review_queue_unavailable", digest=inspection.digest, error=exc.message)
            raise ReviewQueueUnavailable(f"{exc.message}; retry later") from exc
        if true_label and not review_id:
            # A reviewer already said what this document is.
            reviewed = Prediction(
                true_label, 1.0, {true_label: 1.0}, prediction.model_name, prediction.model_version, source=Source.CACHE
            )
            return reviewed, Decision(DecisionKind.ACCEPTED, ("REVIEWED",), decision.findings)
        return prediction, replace(decision, review_id=review_id)

    async def _second_opinion(self, work: _Work, prediction: Prediction, thresholds: Thresholds) -> str | None:
        """The label of the acceptance rule's independent model, run only when the rule needs it and
        the answer could otherwise be accepted; None when it is not loaded or fails (no acceptance)."""
        rule = thresholds.rule
        if rule is None or not rule.proven or not rule.require_agreement or not rule.second_model:
            return None
        if prediction.source not in (Source.MODEL, Source.CACHE) or prediction.confidence < rule.threshold(
            prediction.label
        ):
            return None
        name, _, version = rule.second_model.rpartition("/")
        name = name or self.split.model_name
        try:
            second = await self._run_model(work, self.registry.find(name, version), f"{name}/{version}")
        except ModelFailure:
            return None
        return second.label

    async def _audit_sample(self, work: _Work, prediction: Prediction, decision: Decision) -> None:
        """An accepted document, also queued (audit=True) so reviewers measure the real silent-failure rate."""
        reason = "AUDIT," + ",".join(decision.reasons)
        try:
            await self._stage("review", work, lambda: self._enqueue(work, prediction, reason, audit=True))
        except ReviewQueueUnavailable as exc:
            # The answer stands (it is accepted either way); only this audit sample is missed.
            m.ERRORS.labels(reason=Reason.REVIEW_QUEUE_UNAVAILABLE.value).inc()
            digest = work.inspection.digest if work.inspection else ""
            log.error("audit_sample_not_queued", digest=digest, error=exc.message)

    def _enqueue(self, work: _Work, prediction: Prediction, reason: str, audit: bool = False) -> tuple[str, bool]:
        """Queue the document for review (idempotent on its digest); runs in the executor."""
        assert work.inspection is not None
        inspection = work.inspection
        review_id, created = self.reviews.enqueue(
            digest=inspection.digest,
            content=work.doc.content,
            content_type=inspection.kind.value,
            predicted_label=prediction.label,
            confidence=prediction.confidence,
            scores=prediction.scores,
            model_name=prediction.model_name,
            model_version=prediction.model_version,
            source=prediction.source.value,
            reason=reason,
            audit=audit,
        )
        if created:
            m.REVIEW_QUEUE_DEPTH.set(self.reviews.depth())
        return review_id, created

    # -- admin operations (called by the Admin servicer) ------------------------

    @staticmethod
    def audit(action: str, **details: object) -> None:
        """One audit line per admin change (the gateway binds the caller's key id into the context)."""
        log.info("audit", action=action, **details)

    def thresholds_for(self, model_version: str) -> Thresholds:
        return self.thresholds.get(model_version) or self.thresholds[""]

    def set_thresholds(self, thresholds: Thresholds) -> Thresholds:
        known: set[str] = set()
        for model in self.registry.ready():
            if not thresholds.model_version or model.manifest.version == thresholds.model_version:
                known.update(model.manifest.labels)
        validated = thresholds.validate(known or None)
        self.thresholds[thresholds.model_version] = validated
        installs = validated.rule is not None or validated.audit_rate is not None
        if installs and self.risk.set_rule(validated.rule, validated.audit_rate):
            self._open_risk_estimate(restore=False)  # a new rule: a new estimate, persisted as such
        # "*" = the default for every version (JSON keys cannot be empty in every reader).
        self.state.set("thresholds", {k or "*": v.as_dict() for k, v in self.thresholds.items()})
        self.audit("set_thresholds", thresholds=validated.as_dict())
        return validated

    def set_split(self, split: TrafficSplit) -> TrafficSplit:
        validated = split.validate(self.registry.ready_versions(split.model_name))
        self.split = validated
        self.state.set("traffic_split", validated.as_dict())
        self.audit("set_traffic_split", split=validated.as_dict())
        return validated

    def startup(self) -> None:
        """Load the persisted (or configured) model versions and make the split servable."""
        persisted = self.state.get("models")
        if persisted is None:
            t, split = self.settings.traffic, self.split
            wanted = [(split.model_name, v) for v, w in split.weights.items() if w > 0]
            if split.shadow_version and split.shadow_share > 0:
                wanted.append((split.model_name, split.shadow_version))
            if t.escalate_to and (split.model_name, t.escalate_to) not in wanted:
                wanted.append((split.model_name, t.escalate_to))
            if t.fallback_name:
                wanted.append((t.fallback_name, t.fallback_version))
            if (self.settings.models.name, self.settings.models.default_version) not in wanted:
                wanted.insert(0, (self.settings.models.name, self.settings.models.default_version))
        else:
            wanted = [(item.split("/", 1)[0], item.split("/", 1)[-1]) for item in persisted]
        for name, version in wanted:
            try:
                self.registry.load(name, version)
            except Exception as exc:  # noqa: BLE001 - a missing version is logged, the rest still load
                log.error("model_load_failed", model=f"{name}/{version}", error=f"{type(exc).__name__}: {exc}")
        ready = self.registry.ready_versions(self.split.model_name)
        try:
            self.split.validate(ready)
        except Exception as exc:  # noqa: BLE001 - serve what is there rather than nothing
            weights = {v: w for v, w in self.split.weights.items() if v in ready and w > 0}
            if weights:
                total = sum(weights.values())
                shadow = self.split.shadow_version if self.split.shadow_version in ready else ""
                self.split = TrafficSplit(
                    self.split.model_name,
                    {v: w / total for v, w in weights.items()},
                    shadow,
                    self.split.shadow_share if shadow else 0.0,
                )
            log.error("traffic_split_degraded", error=str(exc), effective=self.split.as_dict())

    def remember_models(self) -> None:
        loaded = sorted(f"{e.name}/{e.version}" for e in self.registry.entries() if e.model is not None)
        self.state.set("models", loaded)

    def resolve_review(self, item_id: str, true_label: str, reviewer: str) -> Any:
        known = {label for model in self.registry.ready() for label in model.manifest.labels}
        if known and true_label not in known:
            raise InvalidRequest(f"unknown label {true_label!r}")
        item, changed = self.reviews.resolve(item_id, true_label, reviewer)
        if changed:
            self.risk.on_resolved(item.audit, item.predicted_label, true_label)
            self._maybe_recalibrate(item.model_version)
        if not self.cache.correct(item.digest, true_label):
            # Nothing cached for the digest: remember the reviewer's answer for every serving version.
            for model in self.registry.ready():
                key = (item.digest, model.key, model.manifest.preprocessing_version)
                reviewed = Prediction(true_label, 1.0, {true_label: 1.0}, model.manifest.name, model.manifest.version)
                self.cache.put(key, CachedAnswer(reviewed, ()))
        m.REVIEW_QUEUE_DEPTH.set(self.reviews.depth())
        self.audit("resolve_review", review_id=item_id, reviewer=reviewer, true_label=true_label)
        return item

    def _maybe_recalibrate(self, model_version: str) -> None:
        """Learning from review: a rule re-proven on the reviewed documents replaces the current one."""
        current = self.thresholds_for(model_version)
        result = self.risk.maybe_recalibrate(current.rule, self.reviews.feedback)
        if result is not None:
            self.audit("recalibrate", reason=result.reason, sample=result.sample)
            self.set_thresholds(replace(current, rule=result.rule, provenance=result.rule.provenance()))

    # -- the persisted audit estimate ------------------------------------------

    def _open_risk_estimate(self, restore: bool) -> None:
        """Bind the risk monitor's running estimate to its persisted counts.

        restore (start-up): the review store's estimate for the rule in force, if it is the same rule —
        accepted/decided as saved, audits counted from the audit items resolved since it began — becomes
        the monitor's. Otherwise (the monitor has just restarted its estimate) a new one begins there.
        """
        key = rule_key(self.risk.rule)
        since, accepted, decided = self.reviews.risk_counts(key, reset=not restore)
        if restore:
            audited, wrong = self.reviews.audit_tally(since)
            self.risk.restore(audited=audited, wrong=wrong, accepted=accepted, decided=decided)
            log.info("audit_estimate_restored", audited=audited, wrong=wrong, accepted=accepted, decided=decided)
        self._risk_epoch = (key, since)

    def _maybe_save_risk_counts(self) -> None:
        """After a decision (on the event loop): save the counts in the executor when they are due."""
        now = time.monotonic()
        if self._risk_saving or now - self._risk_saved_at < RISK_COUNTS_EVERY_S:
            return
        self._risk_saving, self._risk_saved_at = True, now
        try:
            self.executor.submit(self._save_risk_counts)
        except RuntimeError:  # shutting down: close() saves them
            self._risk_saving = False

    def _save_risk_counts(self) -> None:
        try:
            key, since = self._risk_epoch  # before the counts: a rule change resets the counts first
            counts = self.risk.estimator.counts()
            self.reviews.save_risk_counts(key, since, counts["accepted"], counts["decided"])
        except Exception as exc:  # noqa: BLE001 - never fails a request; the next save catches up
            log.warning("risk_counts_not_saved", error=f"{type(exc).__name__}: {exc}")
        finally:
            self._risk_saving = False

    # -- plumbing -----------------------------------------------------------

    async def _stage(self, name: str, work: _Work, fn: Callable[..., T], *args: object, record: bool = True) -> T:
        """Run one CPU stage in the executor, honouring the request's deadline; `record`: its seconds
        go to the response's timings under `name`."""
        self._check_deadline(work.doc)
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.executor, fn, *args)
        left = work.doc.time_left()
        try:
            result = await (asyncio.wait_for(future, left) if left is not None else future)
        except TimeoutError:
            raise DeadlineExceeded(f"deadline passed during {name}") from None
        if record:
            work.timings[name] = work.timings.get(name, 0.0) + time.perf_counter() - started
        return result

    async def _call(self, name: str, work: _Work, fn: Callable[..., T], *args: object) -> T:
        """Run an analysis stage (it records its own timings) in the executor, honouring the deadline."""
        return await self._stage(name, work, fn, *args, record=False)

    @staticmethod
    def _check_deadline(doc: Document) -> None:
        left = doc.time_left()
        if left is not None and left <= 0:
            raise DeadlineExceeded("the request's deadline has passed")

    def _record(self, result: ClassifyResult, work: _Work, fallback_reason: str) -> None:
        recorder.record_result(result, work.features, fallback_reason=fallback_reason or None)
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
            reasons=list(result.decision.reasons),
            source=p.source.value,
            fallback_reason=fallback_reason or None,
            review_id=result.decision.review_id or None,
            latency_s=round(result.timings.get("total", 0.0), 6),
            timings={k: round(v, 6) for k, v in result.timings.items()},
        )
