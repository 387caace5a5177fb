"""Agreement gating and per-label thresholds keep the guarantee (δ and α split by union bound)."""

from __future__ import annotations

import numpy as np

from sidecar.risk import CalibrationRecord, evaluate, fit_rule
from sidecar.risk.ltt import RecordTable

LABELS = ("invoice", "receipt", "letter")


def draw(rng: np.random.Generator, n: int) -> list[CalibrationRecord]:
    """Errors are frequent when the second model disagrees, and `letter` errs more often."""
    pred = rng.choice(np.array(LABELS), size=n, p=[0.5, 0.3, 0.2])
    conf = rng.random(n)
    agree = rng.random(n) < 0.8
    p_wrong = np.where(agree, 0.3, 0.9) * (1 - conf) * np.where(pred == "letter", 1.5, 1.0)
    wrong = rng.random(n) < p_wrong
    true = np.where(wrong, "other", pred).tolist()
    second = np.where(agree, pred, "other").tolist()
    return [
        CalibrationRecord(t, p, c, 0.0, s, None)
        for t, p, c, s in zip(true, pred.tolist(), conf.tolist(), second, strict=True)
    ]


def test_agreement_and_per_label_hold_alpha() -> None:
    rng = np.random.default_rng(5)
    population = RecordTable.of(draw(np.random.default_rng(99), 50_000))  # the truth, estimated very precisely
    alpha, delta, draws = 0.05, 0.1, 100
    violations, chose_agreement = 0, 0
    for _ in range(draws):
        rule = fit_rule(
            draw(rng, 500),
            alpha,
            delta,
            gate_options=((False, False), (True, False)),
            per_label_min=100,
        )
        chose_agreement += rule.require_agreement
        if rule.proven:
            violations += evaluate(rule, population)["silent_failure_rate"] > alpha + 0.003
    assert violations / draws <= delta + 0.06
    # Requiring agreement buys coverage here, and the search finds it.
    assert chose_agreement > draws / 2
