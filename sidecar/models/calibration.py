"""Calibration and out-of-distribution scores from a model's manifest (numpy only).

Shared by the server and by training, so both compute the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def calibrate(logits: npt.NDArray[np.float32], calibration: dict[str, Any] | None) -> npt.NDArray[np.float64]:
    """Raw logits [N, K] → calibrated probabilities [N, K] (temperature scaling)."""
    temperature = float((calibration or {}).get("temperature", 1.0))
    z = logits.astype(np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    probs: npt.NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return probs


def ood_score(
    logits: npt.NDArray[np.float32],
    embedding: npt.NDArray[np.float32] | None,
    ood: dict[str, Any] | None,
) -> npt.NDArray[np.float64]:
    """Higher = less like the training data. Energy score: -T * logsumexp(logits / T)."""
    temperature = float((ood or {}).get("temperature", 1.0))
    z = logits.astype(np.float64) / temperature
    m = z.max(axis=1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
    score: npt.NDArray[np.float64] = -temperature * lse
    return score
