"""Exact binomial tails and Clopper–Pearson limits, checked against scipy where it is installed."""

from __future__ import annotations

import math

import pytest

from sidecar.risk.bounds import (
    binom_cdf,
    clopper_pearson,
    clopper_pearson_lower,
    clopper_pearson_upper,
    risk_p_value,
)

CASES = [(0, 10), (0, 230), (3, 50), (10, 100), (50, 100), (99, 100), (100, 100), (7, 2000)]


@pytest.mark.parametrize(("k", "n"), CASES)
def test_matches_scipy(k: int, n: int) -> None:
    from scipy import stats

    for p in (0.001, 0.01, 0.05, 0.3, 0.9):
        assert binom_cdf(k, n, p) == pytest.approx(float(stats.binom.cdf(k, n, p)), rel=1e-9, abs=1e-12)
    beta = stats.beta
    upper = 1.0 if k == n else float(beta.ppf(0.9, k + 1, n - k))
    lower = 0.0 if k == 0 else float(beta.ppf(0.1, k, n - k + 1))
    assert clopper_pearson_upper(k, n, 0.1) == pytest.approx(upper, abs=1e-9)
    assert clopper_pearson_lower(k, n, 0.1) == pytest.approx(lower, abs=1e-9)


def test_zero_failures_closed_form() -> None:
    # k = 0: the upper limit solves (1 - p)^n = delta.
    for n in (1, 45, 230, 1000):
        assert clopper_pearson_upper(0, n, 0.1) == pytest.approx(1 - 0.1 ** (1 / n), abs=1e-10)
    assert risk_p_value(0, 230, 0.01) == pytest.approx(0.99**230)
    assert risk_p_value(0, 230, 0.01) < 0.1 < risk_p_value(0, 229, 0.01)


def test_interval_contains_point_estimate_and_orders() -> None:
    for k, n in CASES:
        lo, hi = clopper_pearson(k, n, 0.95)
        assert 0.0 <= lo <= k / n <= hi <= 1.0
        assert lo <= clopper_pearson_lower(k, n, 0.1) <= clopper_pearson_upper(k, n, 0.1) <= hi


def test_edges_and_errors() -> None:
    assert clopper_pearson_upper(0, 0, 0.1) == 1.0
    assert binom_cdf(-1, 5, 0.5) == 0.0
    assert binom_cdf(5, 5, 0.5) == 1.0
    assert math.isclose(binom_cdf(0, 5, 0.0), 1.0)
    with pytest.raises(ValueError):
        clopper_pearson_upper(3, 2, 0.1)
    with pytest.raises(ValueError):
        risk_p_value(0, 10, 0.0)
    with pytest.raises(ValueError):
        clopper_pearson_upper(0, 10, 1.0)
