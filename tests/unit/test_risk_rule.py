"""apply_rule's gates, the rule's JSON round trip, and that fit_rule's array path agrees with it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from sidecar.risk import (
    NEVER,
    AcceptanceRule,
    CalibrationRecord,
    PredictionFeatures,
    apply_rule,
    deferring,
    evaluate,
    fit_rule,
)


def _rule(**kw: object) -> AcceptanceRule:
    base = AcceptanceRule(proven=True, confidence_threshold=0.9, ood_threshold=5.0)
    return AcceptanceRule.from_dict({**base.to_dict(), **kw})


def test_gates() -> None:
    rule = _rule(per_label={"receipt": 0.95})
    assert apply_rule(rule, PredictionFeatures("invoice", 0.93, 1.0)) == (True, ("RISK_CONTROLLED",))
    assert apply_rule(rule, PredictionFeatures("receipt", 0.93, 1.0)) == (False, ("BELOW_RISK_THRESHOLD",))
    assert apply_rule(rule, PredictionFeatures("other", 0.99, 1.0))[1] == ("OUT_OF_SCOPE",)
    assert apply_rule(rule, PredictionFeatures("invoice", 0.99, 6.0))[1] == ("OUT_OF_DISTRIBUTION",)
    assert apply_rule(rule, PredictionFeatures("invoice", 0.5, 9.0))[1] == (
        "OUT_OF_DISTRIBUTION",
        "BELOW_RISK_THRESHOLD",
    )
    agreeing = _rule(require_agreement=True, require_rules=True)
    assert apply_rule(agreeing, PredictionFeatures("invoice", 0.99, 0.0, "invoice", True))[0]
    assert apply_rule(agreeing, PredictionFeatures("invoice", 0.99, 0.0, "receipt", True))[1] == ("MODELS_DISAGREE",)
    assert apply_rule(agreeing, PredictionFeatures("invoice", 0.99, 0.0, None, None))[1] == (
        "NO_SECOND_OPINION",
        "RULES_NOT_EVALUATED",
    )
    assert apply_rule(agreeing, PredictionFeatures("invoice", 0.99, 0.0, "invoice", False))[1] == ("RULES_NOT_PASSED",)


def test_a_deferring_rule_accepts_nothing_and_says_where_answers_go(tmp_path: Path) -> None:
    own = _rule(confidence_threshold=0.3, accepted=12, coverage=0.2, risk_upper=0.04, model_version="2.3")
    rule = AcceptanceRule.from_dict(deferring(own, "doc-classifier/2.4").to_dict())  # survives the file
    assert not rule.proven and rule.accepted == 0 and rule.coverage == 0.0 and rule.confidence_threshold == NEVER
    assert apply_rule(rule, PredictionFeatures("invoice", 1.0)) == (False, ("NO_PROVEN_RULE",))
    assert rule.describe().startswith("defers to doc-classifier/2.4") and own.describe() in rule.describe()
    records = [CalibrationRecord("invoice", "invoice", 0.99, 0.0)] * 20
    assert evaluate(rule, records)["accepted"] == 0

    # one thresholds file holds every version: writing 2.3's keeps 2.4's rule and calibration summary
    from sidecar.risk.rulefile import read_config, write_config

    path = tmp_path / "rules.json"
    write_config(path, {"2.4": own}, 0.01, {"mode": "offline", "model": "doc-classifier"})
    write_config(path, {"2.3": rule}, 0.02, {"mode": "server", "model": "doc-classifier"})
    rules, audit_rate = read_config(path)
    assert set(rules) == {"2.3", "2.4"} and rules["2.4"].proven and not rules["2.3"].proven and audit_rate == 0.02
    written = json.loads(path.read_text())
    assert written["calibration"]["2.4"]["mode"] == "offline" and written["calibration"]["2.3"]["mode"] == "server"


def test_unproven_rule_accepts_nothing() -> None:
    rule = _rule(proven=False, confidence_threshold=0.0)
    assert apply_rule(rule, PredictionFeatures("invoice", 1.0)) == (False, ("NO_PROVEN_RULE",))
    assert "everything goes to review" in rule.describe()


def test_json_round_trip_and_validation() -> None:
    rule = _rule(per_label={"invoice": 0.97, "receipt": NEVER}, require_agreement=True, note="x")
    assert AcceptanceRule.from_json(rule.to_json()) == rule
    assert "alpha=0.01" in rule.provenance()
    with pytest.raises(ValueError):
        _rule(confidence_threshold=3.0)
    with pytest.raises(ValueError):
        _rule(alpha=0.0)
    with pytest.raises(ValueError):
        AcceptanceRule.from_dict({**rule.to_dict(), "format": 99})


def test_fit_rule_agrees_with_apply_rule() -> None:
    rng = random.Random(3)
    labels = ["invoice", "receipt", "letter", "other"]
    records = []
    for _ in range(3000):
        pred = rng.choice(labels)
        conf = rng.random()
        true = pred if rng.random() < conf else rng.choice(labels)
        second = rng.choice([None, pred, "letter"])
        records.append(CalibrationRecord(true, pred, conf, rng.gauss(0, 1), second, rng.choice([None, True, False])))
    rule = fit_rule(
        records, 0.05, 0.1, ood_threshold=1.0, gate_options=((False, False), (True, False)), per_label_min=300
    )
    assert rule.proven
    accepted = [r for r in records if apply_rule(rule, r.features)[0]]
    assert rule.accepted == len(accepted)
    assert rule.silent_failures == sum(r.wrong for r in accepted)
    assert evaluate(rule, records)["coverage"] == pytest.approx(len(accepted) / len(records))
    assert rule.risk_upper <= 0.05 + 1e-9 or rule.per_label  # per-label splits α, the overall CP may differ
    assert set(rule.per_label) <= {"invoice", "receipt", "letter"}


def test_nothing_provable_on_small_sets() -> None:
    records = [CalibrationRecord("invoice", "invoice", 0.99)] * 229
    rule = fit_rule(records, alpha=0.01, delta=0.1)
    assert not rule.proven and rule.coverage == 0.0
    assert "230" in rule.note
    assert not apply_rule(rule, PredictionFeatures("invoice", 1.0))[0]
    # One more perfect document and zero failures prove alpha = 1 %.
    proven = fit_rule([*records, records[0]], alpha=0.01, delta=0.1)
    assert proven.proven and proven.coverage == 1.0 and proven.silent_failures == 0


def test_empty_and_bad_arguments() -> None:
    assert not fit_rule([]).proven
    with pytest.raises(ValueError):
        fit_rule([], alpha=1.5)
    with pytest.raises(ValueError):
        fit_rule([], gate_options=())
