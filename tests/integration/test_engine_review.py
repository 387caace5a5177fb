"""Thresholds, business rules in the middle band and the human review queue, against a real server."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from doctriage import Client, RuleFinding
from doctriage.v1 import admin_pb2, classifier_pb2

from harness.documents import jpeg, page_image, pdf, sample_documents
from harness.engine import metric, model_tree, request, running, stubs, thresholds
from harness.grpc_errors import reason_of
from harness.server import ServerThread
from harness.settings import make_settings
from sidecar.risk import AcceptanceRule
from sidecar.server.convert import rule_to_proto

INVOICE = ("INVOICE No. 7781   Date: 01.02.2025", "Bill to: Example Ltd", "Total 99,00 EUR")


def test_thresholds_rules_and_review_flow(tmp_path: Path) -> None:
    # 2.3 says "invoice" with ~0.95 calibrated confidence for every page.
    root = model_tree(tmp_path / "models", v24=False, lite=False, favour="invoice", bias=5.0)
    traffic = {"weights": {"2.3": 1.0}, "fallback_name": ""}
    with running(root, traffic=traffic) as server, stubs(server) as (classifier, admin):
        got = admin.GetThresholds(admin_pb2.GetThresholdsRequest())
        assert (got.default.accept, got.default.review_below) == pytest.approx((0.85, 0.60))
        png = sample_documents(seed=51)["png"]
        high = classifier.Classify(request(png, "png"), timeout=30)
        assert high.label == "invoice" and high.confidence > 0.9 and high.decision == classifier_pb2.ACCEPTED

        for bad in (thresholds(0.5, 0.7), thresholds(1.5, 0.1), thresholds(0.9, 0.6, nope=(0.9, 0.5))):
            with pytest.raises(grpc.RpcError) as err:
                admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=bad))
            assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT and reason_of(err.value) == "INVALID_REQUEST"

        # invoices are never accepted on confidence alone: the middle band, where the business rules decide
        admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=thresholds(0.85, 0.6, invoice=(1.0, 0.5))))
        text_pdf = pdf(lines=INVOICE)
        ok = classifier.Classify(request(text_pdf, "pdf"), timeout=30)
        assert ok.decision == classifier_pb2.ACCEPTED_AFTER_RULES, ok.decision_reasons
        assert {f.rule for f in ok.rule_findings} >= {"invoice.require_any", "invoice.amount"}
        # an image without text (OCR off here) cannot pass the text rules → review, with the findings
        queued = classifier.Classify(request(png, "png"), timeout=30)
        assert queued.decision == classifier_pb2.HUMAN_REVIEW and queued.review_id
        assert "RULES_FAILED" in queued.decision_reasons
        assert any(not f.passed for f in queued.rule_findings)
        # the Python client carries the findings too
        with Client(server.address) as client:
            answer = client.classify(text_pdf, filename="invoice.pdf")
            assert answer.decision == "ACCEPTED_AFTER_RULES"
            assert {(f.rule, f.passed) for f in answer.rule_findings} == {(f.rule, f.passed) for f in ok.rule_findings}
            assert all(isinstance(f, RuleFinding) for f in answer.rule_findings)
        # the same document again: the same review item (idempotent on the digest)
        assert classifier.Classify(request(png, "png"), timeout=30).review_id == queued.review_id
        assert metric("doctriage_review_queue_depth") >= 1

        # per-model thresholds: a version-specific band wins over the default
        v23 = thresholds(0.2, 0.1)
        v23.model_version = "2.3"
        admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=v23))
        other = classifier.Classify(request(sample_documents(seed=52)["png"], "png"), timeout=30)
        assert other.decision == classifier_pb2.ACCEPTED
        assert admin.GetThresholds(admin_pb2.GetThresholdsRequest(model_version="2.3")).default.accept == 0.2
        assert admin.GetThresholds(admin_pb2.GetThresholdsRequest()).per_label["invoice"].accept == 1.0

        # the review queue: list, claim with a lease, lease expiry, resolve
        listed = admin.ListReviews(admin_pb2.ListReviewsRequest(status=admin_pb2.PENDING, page_size=10))
        assert [i.id for i in listed.items] == [queued.review_id] and listed.total == 1
        assert listed.items[0].digest == queued.digest and listed.items[0].content == b""
        claimed = admin.ClaimReview(admin_pb2.ClaimReviewRequest(reviewer="ann", lease_seconds=0.3))
        assert claimed.id == queued.review_id and claimed.content == png and claimed.status == admin_pb2.CLAIMED
        with pytest.raises(grpc.RpcError) as err:
            admin.ClaimReview(admin_pb2.ClaimReviewRequest(reviewer="bob"))
        assert err.value.code() is grpc.StatusCode.NOT_FOUND
        time.sleep(0.4)  # ann's lease runs out: the item is back
        assert admin.ClaimReview(admin_pb2.ClaimReviewRequest(reviewer="bob")).id == queued.review_id
        with pytest.raises(grpc.RpcError) as err:
            admin.ResolveReview(admin_pb2.ResolveReviewRequest(id=queued.review_id, true_label="cat", reviewer="bob"))
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        resolved = admin.ResolveReview(
            admin_pb2.ResolveReviewRequest(id=queued.review_id, true_label="receipt", reviewer="bob")
        )
        assert resolved.status == admin_pb2.RESOLVED and resolved.true_label == "receipt"
        assert metric("doctriage_review_queue_depth") == 0
        # the reviewer's label now answers for that digest (the cache was corrected)
        after = classifier.Classify(request(png, "png"), timeout=30)
        assert (after.label, after.confidence, after.source) == ("receipt", 1.0, classifier_pb2.CACHE)
        assert after.decision == classifier_pb2.ACCEPTED


def test_admin_changes_survive_a_restart(tmp_path: Path) -> None:
    root = model_tree(tmp_path / "models", lite=False)
    settings = make_settings(root, ocr={"enabled": False}, rate_limit={"enabled": False})
    server = ServerThread(settings).start()
    try:
        with stubs(server) as (_, admin):
            admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=thresholds(0.9, 0.7, invoice=(0.95, 0.8))))
            split = admin_pb2.TrafficSplit(
                model_name="doc-classifier",
                weights=[
                    admin_pb2.VersionWeight(version="2.3", weight=0.3),
                    admin_pb2.VersionWeight(version="2.4", weight=0.7),
                ],
                shadow_version="2.3",
                shadow_share=0.2,
            )
            admin.SetTrafficSplit(admin_pb2.SetTrafficSplitRequest(split=split))
    finally:
        server.stop()
    again = ServerThread(settings).start()
    try:
        with stubs(again) as (_, admin):
            t = admin.GetThresholds(admin_pb2.GetThresholdsRequest())
            assert (t.default.accept, t.default.review_below) == (0.9, 0.7)
            assert (t.per_label["invoice"].accept, t.per_label["invoice"].review_below) == (0.95, 0.8)
            assert t.provenance == "test"
            s = admin.GetTrafficSplit(admin_pb2.GetTrafficSplitRequest())
            assert {w.version: w.weight for w in s.weights} == pytest.approx({"2.3": 0.3, "2.4": 0.7})
            assert (s.shadow_version, s.shadow_share) == ("2.3", pytest.approx(0.2))
            admin.UnloadModel(admin_pb2.UnloadModelRequest(name="doc-classifier", version="2.4"))
    finally:
        again.stop()
    third = ServerThread(settings).start()  # the unload is remembered too
    try:
        with stubs(third) as (_, admin):
            states = {(m.name, m.version): m.state for m in admin.ListModels(admin_pb2.ListModelsRequest()).models}
            assert states[("doc-classifier", "2.4")] != admin_pb2.READY
            assert states[("doc-classifier", "2.3")] == admin_pb2.READY
    finally:
        third.stop()


@contextmanager
def invoice_server_with_ocr(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """A real server whose 2.3 says "invoice" (~0.95) for every page, with OCR on: (classifier, admin)."""
    root = model_tree(tmp_path / "models", v24=False, lite=False, favour="invoice", bias=5.0)
    traffic = {"weights": {"2.3": 1.0}, "fallback_name": ""}
    with (
        running(root, traffic=traffic, ocr={"enabled": True, "workers": 1}) as server,
        stubs(server) as (classifier, admin),
    ):
        yield classifier, admin


def test_ocr_runs_only_in_the_middle_band_for_pages_without_text(tmp_path: Path) -> None:
    with invoice_server_with_ocr(tmp_path) as (classifier, admin):
        scan = jpeg(page_image(size=(1240, 1754)))  # an invoice as pixels only (150 dpi), no text layer
        confident = classifier.Classify(request(scan, "jpeg"), timeout=60)
        assert confident.decision == classifier_pb2.ACCEPTED and "ocr" not in confident.timings
        admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=thresholds(0.85, 0.6, invoice=(1.0, 0.5))))
        middle = classifier.Classify(request(jpeg(page_image(size=(1240, 1754), seed=1)), "jpeg"), timeout=60)
        assert "ocr" in middle.timings  # the rules needed text and the page had none
        assert middle.decision == classifier_pb2.ACCEPTED_AFTER_RULES, list(middle.rule_findings)
        text_pdf = classifier.Classify(request(pdf(lines=INVOICE), "pdf"), timeout=60)
        assert "ocr" not in text_pdf.timings  # its text layer was enough
        assert text_pdf.decision == classifier_pb2.ACCEPTED_AFTER_RULES


def test_a_rule_that_requires_business_rules_gets_them_evaluated_at_any_confidence(tmp_path: Path) -> None:
    # The shipped rule for 2.4 can accept below the bands' review_below (doctriage-admin calibrate proved it
    # with the business rules evaluated on every document): text must then be fetched, OCR included,
    # wherever the rule's other gates pass, not only in the bands' middle band.
    with invoice_server_with_ocr(tmp_path) as (classifier, admin):
        wanted = admin_pb2.Thresholds(model_version="2.3", provenance="test")
        wanted.default.accept, wanted.default.review_below = 1.0, 1.0  # the bands: no middle band at all
        rule = AcceptanceRule(proven=True, confidence_threshold=0.0, require_rules=True, alpha=0.05, n=100)
        wanted.rule.CopyFrom(rule_to_proto(rule))
        admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=wanted))
        scan = classifier.Classify(request(jpeg(page_image(size=(1240, 1754), seed=2)), "jpeg"), timeout=60)
        assert "ocr" in scan.timings  # pixels only: the rules needed text, so OCR ran
        assert scan.decision == classifier_pb2.ACCEPTED_AFTER_RULES, (
            list(scan.decision_reasons),
            list(scan.rule_findings),
        )
        assert list(scan.decision_reasons) == ["RISK_CONTROLLED"]
        assert {f.rule for f in scan.rule_findings} and all(f.passed for f in scan.rule_findings)
        # Not an invoice's text: a rule fails and the answer goes to review, as offline calibration assumed.
        blank = classifier.Classify(request(pdf(lines=("Hello",)), "pdf"), timeout=60)
        assert blank.decision == classifier_pb2.HUMAN_REVIEW and "RULES_FAILED" in blank.decision_reasons


def test_text_model_gets_the_pdf_text(tmp_path: Path) -> None:
    root = model_tree(tmp_path / "models", lite=False)
    with (
        running(root, traffic={"weights": {"2.4": 1.0}, "fallback_name": ""}) as server,
        stubs(server) as (classifier, _),
    ):
        with_text = classifier.Classify(request(pdf(lines=INVOICE), "pdf"), timeout=30)
        without = classifier.Classify(request(pdf(lines=INVOICE, text_layer=False), "pdf"), timeout=30)
        assert with_text.model_version == without.model_version == "2.4"
        assert with_text.source == without.source == classifier_pb2.MODEL
        # the same kind of page with and without text features: the text input changes the scores
        assert [s.score for s in with_text.scores] != [s.score for s in without.scores]


def test_a_resolved_digest_is_answered_from_the_feedback_table_without_a_cache(tmp_path: Path) -> None:
    root = model_tree(tmp_path / "models", v24=False, lite=False)
    traffic = {"weights": {"2.3": 1.0}, "fallback_name": ""}
    with (
        running(
            root, traffic=traffic, cache={"enabled": False}, decision={"accept": 1.0, "review_below": 1.0}
        ) as server,
        stubs(server) as (classifier, admin),
    ):
        png = sample_documents(seed=77)["png"]
        queued = classifier.Classify(request(png, "png"), timeout=30)
        assert queued.decision == classifier_pb2.HUMAN_REVIEW and queued.review_id
        admin.ResolveReview(admin_pb2.ResolveReviewRequest(id=queued.review_id, true_label="payslip", reviewer="ann"))
        again = classifier.Classify(request(png, "png"), timeout=30)
        assert (again.label, again.decision, list(again.decision_reasons)) == (
            "payslip",
            classifier_pb2.ACCEPTED,
            ["REVIEWED"],
        )
        assert again.review_id == ""


def test_a_locked_review_database_refuses_retryably_and_loses_nothing(tmp_path: Path) -> None:
    # A real fault: another process (a review tool, a backup) holds the SQLite database's write lock.
    root = model_tree(tmp_path / "models", v24=False, lite=False, favour="invoice", bias=5.0)
    db = tmp_path / "review.sqlite3"
    review = {"path": db, "busy_timeout_s": 0.2}
    traffic = {"weights": {"2.3": 1.0}, "fallback_name": ""}
    with running(root, traffic=traffic, review=review) as server, stubs(server) as (classifier, admin):
        # Every answer (~0.95) goes to review: no rule accepts it.
        admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=thresholds(1.0, 0.99)))
        png = sample_documents(seed=61)["png"]
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            before = metric("doctriage_errors_total", reason="REVIEW_QUEUE_UNAVAILABLE")
            with pytest.raises(grpc.RpcError) as err:
                classifier.Classify(request(png, "png"), timeout=30)
            assert err.value.code() is grpc.StatusCode.UNAVAILABLE
            assert reason_of(err.value) == "REVIEW_QUEUE_UNAVAILABLE"
            assert metric("doctriage_errors_total", reason="REVIEW_QUEUE_UNAVAILABLE") == before + 1
            # The reviewers' own calls say the same, not INTERNAL.
            with pytest.raises(grpc.RpcError) as err:
                admin.ClaimReview(admin_pb2.ClaimReviewRequest(reviewer="ana"), timeout=30)
            assert err.value.code() is grpc.StatusCode.UNAVAILABLE
            assert reason_of(err.value) == "REVIEW_QUEUE_UNAVAILABLE" and "locked" in err.value.details()
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        # Lock released: the retry is queued, once.
        queued = classifier.Classify(request(png, "png"), timeout=30)
        assert queued.decision == classifier_pb2.HUMAN_REVIEW and queued.review_id
        listed = admin.ListReviews(admin_pb2.ListReviewsRequest())
        assert [i.id for i in listed.items] == [queued.review_id] and listed.total == 1

        # An accepted answer whose audit sample cannot be queued stands: only the sample is missed.
        audited = admin_pb2.Thresholds(model_version="2.3", provenance="test", audit_rate=1.0)
        audited.default.accept, audited.default.review_below = 0.85, 0.6
        rule = AcceptanceRule(proven=True, confidence_threshold=0.5, alpha=0.01, n=300)
        audited.rule.CopyFrom(rule_to_proto(rule))
        admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=audited))
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            before = metric("doctriage_errors_total", reason="REVIEW_QUEUE_UNAVAILABLE")
            accepted = classifier.Classify(request(sample_documents(seed=62)["png"], "png"), timeout=30)
            assert accepted.decision == classifier_pb2.ACCEPTED and "RISK_CONTROLLED" in accepted.decision_reasons
            assert metric("doctriage_errors_total", reason="REVIEW_QUEUE_UNAVAILABLE") == before + 1
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        sampled = classifier.Classify(request(sample_documents(seed=63)["png"], "png"), timeout=30)
        assert sampled.decision == classifier_pb2.ACCEPTED
        assert admin.ListReviews(admin_pb2.ListReviewsRequest()).total == 2  # the queued one and this audit
