"""Drift: windows of the drift features and of confidence against the manifest's reference.

The reference is the model manifest's `drift_reference`: one histogram per feature,
`{"edges": [e0, …, eN], "probs": [p1, …, pN]}` (see `sidecar.models.calibration.histogram`),
for brightness, contrast, sharpness, aspect, text_length and `confidence` (the top
calibrated probability). A sliding window of the last `window_size` observations is
binned on the same edges (values outside are clipped into the end bins, as the reference
was built) and compared with the reference:

- KL divergence KL(window ‖ reference) and PSI = Σ (w − r) · ln(w / r), both on
  probabilities smoothed with `epsilon` so that an empty bin does not give infinity;
- the mean confidence of the window against the reference mean and against the
  previous complete (tumbling) window of the same size — the week-over-week drop the
  alert watches, at the window's scale.

Bin counts are kept incrementally (one increment and one decrement per observation), so
observing costs O(features), and a report O(features × bins).
"""

from __future__ import annotations

import bisect
import itertools
import math
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CONFIDENCE = "confidence"


@dataclass(frozen=True, slots=True)
class ReferenceHistogram:
    edges: tuple[float, ...]
    probs: tuple[float, ...]

    @classmethod
    def from_manifest(cls, raw: Mapping[str, Any]) -> ReferenceHistogram:
        edges = tuple(float(x) for x in raw["edges"])
        probs = tuple(float(x) for x in raw["probs"])
        if len(edges) != len(probs) + 1 or len(probs) < 1:
            raise ValueError("a drift reference needs len(edges) == len(probs) + 1")
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError("drift reference edges must increase")
        total = sum(probs)
        if total <= 0:
            raise ValueError("drift reference probabilities sum to zero")
        return cls(edges, tuple(p / total for p in probs))

    def bin_of(self, value: float) -> int:
        # Clipped into the end bins, as `calibration.histogram` built the reference.
        index = bisect.bisect_right(self.edges, value) - 1
        return min(max(index, 0), len(self.probs) - 1)

    def mean(self) -> float:
        return sum((a + b) / 2 * p for a, b, p in zip(self.edges, self.edges[1:], self.probs, strict=False))


def parse_reference(raw: Mapping[str, Any] | None) -> dict[str, ReferenceHistogram]:
    """The manifest's `drift_reference` (optionally nested under "features") as histograms."""
    if not raw:
        return {}
    source = raw.get("features", raw) if isinstance(raw.get("features"), Mapping) else raw
    out: dict[str, ReferenceHistogram] = {}
    for name, hist in source.items():
        if isinstance(hist, Mapping) and "edges" in hist and "probs" in hist:
            out[str(name)] = ReferenceHistogram.from_manifest(hist)
    return out


def _smoothed(counts: list[int] | list[float], epsilon: float) -> list[float]:
    total = float(sum(counts)) + epsilon * len(counts)
    return [(c + epsilon) / total for c in counts]


def kl_divergence(observed: list[float], reference: list[float], epsilon: float = 1e-4) -> float:
    """KL(observed ‖ reference) in nats on smoothed bin probabilities (or counts)."""
    p, q = _smoothed(observed, epsilon), _smoothed(reference, epsilon)
    return max(0.0, sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True)))


def psi(observed: list[float], reference: list[float], epsilon: float = 1e-4) -> float:
    """Population stability index on smoothed bin probabilities (or counts)."""
    p, q = _smoothed(observed, epsilon), _smoothed(reference, epsilon)
    return sum((pi - qi) * math.log(pi / qi) for pi, qi in zip(p, q, strict=True))


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    feature: str
    kl_divergence: float
    psi: float
    window_count: int


@dataclass(frozen=True, slots=True)
class DriftReport:
    model: str
    features: tuple[FeatureDrift, ...]
    window_count: int
    mean_confidence: float
    reference_mean_confidence: float
    previous_window_mean_confidence: float  # 0 until one window has completed


class _Window:
    """Sliding bin counts of one feature on its reference's edges."""

    def __init__(self, reference: ReferenceHistogram, size: int) -> None:
        self.reference = reference
        self.counts = [0] * len(reference.probs)
        self.bins: deque[int] = deque(maxlen=size)

    def add(self, value: float) -> None:
        if len(self.bins) == self.bins.maxlen:
            self.counts[self.bins[0]] -= 1
        index = self.reference.bin_of(value)
        self.bins.append(index)
        self.counts[index] += 1


class DriftMonitor:
    """Drift of one model version's inputs and confidence; thread-safe."""

    def __init__(
        self,
        model: str,
        reference: Mapping[str, ReferenceHistogram],
        *,
        window_size: int = 1000,
        epsilon: float = 1e-4,
        reference_mean_confidence: float | None = None,
    ) -> None:
        self.model = model
        self.window_size = window_size
        self.epsilon = epsilon
        self._windows = {name: _Window(hist, window_size) for name, hist in reference.items()}
        conf_ref = reference.get(CONFIDENCE)
        if reference_mean_confidence is None:
            reference_mean_confidence = conf_ref.mean() if conf_ref is not None else 0.0
        self.reference_mean_confidence = reference_mean_confidence
        self._confidences: deque[float] = deque(maxlen=window_size)
        self._confidence_sum = 0.0
        self._tumbling_sum = 0.0
        self._tumbling_count = 0
        self.previous_mean_confidence = 0.0
        self._lock = threading.Lock()

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self._windows)

    def observe(self, features: Mapping[str, float], confidence: float) -> None:
        with self._lock:
            for name, window in self._windows.items():
                value = confidence if name == CONFIDENCE else features.get(name)
                if value is not None and math.isfinite(value):
                    window.add(float(value))
            if len(self._confidences) == self._confidences.maxlen:
                self._confidence_sum -= self._confidences[0]
            self._confidences.append(confidence)
            self._confidence_sum += confidence
            self._tumbling_sum += confidence
            self._tumbling_count += 1
            if self._tumbling_count >= self.window_size:
                self.previous_mean_confidence = self._tumbling_sum / self._tumbling_count
                self._tumbling_sum, self._tumbling_count = 0.0, 0

    def report(self) -> DriftReport:
        with self._lock:
            drifts = tuple(
                FeatureDrift(
                    feature=name,
                    kl_divergence=kl_divergence(list(w.counts), list(w.reference.probs), self.epsilon)
                    if w.bins
                    else 0.0,
                    psi=psi(list(w.counts), list(w.reference.probs), self.epsilon) if w.bins else 0.0,
                    window_count=len(w.bins),
                )
                for name, w in self._windows.items()
            )
            count = len(self._confidences)
            return DriftReport(
                model=self.model,
                features=drifts,
                window_count=count,
                mean_confidence=self._confidence_sum / count if count else 0.0,
                reference_mean_confidence=self.reference_mean_confidence,
                previous_window_mean_confidence=self.previous_mean_confidence,
            )
