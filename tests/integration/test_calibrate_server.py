"""`doctriage-admin calibrate` against a real server: prove, write, apply live; the rule decides; audits
go to the review queue and their resolutions drive the silent-failure metric."""

from __future__ import annotations

import json
from pathlib import Path

from doctriage.v1 import admin_pb2, classifier_pb2

from harness.documents import sample_documents
from harness.engine import metric, model_tree, request, running, stubs
from sidecar.risk import AcceptanceRule
from sidecar.server.convert import rule_to_proto
from sidecar.tools import cli

TRAFFIC = {"weights": {"2.3": 1.0}, "fallback_name": ""}


def _folder(root: Path, label: str, seeds: range) -> None:
    (root / label).mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        (root / label / f"{seed}.jpg").write_bytes(sample_documents(seed=seed)["jpeg"])


def test_calibrate_apply_and_decide(tmp_path: Path) -> None:
    # The model says "invoice" with ~0.95 for every page: right on invoices, wrong on anything else.
    models = model_tree(tmp_path / "models", v24=False, lite=False, favour="invoice", bias=5.0)
    data = tmp_path / "labelled"
    _folder(data, "invoice", range(1000, 1050))
    out = tmp_path / "rule.json"
    with running(models, traffic=TRAFFIC) as server, stubs(server) as (classifier, admin):
        argv = ["--address", server.address, "calibrate", str(data), "--alpha", "0.05", "-o", str(out), "--apply"]
        assert cli.main(argv) == 0
        written = json.loads(out.read_text())
        rule = AcceptanceRule.from_dict(written["rules"]["2.3"])
        # 50 documents, no failure: proven at 5 % (needs >= 45), everything accepted.
        assert rule.proven and rule.coverage == 1.0 and rule.n == 50 and rule.silent_failures == 0
        assert written["calibration"]["2.3"]["mode"] == "server" and written["audit_rate"] == 0.01
        live = admin.GetThresholds(admin_pb2.GetThresholdsRequest(model_version="2.3"))
        assert live.HasField("rule") and live.rule.proven and live.rule.alpha == 0.05
        assert live.rule.data_digest == rule.data_digest and "learn-then-test" in live.provenance
        answer = classifier.Classify(request(sample_documents(seed=7)["png"], "png"), timeout=30)
        assert answer.decision == classifier_pb2.ACCEPTED and list(answer.decision_reasons) == ["RISK_CONTROLLED"]
        saved = tmp_path / "saved.json"
        saved.write_text(out.read_text())

        # Out-of-scope documents that the model calls invoices with the same confidence: the only
        # provable rule now sits above every calibration confidence (accepts none of them).
        _folder(data, "other", range(2000, 2010))
        assert cli.main(argv[:-1]) == 0  # written, not applied
        tight = AcceptanceRule.from_dict(json.loads(out.read_text())["rules"]["2.3"])
        assert tight.coverage == 0.0 and tight.n == 60 and tight.confidence_threshold > 0.94
        assert admin.GetThresholds(admin_pb2.GetThresholdsRequest(model_version="2.3")).rule.coverage == 1.0
        assert cli.main(argv) == 0
        refused = classifier.Classify(request(sample_documents(seed=8)["png"], "png"), timeout=30)
        assert refused.decision == classifier_pb2.HUMAN_REVIEW
        assert list(refused.decision_reasons) == ["BELOW_RISK_THRESHOLD"]
        # At 1 % no rule at all can be proven on 60 documents (needs 230): everything to review.
        assert cli.main([*argv[:4], "--alpha", "0.01", *argv[6:]]) == 0
        none = classifier.Classify(request(sample_documents(seed=9)["png"], "png"), timeout=30)
        assert list(none.decision_reasons) == ["NO_PROVEN_RULE"]
        # A rule file written earlier is installed as it is.
        assert cli.main(["--address", server.address, "calibrate", str(saved), "--apply"]) == 0
        assert admin.GetThresholds(admin_pb2.GetThresholdsRequest(model_version="2.3")).rule.coverage == 1.0


def test_audit_sampling_metric_and_alert_inputs(tmp_path: Path) -> None:
    models = model_tree(tmp_path / "models", v24=False, lite=False, favour="invoice", bias=5.0)
    with running(models, traffic=TRAFFIC) as server, stubs(server) as (classifier, admin):
        rule = AcceptanceRule(proven=True, confidence_threshold=0.5, alpha=0.01, n=300)
        wanted = admin_pb2.Thresholds(model_version="2.3", provenance=rule.provenance(), audit_rate=1.0)
        wanted.default.accept, wanted.default.review_below = 0.85, 0.6
        wanted.rule.CopyFrom(rule_to_proto(rule))
        admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=wanted))
        assert metric("doctriage_risk_target_silent_failure_rate") == 0.01
        sampled_before = metric("doctriage_audit_sampled_total")
        for seed in range(3000, 3010):  # audit rate 1: every accepted document is also queued as audit
            answer = classifier.Classify(request(sample_documents(seed=seed)["png"], "png"), timeout=30)
            assert answer.decision == classifier_pb2.ACCEPTED and not answer.review_id
        assert metric("doctriage_audit_sampled_total") - sampled_before == 10
        audits = admin.ListReviews(admin_pb2.ListReviewsRequest(status=admin_pb2.PENDING, page_size=50)).items
        assert len(audits) == 10 and all(i.audit for i in audits)
        assert all(i.predicted_label == "invoice" and "AUDIT" in i.reason for i in audits)
        # Reviewers find 3 of the 10 accepted documents wrong.
        for n, item in enumerate(audits):
            truth = "receipt" if n < 3 else "invoice"
            admin.ResolveReview(admin_pb2.ResolveReviewRequest(id=item.id, true_label=truth, reviewer="ann"))
        assert metric("doctriage_audit_resolved_total", outcome="wrong") >= 3
        estimate = metric("doctriage_audit_silent_failure_rate", bound="estimate")
        assert estimate == 0.3  # every decided document was accepted: silent failure = error rate
        assert metric("doctriage_audit_silent_failure_rate", bound="lower") > 0.01
        # DocTriageSilentFailureAboveTarget's condition: upper limit above alpha, lower limit above 0.
        assert metric("doctriage_audit_silent_failure_rate", bound="upper_one_sided") > 0.01


def test_learning_from_review_recalibrates_live(tmp_path: Path) -> None:
    """A needlessly strict rule sends everything to review; 50 resolutions later the sidecar has
    re-proven a rule on the reviewed documents and accepts."""
    models = model_tree(tmp_path / "models", v24=False, lite=False, favour="invoice", bias=5.0)
    with running(models, traffic=TRAFFIC) as server, stubs(server) as (classifier, admin):
        strict = AcceptanceRule(proven=True, confidence_threshold=0.999, alpha=0.05, n=100)
        wanted = admin_pb2.Thresholds(provenance=strict.provenance(), audit_rate=1.0)
        wanted.default.accept, wanted.default.review_below = 0.85, 0.6
        wanted.rule.CopyFrom(rule_to_proto(strict))
        admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=wanted))
        ids = []
        for seed in range(4000, 4050):
            answer = classifier.Classify(request(sample_documents(seed=seed)["jpeg"], "jpeg"), timeout=30)
            assert answer.decision == classifier_pb2.HUMAN_REVIEW and answer.review_id
            ids.append(answer.review_id)
        for item_id in ids:  # every one of them really was an invoice
            admin.ResolveReview(admin_pb2.ResolveReviewRequest(id=item_id, true_label="invoice", reviewer="ann"))
        live = admin.GetThresholds(admin_pb2.GetThresholdsRequest()).rule
        assert live.proven and live.n == 50 and live.confidence_threshold < 0.9 and "recalibrated" in live.note
        fresh = classifier.Classify(request(sample_documents(seed=4100)["jpeg"], "jpeg"), timeout=30)
        assert fresh.decision == classifier_pb2.ACCEPTED and list(fresh.decision_reasons) == ["RISK_CONTROLLED"]


def test_agreement_gate_runs_the_second_model(tmp_path: Path) -> None:
    from harness.tiny_model import write_tiny_model

    models = model_tree(tmp_path / "models", v24=False, lite=False, favour="invoice", bias=5.0)
    write_tiny_model(models, "doc-classifier", "2.5", seed=5, favour="receipt", bias=5.0)  # always disagrees
    with running(models, traffic=TRAFFIC) as server, stubs(server) as (classifier, admin):

        def install(second: str) -> None:
            rule = AcceptanceRule(proven=True, confidence_threshold=0.5, require_agreement=True, second_model=second)
            wanted = admin_pb2.Thresholds(provenance=rule.provenance())
            wanted.default.accept, wanted.default.review_below = 0.85, 0.6
            wanted.rule.CopyFrom(rule_to_proto(rule))
            assert admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=wanted)).rule.second_model == second

        def reasons(seed: int) -> list[str]:
            answer = classifier.Classify(request(sample_documents(seed=seed)["png"], "png"), timeout=30)
            return list(answer.decision_reasons)

        install("doc-classifier/2.3")  # agrees with itself
        assert reasons(5000) == ["RISK_CONTROLLED"]
        install("doc-classifier/2.5")  # not loaded: no second opinion, no automatic acceptance
        assert reasons(5001) == ["NO_SECOND_OPINION"]
        admin.LoadModel(admin_pb2.LoadModelRequest(name="doc-classifier", version="2.5"))
        assert reasons(5002) == ["MODELS_DISAGREE"]
