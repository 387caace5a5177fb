"""The data plane: runs one document through the stages, transport-agnostic.

Servicers translate proto ⇄ domain and call `DataPlane.classify`; everything here works on domain
objects. CPU work runs in the one bounded executor; the event loop only waits.

admit (admission.py) → validate → scan (clamd) → route (A/B, sticky) → cache → decode + normalize →
infer (batcher behind a breaker; shadow copy) → fallbacks (predict.py) → business rules (text layer,
OCR only when needed) → decide (the policy book's thresholds and acceptance rule) → cascade →
audit sample / review queue (review.py) → record (metrics, drift, the canonical log line).

The parts an operator changes at run time (thresholds, split, models, reviews) are changed through
`Control` (control.py), never here.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import structlog

from sidecar.config import Settings
from sidecar.dataplane.admission import Admission
from sidecar.dataplane.predict import Predictor
from sidecar.dataplane.request import Request, check_deadline
from sidecar.dataplane.review import ReviewDesk
from sidecar.dataplane.state import StateStore
from sidecar.decision.decide import Thresholds, decide, in_middle_band
from sidecar.decision.policy import Origin, PolicyBook
from sidecar.domain import (
    PREPROCESSING_VERSION,
    ClassifyResult,
    Decision,
    DecisionKind,
    Document,
    InputSpec,
    Inspection,
    Prediction,
    RuleFinding,
    Source,
)
from sidecar.errors import DeadlineExceeded
from sidecar.inference.engine import InferenceEngine, ModelFailure
from sidecar.inference.registry import ModelRegistry
from sidecar.inference.routing import TrafficSplit
from sidecar.observability import metrics as m
from sidecar.observability.recorder import Recorder
from sidecar.pipeline.analysis import Stages
from sidecar.pipeline.scan import Scanner, scan_document
from sidecar.risk.audit import DEFAULT_AUDIT_RATE

log = structlog.get_logger("doctriage.request")
_AUTO_ACCEPTED = (DecisionKind.ACCEPTED, DecisionKind.ACCEPTED_AFTER_RULES)
Findings = tuple[RuleFinding, ...] | None


class DataPlane:
    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.executor = ThreadPoolExecutor(max_workers=settings.server.workers, thread_name_prefix="doctriage-cpu")
        self.state = StateStore(settings.state.dir)
        # The analysis core's settings, business rules, normalizer and OCR pool (sidecar/pipeline/analysis.py).
        self.stages = Stages.for_serving(settings)
        engine = InferenceEngine(registry, self.executor, settings.batching, settings.breaker)
        self.predictor = Predictor(settings, registry, engine, self.stages.rules)
        deployed = settings.deployed("decision", "accept") and settings.deployed("decision", "review_below")
        self.policy = PolicyBook(
            settings.decision,
            self.state.get("thresholds"),
            bands_origin=Origin.DEPLOYMENT if deployed else Origin.CONFIG,
        )
        persisted_split = self.state.get("traffic_split")
        t, name, default = settings.traffic, settings.models.name, settings.models.default_version
        weights = t.weights or ({default: 1.0} if default else {})  # none: everything to the default version
        self.split = (
            TrafficSplit.from_dict(persisted_split)
            if persisted_split
            else TrafficSplit(name, weights, t.shadow_version, t.shadow_share)
        )
        if persisted_split:
            self.split_origin = Origin.RUNTIME
            log.info("traffic_split_from_runtime_state", split=self.split.as_dict())
        else:
            self.split_origin = Origin.DEPLOYMENT if settings.deployed("traffic", "weights") else Origin.CONFIG
        # One clamd client for the process (its own pool); None when scanning is disabled.
        self.scanner = Scanner(settings.scanner) if settings.scanner.enabled else None
        s = settings.server
        self.admission = Admission(s.max_concurrent_requests, s.queue_limit, s.queue_delay_target_s)
        self._in_flight = 0
        self._answered = 0
        self._drift_every = max(1, round(1 / settings.drift.sample_rate))
        self.draining = False
        audit_rate = self.policy.default.audit_rate
        audit_rate = DEFAULT_AUDIT_RATE if audit_rate is None else audit_rate
        self.desk = ReviewDesk(settings.review, self.executor, self.policy.watched_rule(), audit_rate)
        self.recorder = Recorder(settings, registry.drift_reference, registry.on_gpu)

    @property
    def engine(self) -> InferenceEngine:
        return self.predictor.engine

    @property
    def in_flight(self) -> int:
        """Admitted requests: running, or queued for a slot."""
        return self._in_flight + self.admission.queued

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.desk.close()
        self.stages.close()

    async def aclose(self) -> None:
        await self.predictor.aclose()
        if self.scanner is not None:
            await self.scanner.close()

    def thresholds_for(self, model_version: str) -> Thresholds:
        return self.policy.thresholds_for(model_version)

    # -- the request -------------------------------------------------------

    async def classify(self, doc: Document) -> ClassifyResult:
        waited = await self.admission.enter(doc.deadline)  # queued, or shed at once (admission.py)
        self._in_flight += 1
        started = time.perf_counter()
        try:
            result, req, fallback_reason = await self._classify(Request(self.stages.analyse(doc), self.executor))
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
        self._record(result, req, fallback_reason)
        return result

    async def _classify(self, req: Request) -> tuple[ClassifyResult, Request, str]:
        doc = req.doc
        split = self.split
        name, version = split.model_name, split.route(doc.routing_key)
        model = self.registry.find(name, version)
        key = f"{name}/{version}"
        prep = model.manifest.preprocessing_version if model else PREPROCESSING_VERSION
        spec = model.input_spec if model else InputSpec()
        inspection, scan_flags = await self._validate_and_scan(req, spec, key, prep)
        fallback_reason = ""
        findings: Findings = None
        cached = self.predictor.cached((inspection.digest, key, prep))
        if cached is not None:
            prediction, findings = cached
        else:
            await req.tensor(spec)
            try:
                prediction = await self.predictor.predict(req, model, key)
            except ModelFailure as failure:
                fallback_reason = failure.reason
                prediction = await self.predictor.fallback(req, failure, name)
            else:
                self.predictor.maybe_shadow(req, split, version, prediction)
        findings, decision = await self._decide(req, prediction, findings)
        self.predictor.remember(inspection, prediction, findings, prep)
        escalated = await self._escalate(req, prediction, decision)
        if escalated is not None:
            prediction, findings, decision = escalated
        await self.desk.on_decision(req, prediction, decision, decision.kind in _AUTO_ACCEPTED)
        if decision.kind is DecisionKind.HUMAN_REVIEW:
            prediction, decision = await self.desk.to_review(req, prediction, decision)
        result = ClassifyResult(
            request_id=doc.request_id,
            client_ref=doc.client_ref,
            inspection=inspection,
            prediction=prediction,
            decision=decision,
            timings=req.timings,
            flags=inspection.flags + scan_flags,
        )
        if self._drift_sampled():
            await req.drift_features()
        return result, req, fallback_reason

    async def _validate_and_scan(
        self, req: Request, spec: InputSpec, key: str, prep: str
    ) -> tuple[Inspection, tuple[str, ...]]:
        """Validation and the malware scan: (inspection, the scan's flags). With `scanner.overlap_decode`
        one executor hop validates and decodes (unless the cache will answer) while clamd scans, so the
        round trip hides behind the decode; a validation error still comes first, then the scan's
        verdict, then a decode error (Request.prepare). Otherwise: validate, scan, and decode later."""
        doc = req.doc
        if not self.settings.scanner.overlap_decode:
            inspection = await req.validate()
            check_deadline(doc)
            return inspection, await self._scan(req)
        scan = asyncio.ensure_future(self._scan(req)) if self.scanner is not None else None
        try:
            inspection = await req.prepare(spec, lambda i: self.predictor.would_answer((i.digest, key, prep)))
            check_deadline(doc)
        except BaseException:
            if scan is not None:
                scan.cancel()
                with contextlib.suppress(BaseException):
                    await scan  # its own failure, if any, says less than validation's
            raise
        return inspection, await (scan if scan is not None else self._scan(req))

    async def _scan(self, req: Request) -> tuple[str, ...]:
        started = time.perf_counter()
        try:
            return await scan_document(req.doc.content, self.scanner, req.doc.time_left())
        finally:
            req.add_time("scan", time.perf_counter() - started)

    def _drift_sampled(self) -> bool:
        """Every 1/drift.sample_rate-th answered document gets drift features (they cost ~1.5 ms a page)."""
        drift = self.settings.drift
        if not drift.enabled:
            return False
        self._answered += 1
        return self._answered % self._drift_every == 0

    # -- deciding ------------------------------------------------------------------

    async def _decide(self, req: Request, prediction: Prediction, findings: Findings) -> tuple[Findings, Decision]:
        """Business rules (unless cached), the acceptance rule's second opinion, then decide()."""
        thresholds = self.policy.thresholds_for(prediction.model_version)
        if findings is None:
            findings = await self._rules(req, prediction, thresholds)
        started = time.perf_counter()
        second_label = await self._second_opinion(req, prediction, thresholds)
        decision = decide(prediction, thresholds, findings, second_label)
        req.add_time("decide", time.perf_counter() - started)
        return findings, decision

    async def _rules(self, req: Request, prediction: Prediction, thresholds: Thresholds) -> Findings:
        """Business-rule findings of the predicted label (Analysis.findings); None when not evaluated.
        In the middle band (and for rule-based answers) they decide, so text is fetched, with OCR if it
        must; outside it they run only when they are free."""
        label = prediction.label
        rules = self.stages.rules
        if not label or not rules.has_rules(label):
            return None
        fetch = in_middle_band(prediction, thresholds)
        if fetch and rules.needs_text(label):
            await req.text()  # decode and OCR in the executor; the checks themselves are regexes
        return req.analysis.findings(label, fetch_text=fetch)

    async def _second_opinion(self, req: Request, prediction: Prediction, thresholds: Thresholds) -> str | None:
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
            second = await self.predictor.predict(req, self.registry.find(name, version), f"{name}/{version}")
        except ModelFailure:
            return None
        return second.label

    async def _escalate(
        self, req: Request, prediction: Prediction, decision: Decision
    ) -> tuple[Prediction, Findings, Decision] | None:
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
        key = f"{name}/{version}"
        prep = model.manifest.preprocessing_version
        cached = self.predictor.cached((req.inspection.digest, key, prep), count=False)
        findings: Findings = None
        try:
            if cached is not None:
                second, findings = cached
            else:
                second = await self.predictor.predict(req, model, key)
            findings, second_decision = await self._decide(req, second, findings)
        except (ModelFailure, DeadlineExceeded) as exc:
            m.ESCALATIONS.labels(from_model=f"{name}/{prediction.model_version}", to_model=key, outcome="error").inc()
            log.info("escalation_failed", model=key, error=type(exc).__name__)
            return None
        self.predictor.remember(req.inspection, second, findings, prep)
        outcome = "accepted" if second_decision.kind in _AUTO_ACCEPTED else "review"
        m.ESCALATIONS.labels(from_model=f"{name}/{prediction.model_version}", to_model=key, outcome=outcome).inc()
        reasons = (*second_decision.reasons, f"ESCALATED_FROM_{prediction.model_version}")
        return second, findings, replace(second_decision, reasons=reasons)

    # -- recording ------------------------------------------------------------------

    def _record(self, result: ClassifyResult, req: Request, fallback_reason: str) -> None:
        self.recorder.record_result(result, req.features, fallback_reason=fallback_reason or None)
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
