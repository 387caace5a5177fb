"""Audit sampling of accepted documents and the running estimate of the real silent-failure rate.

A share `rate` (default 1 %) of automatically accepted documents also goes to the review queue,
flagged as audit. Once reviewers resolve them, audited items are a uniform random sample of
accepted traffic, so their error count is Binomial(n, e) with e the error rate among accepted
documents; the Clopper–Pearson interval bounds e exactly. The silent-failure rate over all
documents is a·e, a = accepted share of all decided documents (counted, not sampled: exact for
practical purposes), so its interval is a times e's. The alert fires when the upper limit exceeds α.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from sidecar.risk.bounds import clopper_pearson, clopper_pearson_upper

DEFAULT_AUDIT_RATE = 0.01


class AuditSampler:
    """Decides whether an accepted document is also audited, independently of what it is.

    With a key (the document's SHA-256 hex digest) the draw is a function of the digest, uniform
    and unrelated to the document's type, and reproducible (the same bytes are always, or never,
    audited; the review queue is idempotent per digest anyway). Without one, a seeded RNG.
    """

    def __init__(self, rate: float = DEFAULT_AUDIT_RATE, seed: int | None = None) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("audit rate must be within [0, 1]")
        self.rate = rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def should_audit(self, key: str | None = None) -> bool:
        if self.rate <= 0.0:
            return False
        if key:
            try:
                return int(key[:16], 16) / 16**16 < self.rate
            except ValueError:
                pass  # not a hex digest: fall back to the RNG
        with self._lock:
            return self._rng.random() < self.rate


@dataclass(frozen=True, slots=True)
class AuditEstimate:
    audited: int  # resolved audit items
    wrong: int  # of which the reviewer's label differed from the accepted one
    accepted_share: float  # accepted / decided documents (1.0 when unknown)
    accepted_error_rate: float  # wrong / audited
    accepted_error_lower: float
    accepted_error_upper: float  # two-sided interval at `confidence`
    silent_failure_rate: float  # accepted_share * accepted_error_rate (over all documents)
    silent_failure_lower: float
    silent_failure_upper: float
    one_sided_upper: float  # (1 - delta) one-sided upper limit of the silent-failure rate
    confidence: float
    alpha: float
    delta: float

    @property
    def breached(self) -> bool:
        """The audit shows, at level delta, that the silent-failure rate may exceed alpha."""
        return self.audited > 0 and self.one_sided_upper > self.alpha

    def as_dict(self) -> dict[str, float | int | bool]:
        return {
            "audited": self.audited,
            "wrong": self.wrong,
            "accepted_share": self.accepted_share,
            "accepted_error_rate": self.accepted_error_rate,
            "accepted_error_lower": self.accepted_error_lower,
            "accepted_error_upper": self.accepted_error_upper,
            "silent_failure_rate": self.silent_failure_rate,
            "silent_failure_lower": self.silent_failure_lower,
            "silent_failure_upper": self.silent_failure_upper,
            "one_sided_upper": self.one_sided_upper,
            "confidence": self.confidence,
            "alpha": self.alpha,
            "delta": self.delta,
            "breached": self.breached,
        }


class AuditEstimator:
    """Running counts since the current rule took effect (call `reset` when it changes)."""

    def __init__(self, alpha: float = 0.01, delta: float = 0.10, confidence: float = 0.95) -> None:
        self.alpha, self.delta, self.confidence = alpha, delta, confidence
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._audited = self._wrong = self._accepted = self._decided = 0

    def record_decision(self, accepted: bool) -> None:
        """Every decided document (for the accepted share)."""
        with self._lock:
            self._decided += 1
            self._accepted += accepted

    def record_audit(self, accepted_label: str, true_label: str) -> None:
        """A resolved audit item."""
        with self._lock:
            self._audited += 1
            self._wrong += accepted_label != true_label

    def add_counts(self, *, audited: int = 0, wrong: int = 0, accepted: int = 0, decided: int = 0) -> None:
        if wrong > audited or accepted > decided or min(audited, wrong, accepted, decided) < 0:
            raise ValueError("inconsistent audit counts")
        with self._lock:
            self._audited += audited
            self._wrong += wrong
            self._accepted += accepted
            self._decided += decided

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "audited": self._audited,
                "wrong": self._wrong,
                "accepted": self._accepted,
                "decided": self._decided,
            }

    def estimate(self) -> AuditEstimate:
        with self._lock:
            n, k, acc, dec = self._audited, self._wrong, self._accepted, self._decided
        return estimate(n, k, acc / dec if dec else 1.0, self.alpha, self.delta, self.confidence)


def estimate(
    audited: int,
    wrong: int,
    accepted_share: float = 1.0,
    alpha: float = 0.01,
    delta: float = 0.10,
    confidence: float = 0.95,
) -> AuditEstimate:
    if not 0.0 <= accepted_share <= 1.0:
        raise ValueError("accepted_share must be within [0, 1]")
    if audited == 0:
        lo, hi, one = 0.0, 1.0, 1.0
    else:
        lo, hi = clopper_pearson(wrong, audited, confidence)
        one = clopper_pearson_upper(wrong, audited, delta)
    rate = wrong / audited if audited else 0.0
    return AuditEstimate(
        audited=audited,
        wrong=wrong,
        accepted_share=accepted_share,
        accepted_error_rate=rate,
        accepted_error_lower=lo,
        accepted_error_upper=hi,
        silent_failure_rate=accepted_share * rate,
        silent_failure_lower=accepted_share * lo,
        silent_failure_upper=accepted_share * hi,
        one_sided_upper=accepted_share * one,
        confidence=confidence,
        alpha=alpha,
        delta=delta,
    )


def estimate_from_items(
    items: Iterable[tuple[str, str]], accepted_share: float = 1.0, alpha: float = 0.01, delta: float = 0.10
) -> AuditEstimate:
    """From resolved audit items given as (accepted label, true label) pairs."""
    pairs = list(items)
    return estimate(len(pairs), sum(a != t for a, t in pairs), accepted_share, alpha, delta)
