"""The Learn-then-Test guarantee on synthetic data where the true risk is known in closed form.

Documents: 80 % in scope, confidence c ~ U(0, 1), wrong with probability 0.6 (1 - c) (badly
calibrated on purpose: the method must not rely on calibration), OOD score ~ N(0, 1); 20 % out of
scope (true label `other`): half predicted `other` (never accepted), half predicted in scope,
always wrong, with c ~ U(0, 1) and OOD score ~ N(3, 1). With the OOD cut at 2, the silent-failure
rate of "accept when c >= λ" is

    R(λ) = 0.8 · Φ(2) · 0.3 (1 - λ)²  +  0.2 · 0.5 · Φ(-1) · (1 - λ).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sidecar.risk import CalibrationRecord, fit_rule

OOD_CUT = 2.0
DRAWS = 500
DELTA = 0.10
TOLERANCE = 0.04  # ~3 standard errors of a share near 0.1 over 500 draws


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def true_risk(lam: float) -> float:
    lam = min(lam, 1.0)
    return 0.8 * _phi(OOD_CUT) * 0.3 * (1 - lam) ** 2 + 0.2 * 0.5 * _phi(OOD_CUT - 3) * (1 - lam)


def draw(rng: np.random.Generator, n: int) -> list[CalibrationRecord]:
    in_scope = rng.random(n) < 0.8
    conf = rng.random(n)
    wrong = rng.random(n) < 0.6 * (1 - conf)
    ood = np.where(in_scope, rng.normal(0, 1, n), rng.normal(3, 1, n))
    says_other = rng.random(n) < 0.5
    true = np.where(in_scope, np.where(wrong, "receipt", "invoice"), "other").tolist()
    pred = np.where(in_scope | ~says_other, "invoice", "other").tolist()
    return [CalibrationRecord(t, p, c, o) for t, p, c, o in zip(true, pred, conf.tolist(), ood.tolist(), strict=True)]


def test_true_risk_formula_matches_simulation() -> None:
    records = draw(np.random.default_rng(0), 200_000)
    conf = np.array([r.confidence for r in records])
    ood = np.array([r.ood_score for r in records])
    loss = np.array([r.wrong and r.label != "other" for r in records])
    for lam in (0.3, 0.7, 0.9):
        empirical = float(np.mean(loss & (conf >= lam) & (ood <= OOD_CUT)))
        assert empirical == pytest.approx(true_risk(lam), abs=0.002)


@pytest.mark.parametrize(("alpha", "n"), [(0.05, 300), (0.02, 600)])
def test_guarantee_holds_across_draws(alpha: float, n: int) -> None:
    rng = np.random.default_rng(42)
    violations, coverage = 0, []
    for _ in range(DRAWS):
        rule = fit_rule(draw(rng, n), alpha, DELTA, ood_threshold=OOD_CUT)
        if rule.proven:
            violations += true_risk(rule.confidence_threshold) > alpha
        coverage.append(rule.coverage)
    assert violations / DRAWS <= DELTA + TOLERANCE
    # Not vacuous: the rule accepts a real share of documents.
    assert float(np.mean(coverage)) > 0.1


def test_more_data_gets_closer_to_the_oracle() -> None:
    alpha = 0.05
    oracle = min(lam / 1000 for lam in range(1001) if true_risk(lam / 1000) <= alpha)
    rng = np.random.default_rng(7)
    gaps = {}
    for n in (300, 5000):
        gaps[n] = (
            float(
                np.mean(
                    [
                        fit_rule(draw(rng, n), alpha, DELTA, ood_threshold=OOD_CUT).confidence_threshold
                        for _ in range(20)
                    ]
                )
            )
            - oracle
        )
    assert gaps[5000] < gaps[300]
    assert gaps[5000] >= -0.02
