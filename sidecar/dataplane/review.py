"""The review desk: what the data plane sends to people, and the audit estimate that watches what it
accepts without them.

- `to_review`: a HUMAN_REVIEW answer is queued (idempotent on the digest) before it is sent, or
  answered with the reviewer's label when one already resolved the same document;
- `on_decision` + `audit_sample`: a share of automatically accepted documents is also queued
  (audit=True), so reviewers measure the real silent-failure rate (sidecar/risk);
- the running audit estimate survives a restart: its audits are the review store's resolved audit
  items, its accepted/decided counts are saved there (at most every RISK_COUNTS_EVERY_S, and on close).
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import replace

import structlog

from sidecar.config import ReviewSettings
from sidecar.dataplane.request import Request
from sidecar.domain import Decision, DecisionKind, Prediction, Source
from sidecar.errors import Reason, ReviewQueueUnavailable
from sidecar.observability import metrics as m
from sidecar.review.store import ReviewStore
from sidecar.risk.monitor import RiskMonitor, rule_key
from sidecar.risk.rule import AcceptanceRule

log = structlog.get_logger("doctriage.request")
# How often (at most) the accepted/decided counts of the audit estimate are written to the review store.
RISK_COUNTS_EVERY_S = 1.0


class ReviewDesk:
    def __init__(
        self, settings: ReviewSettings, executor: Executor, rule: AcceptanceRule | None, audit_rate: float
    ) -> None:
        self.store = ReviewStore(settings.path, settings.lease_s, busy_timeout_s=settings.busy_timeout_s)
        self.executor = executor
        m.REVIEW_QUEUE_DEPTH.set(self.store.depth())
        self.risk = RiskMonitor(audit_rate)
        self.risk.set_rule(rule)
        self._epoch = ("", 0.0)  # (rule_key, since) of the persisted estimate
        self._saving = False
        self._saved_at = time.monotonic()
        self.open_estimate(restore=True)

    def close(self) -> None:
        self.save_counts()
        self.store.close()

    # -- the request path -------------------------------------------------------

    async def to_review(self, req: Request, prediction: Prediction, decision: Decision) -> tuple[Prediction, Decision]:
        inspection = req.inspection

        def queue() -> tuple[str | None, str]:
            # One executor hop: the reviewer's answer if there is one, else the (idempotent) enqueue.
            true_label = self.store.resolution(inspection.digest)
            if true_label and true_label != "other":
                return true_label, ""
            return true_label, self.enqueue(req, prediction, ",".join(decision.reasons))

        try:
            true_label, review_id = await req.run("review", queue)
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

    async def on_decision(self, req: Request, prediction: Prediction, decision: Decision, accepted: bool) -> None:
        """Count the decision in the audit estimate; queue an accepted document as audit when sampled."""
        audit = self.risk.on_decision(accepted, req.inspection.digest)
        self._maybe_save_counts()
        if not audit:
            return
        reason = "AUDIT," + ",".join(decision.reasons)
        try:
            await req.run("review", lambda: self.enqueue(req, prediction, reason, audit=True))
        except ReviewQueueUnavailable as exc:
            # The answer stands (it is accepted either way); only this audit sample is missed.
            m.ERRORS.labels(reason=Reason.REVIEW_QUEUE_UNAVAILABLE.value).inc()
            log.error("audit_sample_not_queued", digest=req.inspection.digest, error=exc.message)

    def enqueue(self, req: Request, prediction: Prediction, reason: str, audit: bool = False) -> str:
        """Queue the document for review (idempotent on its digest); runs in the executor."""
        inspection = req.inspection
        review_id, created = self.store.enqueue(
            digest=inspection.digest,
            content=req.doc.content,
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
            m.REVIEW_QUEUE_DEPTH.set(self.store.depth())
        return review_id

    # -- the persisted audit estimate ------------------------------------------

    def open_estimate(self, restore: bool) -> None:
        """Bind the risk monitor's running estimate to its persisted counts.

        restore (start-up): the review store's estimate for the rule in force, if it is the same rule —
        accepted/decided as saved, audits counted from the audit items resolved since it began — becomes
        the monitor's. Otherwise (the monitor has just restarted its estimate) a new one begins there.
        """
        key = rule_key(self.risk.rule)
        since, accepted, decided = self.store.risk_counts(key, reset=not restore)
        if restore:
            audited, wrong = self.store.audit_tally(since)
            self.risk.restore(audited=audited, wrong=wrong, accepted=accepted, decided=decided)
            log.info("audit_estimate_restored", audited=audited, wrong=wrong, accepted=accepted, decided=decided)
        self._epoch = (key, since)

    def _maybe_save_counts(self) -> None:
        """After a decision (on the event loop): save the counts in the executor when they are due."""
        now = time.monotonic()
        if self._saving or now - self._saved_at < RISK_COUNTS_EVERY_S:
            return
        self._saving, self._saved_at = True, now
        try:
            self.executor.submit(self.save_counts)
        except RuntimeError:  # shutting down: close() saves them
            self._saving = False

    def save_counts(self) -> None:
        try:
            key, since = self._epoch  # before the counts: a rule change resets the counts first
            counts = self.risk.estimator.counts()
            self.store.save_risk_counts(key, since, counts["accepted"], counts["decided"])
        except Exception as exc:  # noqa: BLE001 - never fails a request; the next save catches up
            log.warning("risk_counts_not_saved", error=f"{type(exc).__name__}: {exc}")
        finally:
            self._saving = False
