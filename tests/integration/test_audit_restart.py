"""The running audit estimate of the silent-failure rate survives a restart of a real sidecar on the
same state dir and review database: resolved audits, the accepted share, the exported gauges."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from doctriage.v1 import admin_pb2, classifier_pb2

from harness.documents import sample_documents
from harness.engine import metric, model_tree, request, stubs
from harness.server import ServerThread
from harness.settings import make_settings
from sidecar.config import Settings
from sidecar.dataplane import review
from sidecar.observability import metrics as m
from sidecar.risk import AcceptanceRule, AuditEstimate
from sidecar.server.convert import rule_to_proto

TRAFFIC = {"weights": {"2.3": 1.0}, "fallback_name": ""}
# The tiny model favours "invoice" weakly (bias 2): confidences ~0.46-0.50 vary with the document, so a
# rule at 0.475 accepts some documents and sends the others to review (an accepted share below 1).
RULE = AcceptanceRule(proven=True, confidence_threshold=0.475, alpha=0.01, n=300)
SEEDS = range(3000, 3016)


def _install(admin: object, rule: AcceptanceRule) -> None:
    wanted = admin_pb2.Thresholds(model_version="2.3", provenance=rule.provenance(), audit_rate=1.0)
    wanted.default.accept, wanted.default.review_below = 0.85, 0.6
    wanted.rule.CopyFrom(rule_to_proto(rule))
    admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=wanted))  # type: ignore[attr-defined]


def _start(settings: Settings) -> ServerThread:
    # The metrics registry is the process's: forget what an earlier server exported.
    m.AUDIT_SILENT_FAILURE_RATE.clear()
    return ServerThread(settings).start()


def _estimate(server: ServerThread) -> tuple[AuditEstimate, dict[str, int]]:
    assert server.server is not None
    risk = server.server.dataplane.desk.risk
    return risk.estimate(), risk.estimator.counts()


def _exported() -> dict[str, float | None]:
    bounds = ("estimate", "lower", "upper", "upper_one_sided")
    return {b: m.REGISTRY.get_sample_value("doctriage_audit_silent_failure_rate", {"bound": b}) for b in bounds}


def test_audit_estimate_survives_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = model_tree(tmp_path / "models", v24=False, lite=False, favour="invoice", bias=2.0)
    settings = make_settings(models, traffic=TRAFFIC, ocr={"enabled": False})

    first = _start(settings)
    try:
        with stubs(first) as (classifier, admin):
            _install(admin, RULE)
            answers = [classifier.Classify(request(sample_documents(seed=s)["png"], "png"), timeout=30) for s in SEEDS]
            accepted = sum(a.decision == classifier_pb2.ACCEPTED for a in answers)
            assert 0 < accepted < len(answers), [round(a.confidence, 3) for a in answers]
            items = admin.ListReviews(admin_pb2.ListReviewsRequest(status=admin_pb2.PENDING, page_size=100)).items
            audits = [i for i in items if i.audit]
            plain = [i for i in items if not i.audit]
            assert len(audits) == accepted and plain  # audit rate 1: every accepted document is audited
            for n, item in enumerate(audits):  # reviewers find 2 of the accepted documents wrong
                truth = "receipt" if n < 2 else "invoice"
                admin.ResolveReview(admin_pb2.ResolveReviewRequest(id=item.id, true_label=truth, reviewer="ann"))
            # A plain review item (not an audit) resolved as wrong changes nothing.
            admin.ResolveReview(admin_pb2.ResolveReviewRequest(id=plain[0].id, true_label="receipt", reviewer="ann"))
        before, counts = _estimate(first)
        exported = _exported()
    finally:
        first.stop()
    assert (before.audited, before.wrong) == (accepted, 2)
    assert counts == {"audited": accepted, "wrong": 2, "accepted": accepted, "decided": len(SEEDS)}
    assert before.accepted_share == accepted / len(SEEDS) < 1.0
    assert exported["estimate"] == before.silent_failure_rate > 0
    assert before.breached  # the alert's condition: upper limit above alpha, lower limit above 0

    second = _start(settings)
    try:
        after, counts_after = _estimate(second)
        assert after == before and counts_after == counts  # audited, wrong, accepted share, every bound
        # Exported right after start-up, before any request or resolution.
        assert _exported() == exported
        target = metric("doctriage_risk_target_silent_failure_rate")
        assert _exported()["upper_one_sided"] == after.one_sided_upper > target == RULE.alpha
        assert _exported()["lower"] == after.silent_failure_lower > 0
        monkeypatch.setattr(review, "RISK_COUNTS_EVERY_S", 0.0)  # saved after every decision
        with stubs(second) as (classifier, _admin):  # the counts go on from the restored ones
            classifier.Classify(request(sample_documents(seed=SEEDS[-1] + 1)["png"], "png"), timeout=30)
        plane = second.server.dataplane  # type: ignore[union-attr]
        counts_more = plane.desk.risk.estimator.counts()
        assert counts_more["decided"] == counts["decided"] + 1
        # Saved while running (in the executor, without waiting for shutdown): what a crash would keep.
        key, since = plane.desk._epoch
        deadline = time.monotonic() + 10
        while plane.desk.store.risk_counts(key)[2] != counts_more["decided"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert plane.desk.store.risk_counts(key) == (since, counts_more["accepted"], counts_more["decided"])
    finally:
        second.stop()

    third = _start(settings)
    try:
        assert _estimate(third)[1] == counts_more  # saved on shutdown too
        with stubs(third) as (_classifier, admin):
            _install(admin, AcceptanceRule(proven=True, confidence_threshold=0.49, alpha=0.01, n=300))
        assert _estimate(third)[1] == {"audited": 0, "wrong": 0, "accepted": 0, "decided": 0}
    finally:
        third.stop()

    fourth = _start(settings)  # a new rule began a new estimate: the old audits do not come back
    try:
        fresh, fresh_counts = _estimate(fourth)
        assert fresh_counts == {"audited": 0, "wrong": 0, "accepted": 0, "decided": 0} and fresh.audited == 0
        assert _exported()["estimate"] is None  # nothing to say yet
    finally:
        fourth.stop()
