import pytest

from sidecar.decision.decide import Thresholds, decide, in_middle_band
from sidecar.domain import DecisionKind, Prediction
from sidecar.risk import AcceptanceRule


def prediction(label: str = "invoice", confidence: float = 0.9, is_ood: bool = False) -> Prediction:
    return Prediction(label, confidence, {label: confidence}, "m", "1", is_ood=is_ood)


@pytest.mark.parametrize(
    ("confidence", "kind", "reason"),
    [
        (0.95, DecisionKind.ACCEPTED, "HIGH_CONFIDENCE"),
        (0.85, DecisionKind.ACCEPTED, "HIGH_CONFIDENCE"),
        (0.84, DecisionKind.HUMAN_REVIEW, "MEDIUM_CONFIDENCE_NO_RULES"),
        (0.60, DecisionKind.HUMAN_REVIEW, "MEDIUM_CONFIDENCE_NO_RULES"),
        (0.59, DecisionKind.HUMAN_REVIEW, "LOW_CONFIDENCE"),
    ],
)
def test_confidence_bands(confidence: float, kind: DecisionKind, reason: str) -> None:
    decision = decide(prediction(confidence=confidence), Thresholds())
    assert (decision.kind, decision.reasons) == (kind, (reason,))


def test_out_of_distribution_and_other_go_to_review_even_when_confident() -> None:
    assert decide(prediction(is_ood=True, confidence=0.99), Thresholds()).reasons == ("OUT_OF_DISTRIBUTION",)
    assert decide(prediction(label="other", confidence=0.99), Thresholds()).kind is DecisionKind.HUMAN_REVIEW


def test_middle_band_accepts_only_when_rules_pass() -> None:
    from sidecar.domain import RuleFinding

    ok = (RuleFinding("invoice.amount", True),)
    bad = (RuleFinding("invoice.amount", True), RuleFinding("invoice.forbid", False))
    assert decide(prediction(confidence=0.7), Thresholds(), ok).kind is DecisionKind.ACCEPTED_AFTER_RULES
    assert decide(prediction(confidence=0.7), Thresholds(), bad).reasons == ("RULES_FAILED",)
    assert decide(prediction(confidence=0.7), Thresholds(), ()).reasons == ("MEDIUM_CONFIDENCE_NO_RULES",)
    # a rule that could be checked and failed also stops a confident answer
    assert decide(prediction(confidence=0.99), Thresholds(), bad).kind is DecisionKind.HUMAN_REVIEW


def test_per_label_thresholds_and_validation() -> None:
    from sidecar.decision.decide import Band
    from sidecar.errors import InvalidRequest

    t = Thresholds(per_label={"invoice": Band(accept=0.95, review_below=0.9)})
    assert decide(prediction(confidence=0.92), t).reasons == ("MEDIUM_CONFIDENCE_NO_RULES",)
    assert decide(prediction(label="receipt", confidence=0.92), t).kind is DecisionKind.ACCEPTED
    assert decide(prediction(confidence=0.89), t).reasons == ("LOW_CONFIDENCE",)
    t.validate({"invoice", "receipt"})
    for bad in (
        Thresholds(accept=0.5, review_below=0.6),
        Thresholds(accept=1.2),
        Thresholds(per_label={"nope": Band()}),
        Thresholds(per_label={"invoice": Band(0.3, 0.4)}),
    ):
        with pytest.raises(InvalidRequest):
            bad.validate({"invoice"})
    assert Thresholds.from_dict(t.as_dict()) == t


def test_fallback_sources() -> None:
    from sidecar.domain import RuleFinding, Source

    degraded = Prediction("", 0.0, {}, "m", "", source=Source.DEGRADED)
    assert decide(degraded, Thresholds()).reasons == ("DEGRADED",)
    by_rules = Prediction("invoice", 0.5, {"invoice": 1.0}, "rules", "1", source=Source.RULES)
    ok = (RuleFinding("invoice.amount", True),)
    assert decide(by_rules, Thresholds(), ok).kind is DecisionKind.ACCEPTED_AFTER_RULES
    assert decide(by_rules, Thresholds(), None).kind is DecisionKind.HUMAN_REVIEW


def test_rule_based_answers_go_to_review_under_a_risk_controlled_rule() -> None:
    import json
    from pathlib import Path

    from sidecar.domain import RuleFinding, Source
    from sidecar.risk.rule import AcceptanceRule

    raw = json.loads((Path(__file__).resolve().parents[2] / "config" / "acceptance-rule.json").read_text())
    rule = AcceptanceRule.from_dict(raw["rules"]["2.3"])
    by_rules = Prediction("invoice", 0.99, {"invoice": 1.0}, "rules", "1", source=Source.RULES)
    ok = (RuleFinding("invoice.amount", True),)
    assert decide(by_rules, Thresholds(), ok).kind is DecisionKind.ACCEPTED_AFTER_RULES
    decision = decide(by_rules, Thresholds(rule=rule), ok)
    assert decision.kind is DecisionKind.HUMAN_REVIEW and "NOT_COVERED_BY_RULE" in decision.reasons


def test_business_rules_decide_where_an_installed_rule_needs_them() -> None:
    def p(conf: float, ood: float = 0.0, label: str = "invoice") -> Prediction:
        return Prediction(label, conf, {label: conf}, "doc-classifier", "2.4", ood_score=ood)

    bands = Thresholds()  # no rule: the bands' middle band, 0.60 <= confidence < 0.85
    assert [in_middle_band(p(c), bands) for c in (0.3, 0.7, 0.9)] == [False, True, False]
    rule = AcceptanceRule(proven=True, confidence_threshold=0.2, ood_threshold=3.0, require_rules=True)
    ruled = Thresholds(rule=rule)
    # Wherever the rule could accept, whatever the bands say; never where another gate already refuses.
    assert [in_middle_band(p(c), ruled) for c in (0.1, 0.3, 0.7, 0.99)] == [False, True, True, True]
    assert not in_middle_band(p(0.9, ood=4.0), ruled)
    assert not in_middle_band(p(0.9, label="other"), ruled)
    no_rules = Thresholds(rule=AcceptanceRule(proven=True, confidence_threshold=0.2, require_rules=False))
    assert not in_middle_band(p(0.7), no_rules)
    unproven = Thresholds(rule=AcceptanceRule(proven=False, confidence_threshold=0.2, require_rules=True))
    assert not in_middle_band(p(0.7), unproven)
