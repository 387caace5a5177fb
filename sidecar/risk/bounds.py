"""Exact binomial tail probabilities and Clopper–Pearson limits (standard library + math only).

The sidecar must not pull scipy in for two formulas: the tails are summed in log space
(`math.lgamma`), and the Clopper–Pearson limits are found by bisection on those tails, which
are monotone in p. Accurate to ~1e-12, checked against scipy in the tests.
"""

from __future__ import annotations

import math

_BISECTIONS = 64  # the bracket shrinks below 1e-19


def _log_pmf(i: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 0.0 if i == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if i == n else -math.inf
    return math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p) + (n - i) * math.log1p(-p)


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    if top == -math.inf:
        return -math.inf
    return top + math.log(sum(math.exp(v - top) for v in values))


def binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    _check(k if k >= 0 else 0, n)
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    # pmf(i) from pmf(i - 1) by the ratio (n - i + 1) / i · p / (1 - p): one lgamma per call.
    log_ratio = math.log(p) - math.log1p(-p)
    terms = [_log_pmf(0, n, p)]
    for i in range(1, k + 1):
        terms.append(terms[-1] + math.log((n - i + 1) / i) + log_ratio)
    return min(1.0, math.exp(_logsumexp(terms)))


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return 1.0 - binom_cdf(k - 1, n, p) if k > 0 else 1.0


def risk_p_value(losses: int, n: int, alpha: float) -> float:
    """Exact p-value of H0: risk > alpha after `losses` failures in `n` independent draws.

    Under H0 the count is stochastically larger than Binomial(n, alpha), so
    P(X <= losses) under Binomial(n, alpha) is a valid (super-uniform) p-value.
    """
    _check(losses, n)
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must be in (0, 1)")
    return binom_cdf(losses, n, alpha)


def clopper_pearson_upper(k: int, n: int, delta: float) -> float:
    """One-sided (1 - delta) upper confidence limit of a binomial proportion."""
    _check(k, n)
    _check_level(delta)
    if n == 0 or k >= n:
        return 1.0
    lo, hi = k / n, 1.0
    for _ in range(_BISECTIONS):  # binom_cdf(k, n, p) falls as p grows
        mid = (lo + hi) / 2
        if binom_cdf(k, n, mid) > delta:
            lo = mid
        else:
            hi = mid
    return hi


def clopper_pearson_lower(k: int, n: int, delta: float) -> float:
    """One-sided (1 - delta) lower confidence limit of a binomial proportion."""
    _check(k, n)
    _check_level(delta)
    if n == 0 or k == 0:
        return 0.0
    lo, hi = 0.0, k / n
    for _ in range(_BISECTIONS):  # binom_sf(k, n, p) grows with p
        mid = (lo + hi) / 2
        if binom_sf(k, n, mid) < delta:
            lo = mid
        else:
            hi = mid
    return lo


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper–Pearson interval with the given coverage (equal tails)."""
    tail = (1.0 - confidence) / 2
    return clopper_pearson_lower(k, n, tail), clopper_pearson_upper(k, n, tail)


def _check(k: int, n: int) -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k} n={n}")


def _check_level(delta: float) -> None:
    if not 0.0 < delta < 1.0:
        raise ValueError("the error level must be in (0, 1)")
