"""The cascade (traffic.escalate_to): a review answer of the routed version is asked again of the version
that reads text, against a real server with real ONNX sessions."""

from __future__ import annotations

from pathlib import Path

from doctriage.v1 import admin_pb2, classifier_pb2

from harness.documents import sample_documents
from harness.engine import metric, request, running, stubs
from harness.tiny_model import write_tiny_model

ESCALATIONS = "doctriage_escalations_total"


def _tree(root: Path, v24_favours: str) -> Path:
    # 2.3 is sure the page is out of scope (review: OUT_OF_SCOPE); 2.4 favours `v24_favours`.
    write_tiny_model(root, "doc-classifier", "2.3", seed=1, favour="other", bias=8.0)
    write_tiny_model(root, "doc-classifier", "2.4", seed=2, text_dim=64, favour=v24_favours, bias=8.0)
    return root


def _only(version: str) -> admin_pb2.SetTrafficSplitRequest:
    weights = [admin_pb2.VersionWeight(version=version, weight=1.0)]
    return admin_pb2.SetTrafficSplitRequest(split=admin_pb2.TrafficSplit(model_name="doc-classifier", weights=weights))


def test_a_review_answer_is_escalated_and_the_second_answer_decides(tmp_path: Path) -> None:
    root = _tree(tmp_path / "models", "receipt")
    traffic = {"weights": {"2.3": 1.0}, "escalate_to": "2.4", "fallback_name": ""}
    labels = {"from_model": "doc-classifier/2.3", "to_model": "doc-classifier/2.4"}
    with running(root, traffic=traffic) as server, stubs(server) as (classifier, admin):
        before = metric(ESCALATIONS, **labels, outcome="accepted")
        png = sample_documents(seed=61)["png"]
        got = classifier.Classify(request(png, "png"), timeout=30)
        assert got.model_version == "2.4" and got.label == "receipt"
        assert got.decision == classifier_pb2.ACCEPTED and "ESCALATED_FROM_2.3" in got.decision_reasons
        assert not got.review_id
        assert metric(ESCALATIONS, **labels, outcome="accepted") == before + 1

        # routed straight to 2.4: nothing to escalate
        admin.SetTrafficSplit(_only("2.4"))
        direct = classifier.Classify(request(sample_documents(seed=62)["png"], "png"), timeout=30)
        assert direct.model_version == "2.4" and "ESCALATED_FROM_2.3" not in direct.decision_reasons

        # the escalation version unloaded: 2.3's own answer stands, and goes to review
        admin.SetTrafficSplit(_only("2.3"))
        admin.UnloadModel(admin_pb2.UnloadModelRequest(name="doc-classifier", version="2.4"))
        kept = classifier.Classify(request(sample_documents(seed=63)["png"], "png"), timeout=30)
        assert kept.model_version == "2.3" and kept.label == "other"
        assert kept.decision == classifier_pb2.HUMAN_REVIEW and kept.review_id
        assert "OUT_OF_SCOPE" in kept.decision_reasons and "ESCALATED_FROM_2.3" not in kept.decision_reasons


def test_when_the_second_answer_is_not_sure_either_it_is_queued_with_its_label(tmp_path: Path) -> None:
    root = _tree(tmp_path / "models", "other")
    traffic = {"weights": {"2.3": 1.0}, "escalate_to": "2.4", "fallback_name": ""}
    labels = {"from_model": "doc-classifier/2.3", "to_model": "doc-classifier/2.4", "outcome": "review"}
    with running(root, traffic=traffic) as server, stubs(server) as (classifier, admin):
        before = metric(ESCALATIONS, **labels)
        got = classifier.Classify(request(sample_documents(seed=64)["jpeg"], "jpeg"), timeout=30)
        assert got.model_version == "2.4" and got.decision == classifier_pb2.HUMAN_REVIEW and got.review_id
        assert {"OUT_OF_SCOPE", "ESCALATED_FROM_2.3"} <= set(got.decision_reasons)
        assert metric(ESCALATIONS, **labels) == before + 1
        # the reviewer sees the answer that was returned: 2.4's
        items = admin.ListReviews(admin_pb2.ListReviewsRequest()).items
        item = next(i for i in items if i.id == got.review_id)
        assert item.model_version == "2.4"
