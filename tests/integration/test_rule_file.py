"""The acceptance rules of `doctriage-admin calibrate`'s file decide from start-up (decision.acceptance_rule_file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from doctriage.v1 import admin_pb2, classifier_pb2

from harness.documents import sample_documents
from harness.engine import request, running, stubs
from harness.tiny_model import write_tiny_model

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_RULES = ROOT / "config" / "acceptance-rule.json"


def _rule_file(tmp_path: Path, **changes: object) -> Path:
    data = json.loads(SHIPPED_RULES.read_text())
    # The shipped proven rule (2.4's; 2.3's defers to it), installed for 2.3, which these tests serve alone.
    rule = {
        **data["rules"]["2.4"],
        "model_version": "2.3",
        "ood_threshold": None,
        "require_agreement": False,
        "second_model": "",
        **changes,
    }
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({**data, "rules": {"2.3": rule}}))
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    # Every page is an invoice with confidence ~1: the bands alone accept it.
    write_tiny_model(root, "doc-classifier", "2.3", favour="invoice", bias=12.0)
    return root


def _classify(models: Path, **decision: object) -> tuple[classifier_pb2.ClassifyResponse, admin_pb2.Thresholds]:
    with running(models, traffic={"weights": {"2.3": 1.0}}, decision=decision) as server, stubs(server) as (c, a):
        response = c.Classify(request(sample_documents(seed=7)["png"], "png"), timeout=30)
        thresholds = a.GetThresholds(admin_pb2.GetThresholdsRequest(model_version="2.3"))
    return response, thresholds


def test_without_a_rule_file_the_bands_decide(models: Path) -> None:
    response, thresholds = _classify(models)
    assert response.label == "invoice" and response.decision == classifier_pb2.ACCEPTED
    assert not thresholds.HasField("rule")


def test_an_unproven_rule_sends_everything_to_review(models: Path, tmp_path: Path) -> None:
    response, thresholds = _classify(models, acceptance_rule_file=str(_rule_file(tmp_path, proven=False)))
    assert response.label == "invoice" and response.decision == classifier_pb2.HUMAN_REVIEW
    shipped_alpha = json.loads(SHIPPED_RULES.read_text())["rules"]["2.4"]["alpha"]
    assert thresholds.rule.alpha == pytest.approx(shipped_alpha) and not thresholds.rule.proven


def test_a_proven_rule_accepts_above_its_threshold(models: Path, tmp_path: Path) -> None:
    # Confidence alone decides here: the sample page carries no invoice text for business rules to pass.
    rule_file = _rule_file(tmp_path, confidence_threshold=0.5, require_rules=False)
    response, thresholds = _classify(models, acceptance_rule_file=str(rule_file))
    assert response.decision == classifier_pb2.ACCEPTED
    assert thresholds.rule.proven and thresholds.rule.confidence_threshold == pytest.approx(0.5)


def test_shipped_rules_cover_the_shipped_versions_through_the_cascade() -> None:
    from sidecar.config import Settings

    rules = json.loads(SHIPPED_RULES.read_text())["rules"]
    assert set(rules) == {"2.3", "2.4"}
    shipped = Settings(data_dir=ROOT)  # the release's models/deployment.toml
    assert shipped.decision.acceptance_rule_file == SHIPPED_RULES
    traffic = shipped.traffic
    assert set(traffic.weights) == set(rules)
    for version, rule in rules.items():
        assert rule["model_version"] == version and rule["n"] >= 45
        if not rule["proven"]:
            # a deferring rule: accepts nothing, and the cascade hands its answers to a proven version
            assert rule["note"].startswith("defers to") and rule["accepted"] == 0
            assert traffic.escalate_to != version and rules[traffic.escalate_to]["proven"]
            continue
        assert rule["risk_upper"] <= rule["alpha"]
        if rule["require_agreement"]:  # the agreement gate's model ships too, and is in the default split
            name, _, second = rule["second_model"].rpartition("/")
            assert (ROOT / "models" / name / second / "model.onnx").is_file() and second != version
