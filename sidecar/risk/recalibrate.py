"""Learning from review: recalibrate the acceptance rule from resolved review and audit items.

Resolved items are not a random sample of traffic: every document that was not accepted went to
review (resolved with probability `review_rate`), accepted ones only when audited (`audit_rate`).
Keeping each item with probability min(s, r)/its own inclusion rate makes every document of the
traffic equally likely to be in the sample, so the sample is a uniform draw again and
Learn-then-Test applies unchanged. The new rule is therefore proven on fresh data at the same
(α, δ); it is never looser than that proof allows. When the fresh data proves nothing, the current
rule stays, unless the sample itself shows it broken (its silent-failure lower limit above α),
then everything goes to review.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sidecar.risk.bounds import clopper_pearson_lower
from sidecar.risk.ltt import CalibrationRecord, evaluate, fit_rule
from sidecar.risk.rule import AcceptanceRule


@dataclass(frozen=True, slots=True)
class ResolvedItem:
    record: CalibrationRecord  # features as predicted + the reviewer's label
    audit: bool  # an accepted document sampled for audit (else: sent to review by the rule)


@dataclass(frozen=True, slots=True)
class Recalibration:
    rule: AcceptanceRule
    changed: bool
    reason: str  # one line for the audit log
    sample: int  # records the new rule was tested on


def min_records(alpha: float, delta: float) -> int:
    """Fewest documents with which zero failures can prove risk ≤ α at level δ."""
    return math.ceil(math.log(delta) / math.log1p(-alpha))


def representative_sample(
    items: Sequence[ResolvedItem], audit_rate: float, review_rate: float = 1.0, seed: int | None = None
) -> list[CalibrationRecord]:
    if not 0.0 < audit_rate <= 1.0 or not 0.0 < review_rate <= 1.0:
        raise ValueError("audit_rate and review_rate must be within (0, 1]")
    target = min(audit_rate, review_rate)
    rng = random.Random(seed)
    kept = []
    for item in items:
        inclusion = audit_rate if item.audit else review_rate
        if rng.random() < target / inclusion:
            kept.append(item.record)
    return kept


def recalibrate(
    current: AcceptanceRule,
    items: Sequence[ResolvedItem],
    audit_rate: float,
    review_rate: float = 1.0,
    *,
    seed: int | None = None,
    minimum: int | None = None,
) -> Recalibration:
    sample = representative_sample(items, audit_rate, review_rate, seed)
    need = minimum if minimum is not None else min_records(current.alpha, current.delta)
    if len(sample) < need:
        return Recalibration(current, False, f"recalibration skipped: {len(sample)} of {need} records", len(sample))
    fresh = fit_rule(
        sample,
        current.alpha,
        current.delta,
        ood_threshold=current.ood_threshold,
        gate_options=((current.require_agreement, current.require_rules),),
        excluded_labels=current.excluded_labels,
        model_version=current.model_version,
    )
    if fresh.proven:
        fresh = replace(fresh, note=f"recalibrated from {len(sample)} reviewed documents")
        same = (fresh.confidence_threshold, dict(fresh.per_label)) == (
            current.confidence_threshold,
            dict(current.per_label),
        ) and current.proven
        direction = "unchanged" if same else _direction(current, fresh)
        return Recalibration(fresh, not same, f"recalibrated ({direction}): {fresh.provenance()}", len(sample))
    seen = evaluate(current, sample)
    lower = clopper_pearson_lower(int(seen["silent_failures"]), len(sample), current.delta)
    if current.proven and lower > current.alpha:
        note = f"reviewed traffic shows silent-failure >= {lower:.4f} > alpha: everything to review"
        return Recalibration(current.tightened(note), True, note, len(sample))
    return Recalibration(current, False, "recalibration proved no rule; current rule kept", len(sample))


def _direction(old: AcceptanceRule, new: AcceptanceRule) -> str:
    if not old.proven:
        return "loosened"
    return "tightened" if new.confidence_threshold > old.confidence_threshold else "loosened"
