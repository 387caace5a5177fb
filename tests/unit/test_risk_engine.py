"""The acceptance rule inside the engine: decide(), the persisted thresholds, the proto edge, the monitor."""

from __future__ import annotations

import pytest

from sidecar.decision.decide import Thresholds, decide
from sidecar.domain import DecisionKind, Prediction, RuleFinding, Source
from sidecar.errors import InvalidRequest
from sidecar.observability.metrics import REGISTRY
from sidecar.risk import AcceptanceRule
from sidecar.risk.monitor import RiskMonitor, resolved_items, rule_key
from sidecar.server.convert import rule_from_proto, rule_to_proto

RULE = AcceptanceRule(proven=True, confidence_threshold=0.97, ood_threshold=3.0, alpha=0.02, n=400, coverage=0.6)


def _p(label: str = "invoice", conf: float = 0.99, ood: float = 0.0, **kw: object) -> Prediction:
    return Prediction(label, conf, {label: conf}, "doc-classifier", "2.3", ood_score=ood, **kw)  # type: ignore[arg-type]


def test_rule_replaces_the_bands() -> None:
    t = Thresholds(rule=RULE)
    assert decide(_p(conf=0.99), t).kind is DecisionKind.ACCEPTED
    assert decide(_p(conf=0.99), t).reasons == ("RISK_CONTROLLED",)
    below = decide(_p(conf=0.9), t)  # the bands would accept 0.9; the rule does not
    assert below.kind is DecisionKind.HUMAN_REVIEW and below.reasons == ("BELOW_RISK_THRESHOLD",)
    assert decide(_p(conf=0.99, ood=5.0), t).reasons == ("OUT_OF_DISTRIBUTION",)
    # hard gates first, as without a rule
    assert decide(_p(conf=0.99, is_ood=True), t).reasons == ("OUT_OF_DISTRIBUTION",)
    assert decide(_p("other", 0.99), t).reasons == ("OUT_OF_SCOPE",)
    assert decide(_p(conf=0.99, source=Source.DEGRADED), t).reasons == ("DEGRADED",)
    failed = (RuleFinding("invoice.amount", False),)
    assert decide(_p(conf=0.99), t, failed).reasons == ("RULES_FAILED",)
    unproven = Thresholds(rule=AcceptanceRule(proven=False, confidence_threshold=2.0))
    assert decide(_p(conf=1.0), unproven).reasons == ("NO_PROVEN_RULE",)
    with_rules = Thresholds(rule=AcceptanceRule(proven=True, confidence_threshold=0.5, require_rules=True))
    passed = (RuleFinding("invoice.amount", True),)
    assert decide(_p(conf=0.9), with_rules, passed).kind is DecisionKind.ACCEPTED_AFTER_RULES
    assert decide(_p(conf=0.9), with_rules, None).reasons == ("RULES_NOT_EVALUATED",)


def test_thresholds_persist_and_validate_the_rule() -> None:
    t = Thresholds(provenance=RULE.provenance(), rule=RULE, audit_rate=0.05)
    assert Thresholds.from_dict(t.as_dict()) == t
    assert Thresholds.from_dict(Thresholds().as_dict()).rule is None
    with pytest.raises(InvalidRequest):
        Thresholds(audit_rate=2.0).validate()
    bad = AcceptanceRule(proven=True, confidence_threshold=0.5, alpha=0.5)
    object.__setattr__(bad, "confidence_threshold", float("nan"))
    with pytest.raises(InvalidRequest):
        Thresholds(rule=bad).validate()


def test_proto_round_trip() -> None:
    assert rule_from_proto(rule_to_proto(RULE)) == RULE
    no_ood = AcceptanceRule(proven=False, confidence_threshold=2.0, per_label={"receipt": 0.99})
    assert rule_from_proto(rule_to_proto(no_ood)) == no_ood
    assert not rule_to_proto(no_ood).HasField("ood_threshold")


def _gauge(bound: str) -> float | None:
    return REGISTRY.get_sample_value("doctriage_audit_silent_failure_rate", {"bound": bound})


def test_monitor_samples_estimates_and_exports() -> None:
    mon = RiskMonitor(audit_rate=0.5, seed=1)
    mon.set_rule(RULE)
    assert REGISTRY.get_sample_value("doctriage_risk_target_silent_failure_rate") == 0.02
    sampled = sum(mon.on_decision(accepted=True) for _ in range(200))
    assert 70 < sampled < 130
    assert not any(mon.on_decision(accepted=False) for _ in range(100))
    for i in range(50):
        mon.on_resolved(True, "invoice", "receipt" if i < 5 else "invoice")
    mon.on_resolved(False, "invoice", "receipt")  # a plain review item: not an audit
    e = mon.estimate()
    assert (e.audited, e.wrong) == (50, 5)
    assert e.accepted_share == pytest.approx(200 / 300)
    assert _gauge("estimate") == pytest.approx(e.silent_failure_rate)
    assert _gauge("upper_one_sided") == pytest.approx(e.one_sided_upper)
    assert e.breached
    assert not mon.set_rule(RULE)  # the same rule: the estimate goes on
    assert mon.estimate().audited == 50
    assert mon.set_rule(AcceptanceRule(proven=True, confidence_threshold=0.99, alpha=0.02))  # a new rule: a fresh one
    assert mon.estimate().audited == 0
    mon.restore(audited=4, wrong=1, accepted=30, decided=40)  # as persisted, after a restart
    restored = mon.estimate()
    assert (restored.audited, restored.wrong, restored.accepted_share) == (4, 1, 0.75)
    assert _gauge("estimate") == pytest.approx(restored.silent_failure_rate) == 0.75 * 0.25


def test_rule_key_identifies_the_rule() -> None:
    assert rule_key(None) == ""
    assert rule_key(RULE) == rule_key(AcceptanceRule.from_dict(RULE.to_dict()))
    assert rule_key(RULE) != rule_key(AcceptanceRule.from_dict({**RULE.to_dict(), "confidence_threshold": 0.5}))


def test_feedback_rows_become_resolved_items() -> None:
    rows = [
        {"predicted_label": "invoice", "true_label": "invoice", "confidence": 0.99, "reason": "", "audit": True},
        {"predicted_label": "invoice", "true_label": "other", "confidence": 0.9, "reason": "OUT_OF_DISTRIBUTION"},
        {"predicted_label": "receipt", "true_label": "invoice", "confidence": 0.7, "reason": "LOW_CONFIDENCE"},
    ]
    items = resolved_items(rows)
    assert [i.audit for i in items] == [True, False, False]
    assert items[1].record.label == "other" and items[1].record.confidence == 0.0
    assert items[2].record.label == "receipt" and items[2].record.wrong


def test_recalibration_is_due_only_every_n_resolutions_and_with_enough_data() -> None:
    mon = RiskMonitor(audit_rate=1.0, seed=2, recalibrate_every=3)
    strict = AcceptanceRule(proven=True, confidence_threshold=0.999, alpha=0.05, model_version="2.3")
    rows = [{"predicted_label": "invoice", "true_label": "invoice", "confidence": 0.9, "model_version": "2.3"}] * 60
    assert mon.maybe_recalibrate(strict, lambda: rows) is None  # not due yet
    for _ in range(3):
        mon.on_resolved(False, "invoice", "invoice")
    assert mon.maybe_recalibrate(None, lambda: rows) is None  # no rule: nothing to re-prove
    result = mon.maybe_recalibrate(strict, lambda: rows)
    assert result is not None and result.rule.proven and result.rule.confidence_threshold <= 0.9
    for _ in range(3):
        mon.on_resolved(False, "invoice", "invoice")
    other_version = [{**r, "model_version": "2.4"} for r in rows]
    assert mon.maybe_recalibrate(strict, lambda: other_version) is None  # another version's reviews
