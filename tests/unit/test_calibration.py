"""Calibration, OOD score and drift features as the server computes them from a manifest."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.models.calibration import (
    calibrate,
    expected_calibration_error,
    fit_mahalanobis,
    fit_temperature,
    histogram,
    is_ood,
    nll,
    ood_score,
    pooled_weights,
    softmax,
)


def test_calibrate_is_softmax_of_scaled_logits() -> None:
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]], np.float32)
    probs = calibrate(logits, {"method": "temperature", "temperature": 2.0})
    np.testing.assert_allclose(probs, softmax(logits / 2.0))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(calibrate(logits, None), softmax(logits))


def test_calibrate_rejects_unknown_or_bad_parameters() -> None:
    with pytest.raises(ValueError):
        calibrate(np.zeros((1, 3)), {"method": "isotonic"})
    with pytest.raises(ValueError):
        calibrate(np.zeros((1, 3)), {"method": "temperature", "temperature": 0})


def test_softmax_is_stable_for_huge_logits() -> None:
    probs = softmax(np.array([[1e4, 0.0], [-1e4, 1e4]]))
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs, [[1.0, 0.0], [0.0, 1.0]])


def test_fit_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(0)
    n, k = 4000, 5
    y = rng.integers(0, k, n)
    true_logits = rng.normal(0, 1, (n, k))
    true_logits[np.arange(n), y] += 1.5
    # sample labels from the true model so the true temperature is exactly 1, then overscale by 3
    p = softmax(true_logits)
    y = np.array([rng.choice(k, p=row) for row in p])
    t = fit_temperature(true_logits * 3.0, y)
    assert 2.6 < t < 3.4
    assert nll(true_logits * 3.0, y, t) < nll(true_logits * 3.0, y, 1.0)


def test_weighted_temperature_fit_pools_sets_of_different_sizes() -> None:
    rng = np.random.default_rng(1)
    k = 4

    def sample(n: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
        logits = rng.normal(0, 1, (n, k))
        logits[np.arange(n), rng.integers(0, k, n)] += 1.0
        y = np.array([rng.choice(k, p=row) for row in softmax(logits)])  # true temperature 1
        return logits * scale, y

    big, y_big = sample(3000, 1.0)  # calibrated
    small, y_small = sample(300, 4.0)  # 4x over-confident
    logits, y = np.concatenate([big, small]), np.concatenate([y_big, y_small])
    plain = fit_temperature(logits, y)
    weights = pooled_weights((3000, 300), (0.5, 0.5))
    assert weights.shape == (3300,)
    assert weights[:3000].sum() == pytest.approx(0.5) and weights[3000:].sum() == pytest.approx(0.5)
    pooled = fit_temperature(logits, y, weights=weights)
    alone = fit_temperature(small, y_small)
    # the small set moves the pooled fit well away from the big one's ~1, not all the way to its own ~4
    assert plain < 1.5 < pooled < alone - 0.5 and 3.2 < alone < 4.8
    # a weight of 2 on a row is the row counted twice
    twice = fit_temperature(np.concatenate([logits, small]), np.concatenate([y, y_small]))
    assert fit_temperature(logits, y, weights=np.r_[np.ones(3000), np.full(300, 2.0)]) == pytest.approx(twice, rel=1e-4)
    assert pooled_weights((0, 5), (0.5, 0.5)).sum() == pytest.approx(0.5)  # an empty set carries nothing


def test_ece_zero_for_perfect_calibration_and_large_for_overconfidence() -> None:
    conf = np.full(1000, 0.8)
    correct = np.arange(1000) % 5 != 0  # 80 % right
    assert expected_calibration_error(conf, correct) == pytest.approx(0.0, abs=1e-9)
    assert expected_calibration_error(np.full(1000, 0.99), correct) == pytest.approx(0.19, abs=1e-6)
    assert expected_calibration_error([], []) == 0.0


def test_mahalanobis_ood_is_low_near_class_means_and_high_far_away() -> None:
    rng = np.random.default_rng(1)
    means = np.array([[0.0] * 8, [5.0] * 8, [-5.0] * 8])
    y = rng.integers(0, 3, 600)
    emb = means[y] + rng.normal(0, 1, (600, 8))
    fit = fit_mahalanobis(emb, y, 3)
    manifest = {
        "method": "mahalanobis_diag",
        "means": fit["means"].tolist(),
        "var": fit["var"].tolist(),
        "threshold": 3.0,
    }
    inside = ood_score(np.zeros((600, 3)), emb, manifest)
    far = ood_score(np.zeros((2, 3)), np.array([[20.0] * 8, [2.5] * 8]), manifest)
    assert np.quantile(inside, 0.95) < 2.5
    assert far[0] > 100 and far[1] > 3
    assert is_ood(np.zeros((2, 3)), np.array([[20.0] * 8, [0.0] * 8]), manifest).tolist() == [True, False]


def test_energy_score_and_missing_ood() -> None:
    logits = np.array([[10.0, 0.0], [0.1, 0.0]])
    scores = ood_score(logits, None, {"method": "energy", "temperature": 1.0, "threshold": 0.0})
    assert scores[0] < scores[1]  # a confident row is less OOD
    np.testing.assert_allclose(scores[0], -np.log(np.exp(10.0) + 1.0))
    assert ood_score(logits, None, None).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        ood_score(logits, None, {"method": "mahalanobis_diag", "means": [], "var": []})
    with pytest.raises(ValueError):
        ood_score(logits, None, {"method": "nope"})


def test_histogram_shares_sum_to_one_and_clip_outliers() -> None:
    h = histogram([-5, 0.5, 1.5, 99], [0, 1, 2])
    assert h["edges"] == [0, 1, 2]
    assert h["probs"] == [0.5, 0.5]
