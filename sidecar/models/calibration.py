"""Calibrated probabilities, the OOD score and drift-reference histograms of a model, from its manifest.

Numpy only: the server and training (`training/doctriage_train`) share this one implementation,
so what the manifest's numbers were fitted with is exactly what serving computes.

- calibration {"method": "temperature", "temperature": T}: probs = softmax(logits / T).
- ood {"method": "mahalanobis_diag", "means": [[...] per label], "var": [...], "threshold": x}:
  score = min over labels c of mean_j (e_j - means[c][j])^2 / var[j]  (e = the `embedding` output);
  {"method": "energy", "temperature": T, "threshold": x}: score = -T * logsumexp(logits / T).
  Higher is more out-of-distribution; score > threshold means "unlike the training data".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sidecar.models.manifest import Calibration, Ood

FloatArray = npt.NDArray[np.float64]

MAHALANOBIS_FORMULA = "min_c mean_j (embedding_j - means[c][j])**2 / var[j]; higher = more out-of-distribution"


def softmax(logits: npt.ArrayLike) -> FloatArray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]


def _logsumexp(z: FloatArray) -> FloatArray:
    m = z.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]  # type: ignore[no-any-return]


def _get(section: Mapping[str, Any] | Calibration | Ood, key: str) -> Any:
    """A field of the manifest's section: the typed one serving loaded, or the plain dict training fits."""
    return section.get(key) if isinstance(section, Mapping) else getattr(section, key, None)


def calibrate(logits: npt.ArrayLike, manifest_calibration: Mapping[str, Any] | Calibration | None) -> FloatArray:
    """Raw logits [N, L] → calibrated probabilities [N, L] per the manifest's "calibration"."""
    z = np.asarray(logits, dtype=np.float64)
    if not manifest_calibration or _get(manifest_calibration, "method") in (None, "none"):
        return softmax(z)
    method = _get(manifest_calibration, "method")
    if method != "temperature":
        raise ValueError(f"unknown calibration method {method!r}")
    if _get(manifest_calibration, "temperature") is None:
        raise ValueError("temperature calibration needs a temperature")
    temperature = float(_get(manifest_calibration, "temperature"))
    if not temperature > 0:
        raise ValueError("temperature must be positive")
    return softmax(z / temperature)


def ood_score(
    logits: npt.ArrayLike, embedding: npt.ArrayLike | None, manifest_ood: Mapping[str, Any] | Ood | None
) -> FloatArray:
    """OOD score per row [N] (higher = more out-of-distribution) per the manifest's "ood".

    A manifest without "ood" scores every row 0 (nothing is flagged).
    """
    if not manifest_ood:
        return np.zeros(len(np.asarray(logits)), dtype=np.float64)
    method = _get(manifest_ood, "method")
    if method == "mahalanobis_diag":
        if embedding is None:
            raise ValueError("mahalanobis_diag needs the embedding output")
        if _get(manifest_ood, "means") is None or _get(manifest_ood, "var") is None:
            raise ValueError("mahalanobis_diag needs means and var")
        e = np.asarray(embedding, dtype=np.float64)
        means = np.asarray(_get(manifest_ood, "means"), dtype=np.float64)
        var = np.asarray(_get(manifest_ood, "var"), dtype=np.float64)
        d = ((e[:, None, :] - means[None, :, :]) ** 2 / var[None, None, :]).mean(axis=2)
        return d.min(axis=1)  # type: ignore[no-any-return]
    if method == "energy":
        given = _get(manifest_ood, "temperature")
        t = float(given) if given is not None else 1.0
        return -t * _logsumexp(np.asarray(logits, dtype=np.float64) / t)
    raise ValueError(f"unknown OOD method {method!r}")


def is_ood(
    logits: npt.ArrayLike, embedding: npt.ArrayLike | None, manifest_ood: Mapping[str, Any] | Ood
) -> npt.NDArray[np.bool_]:
    return ood_score(logits, embedding, manifest_ood) > float(_get(manifest_ood, "threshold"))


# ---- fitting (training and recalibration from reviewed documents) ---------------------------------


def nll(
    logits: npt.ArrayLike, labels: npt.ArrayLike, temperature: float, weights: npt.ArrayLike | None = None
) -> float:
    """Mean negative log-likelihood at `temperature`; `weights`: per-row weights (a weighted mean)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    y = np.asarray(labels, dtype=np.int64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    return float(np.average(_logsumexp(z) - z[np.arange(len(y)), y], weights=w))


def fit_temperature(
    logits: npt.ArrayLike,
    labels: npt.ArrayLike,
    lo: float = 0.05,
    hi: float = 20.0,
    weights: npt.ArrayLike | None = None,
) -> float:
    """The temperature minimizing validation NLL (golden-section search on log T; NLL is convex in 1/T).
    `weights`: per-row weights, e.g. to give two validation sets of different sizes equal say
    (`pooled_weights`)."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if len(y) == 0:
        return 1.0
    a, b = np.log(lo), np.log(hi)
    g = (np.sqrt(5.0) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    for _ in range(80):
        if nll(z, y, float(np.exp(c)), weights) < nll(z, y, float(np.exp(d)), weights):
            b = d
        else:
            a = c
        c, d = b - g * (b - a), a + g * (b - a)
    return float(np.exp((a + b) / 2))


def pooled_weights(sizes: tuple[int, ...], shares: tuple[float, ...]) -> FloatArray:
    """Per-row weights for sets of `sizes` rows, concatenated in that order, so that set i carries
    `shares[i]` of the total weight whatever its size (an empty set carries none)."""
    parts = [np.full(n, share / n) for n, share in zip(sizes, shares, strict=True) if n]
    return np.concatenate(parts) if parts else np.zeros(0)


def expected_calibration_error(confidence: npt.ArrayLike, correct: npt.ArrayLike, bins: int = 15) -> float:
    """ECE with equal-width confidence bins: sum_b |B|/N * |acc(B) - conf(B)|."""
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=np.float64)
    if len(conf) == 0:
        return 0.0
    idx = np.minimum((conf * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / len(conf) * abs(ok[m].mean() - conf[m].mean())
    return float(total)


def fit_mahalanobis(embedding: npt.ArrayLike, labels: npt.ArrayLike, num_labels: int) -> dict[str, Any]:
    """Class means and a shared diagonal variance of the embedding (the OOD parameters)."""
    e = np.asarray(embedding, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    means = np.stack([e[y == c].mean(axis=0) if (y == c).any() else e.mean(axis=0) for c in range(num_labels)])
    resid = e - means[y]
    var = resid.var(axis=0) + 1e-6 + 1e-3 * float(resid.var())
    return {"method": "mahalanobis_diag", "means": means, "var": var, "formula": MAHALANOBIS_FORMULA}


# ---- drift features ----------------------------------------------------------------------------

# Measured by sidecar.pipeline.features (tracked_tuple / compute_features), in this order.
DRIFT_FEATURES = ("brightness", "contrast", "sharpness", "aspect", "text_length")
DRIFT_DEFINITIONS = {
    "brightness": "mean grey level (0..255) of the page thumbnail (sidecar.pipeline.features)",
    "contrast": "standard deviation of the grey levels of the page thumbnail",
    "sharpness": "variance of the 4-neighbour Laplacian of the page thumbnail",
    "aspect": "source height / width of the page",
    "text_length": "characters of the PDF text layer (training reference: text layer only, 0 when none)",
    "confidence": "top calibrated probability",
}


def histogram(values: npt.ArrayLike, edges: npt.ArrayLike) -> dict[str, list[float]]:
    """A drift reference: bin edges and the share of values per bin (outside values clipped in)."""
    v = np.asarray(values, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    counts, _ = np.histogram(np.clip(v, e[0], e[-1]), bins=e)
    probs = counts / max(1, counts.sum())
    return {"edges": [round(float(x), 6) for x in e], "probs": [round(float(p), 6) for p in probs]}
