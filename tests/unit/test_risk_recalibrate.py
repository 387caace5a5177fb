"""Recalibration from resolved review and audit items: reweighted to a uniform sample, then proven."""

from __future__ import annotations

import numpy as np

from sidecar.risk import AcceptanceRule, CalibrationRecord, ResolvedItem, apply_rule, recalibrate, representative_sample
from sidecar.risk.recalibrate import min_records


def traffic(rng: np.random.Generator, n: int, error_scale: float) -> list[CalibrationRecord]:
    conf = rng.random(n)
    wrong = rng.random(n) < error_scale * (1 - conf)
    return [
        CalibrationRecord("receipt" if w else "invoice", "invoice", c)
        for w, c in zip(wrong.tolist(), conf.tolist(), strict=True)
    ]


def resolved(rule: AcceptanceRule, docs: list[CalibrationRecord], audit_rate: float, seed: int) -> list[ResolvedItem]:
    """What the queue holds: every non-accepted document, accepted ones at the audit rate."""
    rng = np.random.default_rng(seed)
    out = []
    for doc in docs:
        if apply_rule(rule, doc.features)[0]:
            if rng.random() < audit_rate:
                out.append(ResolvedItem(doc, audit=True))
        else:
            out.append(ResolvedItem(doc, audit=False))
    return out


CURRENT = AcceptanceRule(proven=True, confidence_threshold=0.9, alpha=0.05, delta=0.1, n=500)


def test_sample_is_uniform_over_traffic() -> None:
    docs = traffic(np.random.default_rng(1), 100_000, 0.5)
    sample = representative_sample(resolved(CURRENT, docs, 0.05, seed=2), audit_rate=0.05, seed=3)
    conf = np.array([r.confidence for r in sample])
    # Uniform over traffic: about 5 % of all documents and the confidence spread of the traffic (U(0, 1)).
    assert 4500 < len(sample) < 5500
    assert abs(float(np.mean(conf >= 0.9)) - 0.1) < 0.015


def test_recalibration_loosens_only_as_far_as_proven() -> None:
    docs = traffic(np.random.default_rng(4), 60_000, 0.3)
    result = recalibrate(CURRENT, resolved(CURRENT, docs, 0.02, seed=5), audit_rate=0.02, seed=6)
    assert result.changed and result.rule.proven
    lam = result.rule.confidence_threshold
    # True silent-failure rate of "accept >= λ" here is 0.15 (1 - λ)^2: must stay <= alpha = 5 %.
    assert 0.15 * (1 - lam) ** 2 <= 0.05
    assert lam < CURRENT.confidence_threshold  # the old rule was needlessly strict
    assert "recalibrated (loosened)" in result.reason


def test_broken_rule_goes_to_review_and_small_samples_wait() -> None:
    bad = AcceptanceRule(proven=True, confidence_threshold=0.0, alpha=0.01, delta=0.1, n=500)
    docs = traffic(np.random.default_rng(7), 30_000, 1.0)  # half of everything accepted is wrong
    result = recalibrate(bad, resolved(bad, docs, 0.01, seed=8), audit_rate=0.01, seed=9)
    assert result.changed
    # Either a much stricter proven rule, or nothing accepted at all.
    assert (not result.rule.proven) or result.rule.confidence_threshold > 0.9
    few = recalibrate(CURRENT, resolved(CURRENT, docs[:1000], 0.01, seed=10), audit_rate=0.01, seed=11)
    assert not few.changed and few.rule is CURRENT and "skipped" in few.reason
    assert min_records(0.01, 0.1) == 230
