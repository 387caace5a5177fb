"""The audit estimator against known rates: its intervals cover the truth as often as promised."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.risk import AuditEstimator, AuditSampler, estimate
from sidecar.risk.audit import estimate_from_items


@pytest.mark.parametrize(("rate", "n"), [(0.005, 400), (0.02, 200), (0.1, 100), (0.3, 50)])
def test_interval_coverage_at_known_rates(rate: float, n: int) -> None:
    rng = np.random.default_rng(int(rate * 1000) + n)
    draws = 400
    two_sided = one_sided = 0
    for wrong in rng.binomial(n, rate, size=draws).tolist():
        est = estimate(n, wrong, 1.0, alpha=0.01, delta=0.1, confidence=0.95)
        two_sided += est.accepted_error_lower <= rate <= est.accepted_error_upper
        one_sided += rate <= est.one_sided_upper
    # Clopper–Pearson is exact-conservative: coverage >= nominal for every rate (Monte Carlo slack 2 SE).
    assert two_sided / draws >= 0.95 - 2 * np.sqrt(0.95 * 0.05 / draws)
    assert one_sided / draws >= 0.90 - 2 * np.sqrt(0.90 * 0.10 / draws)


def test_silent_failure_scales_with_accepted_share() -> None:
    est = estimate(200, 4, accepted_share=0.5, alpha=0.01)
    assert est.accepted_error_rate == pytest.approx(0.02)
    assert est.silent_failure_rate == pytest.approx(0.01)
    assert est.silent_failure_upper == pytest.approx(0.5 * est.accepted_error_upper)
    assert est.breached  # the one-sided upper limit of 0.5 * e is above 1 %
    assert not estimate(2000, 0, accepted_share=0.5, alpha=0.01).breached
    assert not estimate(0, 0).breached  # no audits yet: no alarm, interval [0, 1]
    assert estimate(0, 0).silent_failure_upper == 1.0


def test_running_estimator_end_to_end() -> None:
    """Simulated traffic: 70 % accepted, 3 % of accepted wrong, 10 % audited."""
    rng = np.random.default_rng(11)
    sampler = AuditSampler(rate=0.1, seed=1)
    est = AuditEstimator(alpha=0.01, delta=0.1)
    for _ in range(20_000):
        accepted = bool(rng.random() < 0.7)
        est.record_decision(accepted)
        if accepted and sampler.should_audit():
            est.record_audit("invoice", "receipt" if rng.random() < 0.03 else "invoice")
    e = est.estimate()
    assert 1200 < e.audited < 1600
    assert e.accepted_share == pytest.approx(0.7, abs=0.02)
    assert e.silent_failure_lower <= 0.021 <= e.silent_failure_upper
    assert e.breached  # 2.1 % > 1 %
    est.reset()
    assert est.estimate().audited == 0


def test_sampler_rate_and_items() -> None:
    sampler = AuditSampler(rate=0.01, seed=3)
    hits = sum(sampler.should_audit() for _ in range(100_000))
    assert 850 < hits < 1150
    assert not any(AuditSampler(rate=0.0).should_audit() for _ in range(100))
    with pytest.raises(ValueError):
        AuditSampler(rate=1.5)
    e = estimate_from_items([("invoice", "invoice"), ("invoice", "receipt")], accepted_share=1.0)
    assert (e.audited, e.wrong) == (2, 1)
    with pytest.raises(ValueError):
        AuditEstimator().add_counts(audited=1, wrong=2)
    assert estimate(10, 1).as_dict()["audited"] == 10


def test_sampler_by_digest_is_uniform_and_reproducible() -> None:
    import hashlib

    sampler = AuditSampler(rate=0.05)
    digests = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(20_000)]
    picked = [sampler.should_audit(d) for d in digests]
    assert 850 < sum(picked) < 1150
    assert picked == [sampler.should_audit(d) for d in digests]
    assert AuditSampler(rate=1.0).should_audit("not-hex") in (True, False)
