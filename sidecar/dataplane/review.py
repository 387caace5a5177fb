"""The review desk: what the data plane sends to people, and the audit estimate that watches what it
accepts without them.

- `to_review`: a HUMAN_REVIEW answer is queued (idempotent on the digest) before it is sent, or
  answered with the reviewer's label when one already resolved the same document;
- `on_decision` + `audit_sample`: a share of automatically accepted documents is also queued
  (audit=True), so reviewers measure the real silent-failure rate (sidecar/risk);
- the running audit estimate survives a restart: its audits are the review store's resolved audit
  items, its accepted/decided counts are saved there (at most every RISK_COUNTS_EVERY_S, and on close).

Writes are group-committed off the CPU executor: the items of every request that reaches the desk
while a write is on disk go to the review store together, in one transaction (one fsync, ~4 ms
here), on the desk's own thread, so that the CPU workers never wait on the disk. Each caller still
hears of its review id only once its item is on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import replace

import structlog

from sidecar.config import ReviewSettings
from sidecar.dataplane.request import Request, check_deadline
from sidecar.domain import Decision, DecisionKind, Prediction, Source
from sidecar.errors import DeadlineExceeded, Reason, ReviewQueueUnavailable
from sidecar.observability import metrics as m
from sidecar.review.items import NewItem, Queued
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
        # The review database's own thread: its writes wait on fsync, never a CPU worker.
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="doctriage-review")
        self._waiting: list[tuple[NewItem, asyncio.Future[Queued]]] = []
        self._writer: asyncio.Task[None] | None = None
        # Read when the gauge is collected (a scrape, GetStats), not counted again on every write.
        self._depth_seen = 0
        m.REVIEW_QUEUE_DEPTH.set_function(self.queue_depth)
        self.risk = RiskMonitor(audit_rate)
        self.risk.set_rule(rule)
        self._epoch = ("", 0.0)  # (rule_key, since) of the persisted estimate
        self._saving = False
        self._saved_at = time.monotonic()
        self.open_estimate(restore=True)

    def close(self) -> None:
        self._disk.shutdown(wait=True)
        self.save_counts()
        self.store.close()

    # -- the request path -------------------------------------------------------

    async def to_review(self, req: Request, prediction: Prediction, decision: Decision) -> tuple[Prediction, Decision]:
        item = self._item(req, prediction, ",".join(decision.reasons), answered_by_reviewer=True)
        try:
            queued = await self._queue(req, item)
        except ReviewQueueUnavailable as exc:
            # Never an answer whose review item was not written: the caller retries (nothing is lost).
            log.error("review_queue_unavailable", digest=item.digest, error=exc.message)
            raise ReviewQueueUnavailable(f"{exc.message}; retry later") from exc
        if queued.true_label and not queued.review_id:
            # A reviewer already said what this document is.
            label = queued.true_label
            reviewed = Prediction(
                label, 1.0, {label: 1.0}, prediction.model_name, prediction.model_version, Source.CACHE
            )
            return reviewed, Decision(DecisionKind.ACCEPTED, ("REVIEWED",), decision.findings)
        return prediction, replace(decision, review_id=queued.review_id)

    async def on_decision(self, req: Request, prediction: Prediction, decision: Decision, accepted: bool) -> None:
        """Count the decision in the audit estimate; queue an accepted document as audit when sampled."""
        audit = self.risk.on_decision(accepted, req.inspection.digest)
        self._maybe_save_counts()
        if not audit:
            return
        try:
            await self._queue(req, self._item(req, prediction, "AUDIT," + ",".join(decision.reasons), audit=True))
        except ReviewQueueUnavailable as exc:
            # The answer stands (it is accepted either way); only this audit sample is missed.
            m.ERRORS.labels(reason=Reason.REVIEW_QUEUE_UNAVAILABLE.value).inc()
            log.error("audit_sample_not_queued", digest=req.inspection.digest, error=exc.message)

    @staticmethod
    def _item(
        req: Request, prediction: Prediction, reason: str, audit: bool = False, answered_by_reviewer: bool = False
    ) -> NewItem:
        inspection = req.inspection
        return NewItem(
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
            answered_by_reviewer=answered_by_reviewer,
        )

    # -- group commit ------------------------------------------------------------------

    async def _queue(self, req: Request, item: NewItem) -> Queued:
        """`item` written with whatever else is waiting (on disk when this returns), within the deadline.
        A caller that goes away (deadline, cancellation) leaves its item to be written all the same:
        enqueueing is idempotent on the digest, and a retry finds it."""
        check_deadline(req.doc)
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Queued] = loop.create_future()
        self._waiting.append((item, done))
        if self._writer is None:
            self._writer = loop.create_task(self._write_waiting())
        left = req.doc.time_left()
        try:
            return await (asyncio.wait_for(done, left) if left is not None else done)
        except TimeoutError:
            raise DeadlineExceeded("deadline passed while writing the review item") from None
        finally:
            req.add_time("review", time.perf_counter() - started)

    async def _write_waiting(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    items = [item for item, _ in batch]
                    results = await loop.run_in_executor(self._disk, self.store.enqueue_many, items)
                except Exception as exc:  # noqa: BLE001 - every caller of the batch hears of the failure
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                m.REVIEW_WRITE_BATCH.observe(len(batch))
                for (_, done), queued in zip(batch, results, strict=True):
                    if not done.done():
                        done.set_result(queued)
        finally:
            self._writer = None

    def queue_depth(self) -> float:
        """Items waiting for people (the review queue depth gauge); the last value read if the database
        cannot be read now (locked by another process, closed)."""
        with contextlib.suppress(ReviewQueueUnavailable, sqlite3.Error):
            self._depth_seen = self.store.depth()
        return self._depth_seen

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
