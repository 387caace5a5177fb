"""The acceptance rule: which predictions may be accepted without a human, and why.

A rule is data (thresholds plus the provenance of the proof behind them); `apply_rule` is the
pure function the decide stage calls. A prediction is accepted only when every gate passes:
in-scope label, OOD score within the cut, calibrated confidence at or above the label's
threshold, and, when the rule requires them, agreement of the independent model and passing
business rules. A rule that could not be proven (`proven` false) accepts nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

OUT_OF_SCOPE_LABEL = "other"
RULE_FORMAT = 1
LTT_METHOD = "learn-then-test/fixed-sequence/binomial"
NEVER = 2.0  # a threshold no calibrated confidence reaches: that label accepts nothing


@dataclass(frozen=True, slots=True)
class PredictionFeatures:
    """What the rule looks at for one document (all available before the decision)."""

    label: str
    confidence: float  # calibrated probability of `label`
    ood_score: float = 0.0  # higher = more out-of-distribution
    # Label of an independent second signal (text model, other version); None = not available.
    second_label: str | None = None
    # Business rules of `label`: True all passed, False one failed, None not evaluated.
    rules_passed: bool | None = None


@dataclass(frozen=True, slots=True)
class AcceptanceRule:
    """Thresholds plus the proof behind them. Serialises to JSON (`to_dict` / `from_dict`)."""

    proven: bool
    confidence_threshold: float  # global λ: accept when confidence >= λ (NEVER = nothing)
    per_label: Mapping[str, float] = field(default_factory=dict)  # λ overrides for data-rich labels
    ood_threshold: float | None = None  # accept only when ood_score <= this; None = no OOD gate
    require_agreement: bool = False
    second_model: str = ""  # "name/version" of the independent model that must agree
    require_rules: bool = False
    excluded_labels: tuple[str, ...] = (OUT_OF_SCOPE_LABEL,)
    # Provenance of the guarantee: P(silent-failure rate > alpha) <= delta.
    alpha: float = 0.01
    delta: float = 0.10
    n: int = 0  # calibration documents
    silent_failures: int = 0  # wrong and accepted on the calibration set
    accepted: int = 0  # accepted on the calibration set
    risk_upper: float = 1.0  # Clopper–Pearson upper limit of the chosen rule's silent-failure rate
    coverage: float = 0.0  # share accepted on the calibration set
    method: str = LTT_METHOD
    hypotheses: int = 0  # λ values tested (fixed sequence, strictest first)
    model_version: str = ""
    created: str = ""  # ISO-8601 UTC
    data_digest: str = ""  # SHA-256 over the calibration records
    note: str = ""

    def threshold(self, label: str) -> float:
        return self.per_label.get(label, self.confidence_threshold)

    def describe(self) -> str:
        if not self.proven:
            return self.note or (
                f"no rule proven at alpha={self.alpha:g} delta={self.delta:g} on n={self.n}: everything goes to review"
            )
        return (
            f"accept confidence >= {self.confidence_threshold:.4f}"
            + (f" (per label {dict(self.per_label)})" if self.per_label else "")
            + (f", ood <= {self.ood_threshold:.4g}" if self.ood_threshold is not None else "")
            + (f", {self.second_model or 'second model'} agrees" if self.require_agreement else "")
            + (", rules pass" if self.require_rules else "")
            + f": silent-failure <= {self.alpha:g} with probability >= {1 - self.delta:g}"
            + f" (n={self.n}, coverage {self.coverage:.1%}, CP upper {self.risk_upper:.4f})"
        )

    def provenance(self) -> str:
        """One line for the thresholds' `provenance` field and the audit log."""
        return (
            f"{self.method} alpha={self.alpha:g} delta={self.delta:g} n={self.n} k={self.silent_failures}"
            f" coverage={self.coverage:.4f} upper={self.risk_upper:.4f} proven={str(self.proven).lower()}"
            f" model={self.model_version or '*'} data=sha256:{self.data_digest[:16]} at={self.created}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RULE_FORMAT,
            "proven": self.proven,
            "confidence_threshold": self.confidence_threshold,
            "per_label": dict(sorted(self.per_label.items())),
            "ood_threshold": self.ood_threshold,
            "require_agreement": self.require_agreement,
            "second_model": self.second_model,
            "require_rules": self.require_rules,
            "excluded_labels": list(self.excluded_labels),
            "alpha": self.alpha,
            "delta": self.delta,
            "n": self.n,
            "silent_failures": self.silent_failures,
            "accepted": self.accepted,
            "risk_upper": self.risk_upper,
            "coverage": self.coverage,
            "method": self.method,
            "hypotheses": self.hypotheses,
            "model_version": self.model_version,
            "created": self.created,
            "data_digest": self.data_digest,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> AcceptanceRule:
        if int(raw.get("format", RULE_FORMAT)) != RULE_FORMAT:
            raise ValueError(f"unsupported acceptance rule format {raw.get('format')!r}")
        ood = raw.get("ood_threshold")
        rule = cls(
            proven=bool(raw["proven"]),
            confidence_threshold=float(raw["confidence_threshold"]),
            per_label={str(k): float(v) for k, v in dict(raw.get("per_label") or {}).items()},
            ood_threshold=None if ood is None else float(ood),
            require_agreement=bool(raw.get("require_agreement", False)),
            second_model=str(raw.get("second_model", "")),
            require_rules=bool(raw.get("require_rules", False)),
            excluded_labels=tuple(str(x) for x in raw.get("excluded_labels", (OUT_OF_SCOPE_LABEL,))),
            alpha=float(raw.get("alpha", 0.01)),
            delta=float(raw.get("delta", 0.10)),
            n=int(raw.get("n", 0)),
            silent_failures=int(raw.get("silent_failures", 0)),
            accepted=int(raw.get("accepted", 0)),
            risk_upper=float(raw.get("risk_upper", 1.0)),
            coverage=float(raw.get("coverage", 0.0)),
            method=str(raw.get("method", LTT_METHOD)),
            hypotheses=int(raw.get("hypotheses", 0)),
            model_version=str(raw.get("model_version", "")),
            created=str(raw.get("created", "")),
            data_digest=str(raw.get("data_digest", "")),
            note=str(raw.get("note", "")),
        )
        return rule.validate()

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> AcceptanceRule:
        return cls.from_dict(json.loads(text))

    def validate(self) -> AcceptanceRule:
        for name, value in (("alpha", self.alpha), ("delta", self.delta)):
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be in (0, 1)")
        for label, value in (("*", self.confidence_threshold), *self.per_label.items()):
            if not (math.isfinite(value) and 0.0 <= value <= NEVER):
                raise ValueError(f"threshold of {label!r} must be within [0, {NEVER}]")
        if self.ood_threshold is not None and math.isnan(self.ood_threshold):
            raise ValueError("ood_threshold must be a number")
        return self

    def tightened(self, note: str) -> AcceptanceRule:
        """The same provenance, accepting nothing (used when audits show the bound is broken)."""
        return replace(self, proven=False, accepted=0, coverage=0.0, note=note)


def apply_rule(rule: AcceptanceRule, features: PredictionFeatures) -> tuple[bool, tuple[str, ...]]:
    """Accept automatically? Returns the answer and the reasons (every gate that failed)."""
    if not rule.proven:
        return False, ("NO_PROVEN_RULE",)
    reasons: list[str] = []
    if features.label in rule.excluded_labels:
        reasons.append("OUT_OF_SCOPE")
    if rule.ood_threshold is not None and not features.ood_score <= rule.ood_threshold:
        reasons.append("OUT_OF_DISTRIBUTION")
    if not features.confidence >= rule.threshold(features.label):
        reasons.append("BELOW_RISK_THRESHOLD")
    if rule.require_agreement:
        if features.second_label is None:
            reasons.append("NO_SECOND_OPINION")
        elif features.second_label != features.label:
            reasons.append("MODELS_DISAGREE")
    if rule.require_rules and features.rules_passed is not True:
        reasons.append("RULES_NOT_PASSED" if features.rules_passed is False else "RULES_NOT_EVALUATED")
    if reasons:
        return False, tuple(reasons)
    return True, ("RISK_CONTROLLED",)


def deferring(rule: AcceptanceRule, to: str) -> AcceptanceRule:
    """`rule`'s version accepts nothing itself: its answers go to review, and on through the cascade
    (traffic.escalate_to) to `to`, whose own rule decides. Then the cascade accepts exactly what `to`'s
    rule accepts, and that rule's guarantee is the system's; two rules that each accept would add
    their risks. The note keeps what `rule` alone would have proven."""
    alone = rule.describe() if rule.proven else "nothing provable"
    return replace(
        rule,
        proven=False,
        confidence_threshold=NEVER,
        per_label={},
        accepted=0,
        silent_failures=0,
        coverage=0.0,
        risk_upper=1.0,
        note=f"defers to {to}: accepts nothing itself, its answers escalate to {to} (traffic.escalate_to) "
        f"and that version's rule decides; alone it would have: {alone}",
    )
