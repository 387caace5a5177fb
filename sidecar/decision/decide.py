"""Stage: decide whether a prediction can be trusted automatically.

Bands on the calibrated confidence, per model version and per label:
- confidence >= accept: ACCEPTED (unless a business rule that could be checked failed);
- review_below <= confidence < accept: ACCEPTED_AFTER_RULES when every business rule of the
  label passes, else HUMAN_REVIEW;
- confidence < review_below, out-of-distribution, label `other`, a failed rule, a degraded
  answer: HUMAN_REVIEW.

When the thresholds carry a risk-controlled acceptance rule (`doctriage-admin calibrate`,
sidecar/risk), the rule replaces the bands after the same hard gates: it accepts only what its
proof covers (silent-failure rate <= alpha with probability >= 1 - delta), the rest goes to review.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sidecar.config import DEFAULT_ACCEPT, DEFAULT_REVIEW_BELOW
from sidecar.domain import Decision, DecisionKind, Prediction, RuleFinding, Source
from sidecar.errors import InvalidRequest
from sidecar.risk.rule import AcceptanceRule, PredictionFeatures, apply_rule

OTHER_LABEL = "other"


@dataclass(frozen=True, slots=True)
class Band:
    accept: float = DEFAULT_ACCEPT
    review_below: float = DEFAULT_REVIEW_BELOW

    def validate(self, where: str) -> Band:
        for name, value in (("accept", self.accept), ("review_below", self.review_below)):
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise InvalidRequest(f"{where}: {name} must be within [0, 1]")
        if self.review_below > self.accept:
            raise InvalidRequest(f"{where}: review_below must not exceed accept")
        return self


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The bands of one model version (or of all, `model_version` ""), with per-label overrides."""

    accept: float = DEFAULT_ACCEPT
    review_below: float = DEFAULT_REVIEW_BELOW
    per_label: Mapping[str, Band] = field(default_factory=dict)
    model_version: str = ""
    provenance: str = ""
    # The risk-controlled acceptance rule; None = the bands decide.
    rule: AcceptanceRule | None = None
    # Share of accepted documents also queued as audit; None = the configured default.
    audit_rate: float | None = None

    def band(self, label: str) -> Band:
        return self.per_label.get(label) or Band(self.accept, self.review_below)

    def validate(self, known_labels: Iterable[str] | None = None) -> Thresholds:
        Band(self.accept, self.review_below).validate("default")
        labels = set(known_labels) if known_labels is not None else None
        for label, band in self.per_label.items():
            if labels is not None and label not in labels:
                raise InvalidRequest(f"unknown label {label!r}")
            band.validate(f"label {label!r}")
        if self.audit_rate is not None and not (math.isfinite(self.audit_rate) and 0.0 <= self.audit_rate <= 1.0):
            raise InvalidRequest("audit_rate must be within [0, 1]")
        if self.rule is not None:
            try:
                self.rule.validate()
            except ValueError as exc:
                raise InvalidRequest(f"acceptance rule: {exc}") from None
        return self

    def as_dict(self) -> dict[str, object]:
        return {
            "accept": self.accept,
            "review_below": self.review_below,
            "per_label": {k: {"accept": b.accept, "review_below": b.review_below} for k, b in self.per_label.items()},
            "model_version": self.model_version,
            "provenance": self.provenance,
            "rule": self.rule.to_dict() if self.rule is not None else None,
            "audit_rate": self.audit_rate,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> Thresholds:
        per_label = raw.get("per_label") or {}
        assert isinstance(per_label, Mapping)
        rule, audit_rate = raw.get("rule"), raw.get("audit_rate")
        return cls(
            accept=float(raw.get("accept", DEFAULT_ACCEPT)),  # type: ignore[arg-type]
            review_below=float(raw.get("review_below", DEFAULT_REVIEW_BELOW)),  # type: ignore[arg-type]
            per_label={str(k): Band(float(v["accept"]), float(v["review_below"])) for k, v in per_label.items()},
            model_version=str(raw.get("model_version", "")),
            provenance=str(raw.get("provenance", "")),
            rule=AcceptanceRule.from_dict(rule) if isinstance(rule, Mapping) else None,
            audit_rate=float(audit_rate) if isinstance(audit_rate, int | float) else None,
        )


def in_middle_band(prediction: Prediction, thresholds: Thresholds) -> bool:
    """Would business rules decide this prediction (so text may be worth an OCR pass)?

    With a risk-controlled acceptance rule installed that requires them, they decide every answer the
    rule's other gates let through (any confidence at or above its threshold, which can lie below the
    bands' review_below): `doctriage-admin calibrate` proved the rule with the rules evaluated on each one."""
    if prediction.is_ood or prediction.label == OTHER_LABEL or prediction.source is Source.DEGRADED:
        return False
    if prediction.source is Source.RULES:
        return True
    rule = thresholds.rule
    if rule is not None:
        # The rule's own gates, with the rules taken as passed and a second opinion as agreeing.
        optimistic = PredictionFeatures(
            prediction.label, prediction.confidence, prediction.ood_score, prediction.label, True
        )
        return rule.require_rules and apply_rule(rule, optimistic)[0]
    band = thresholds.band(prediction.label)
    return band.review_below <= prediction.confidence < band.accept


def decide(
    prediction: Prediction,
    thresholds: Thresholds,
    findings: tuple[RuleFinding, ...] | None = None,
    second_label: str | None = None,
) -> Decision:
    """`findings`: the label's business-rule results, None when they were not evaluated.
    `second_label`: the answer of the acceptance rule's independent second model, when it ran."""
    found = findings or ()
    failed = tuple(f for f in found if not f.passed)
    if prediction.source is Source.DEGRADED:
        return Decision(DecisionKind.HUMAN_REVIEW, ("DEGRADED",), found)
    if prediction.is_ood:
        return Decision(DecisionKind.HUMAN_REVIEW, ("OUT_OF_DISTRIBUTION",), found)
    if prediction.label == OTHER_LABEL:
        return Decision(DecisionKind.HUMAN_REVIEW, ("OUT_OF_SCOPE",), found)
    if prediction.source is Source.RULES:
        # A risk-controlled rule proves the error rate of the models' answers, not of keyword
        # classification: with one installed, rule-based answers (the models are down) go to review.
        if thresholds.rule is not None:
            return Decision(DecisionKind.HUMAN_REVIEW, ("RULE_BASED_CLASSIFICATION", "NOT_COVERED_BY_RULE"), found)
        if found and not failed:
            return Decision(DecisionKind.ACCEPTED_AFTER_RULES, ("RULE_BASED_CLASSIFICATION", "RULES_PASSED"), found)
        return Decision(DecisionKind.HUMAN_REVIEW, ("RULE_BASED_CLASSIFICATION", "RULES_FAILED"), found)
    if thresholds.rule is not None:
        return _decide_by_rule(prediction, thresholds.rule, findings, second_label)
    band = thresholds.band(prediction.label)
    if prediction.confidence < band.review_below:
        return Decision(DecisionKind.HUMAN_REVIEW, ("LOW_CONFIDENCE",), found)
    if failed:
        return Decision(DecisionKind.HUMAN_REVIEW, ("RULES_FAILED",), found)
    if prediction.confidence >= band.accept:
        return Decision(DecisionKind.ACCEPTED, ("HIGH_CONFIDENCE",), found)
    if findings is None:
        return Decision(DecisionKind.HUMAN_REVIEW, ("MEDIUM_CONFIDENCE_NO_RULES",), found)
    if not found:
        return Decision(DecisionKind.HUMAN_REVIEW, ("MEDIUM_CONFIDENCE_NO_RULES",), found)
    return Decision(DecisionKind.ACCEPTED_AFTER_RULES, ("MEDIUM_CONFIDENCE", "RULES_PASSED"), found)


def _decide_by_rule(
    prediction: Prediction, rule: AcceptanceRule, findings: tuple[RuleFinding, ...] | None, second_label: str | None
) -> Decision:
    found = findings or ()
    if any(not f.passed for f in found):
        return Decision(DecisionKind.HUMAN_REVIEW, ("RULES_FAILED",), found)
    features = PredictionFeatures(
        prediction.label, prediction.confidence, prediction.ood_score, second_label, True if found else None
    )
    accepted, reasons = apply_rule(rule, features)
    if not accepted:
        return Decision(DecisionKind.HUMAN_REVIEW, reasons, found)
    kind = DecisionKind.ACCEPTED_AFTER_RULES if rule.require_rules else DecisionKind.ACCEPTED
    return Decision(kind, reasons, found)
