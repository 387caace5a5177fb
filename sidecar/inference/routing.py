"""Traffic split between model versions (A/B), sticky per routing key, plus a shadow copy.

Sticky routing uses weighted rendezvous hashing (highest random weight): each version
scores `-weight / ln(u)` with `u` a uniform draw from hash(key, version), the highest
score wins. A key always lands on the same version, the shares match the weights, and
changing one weight moves only the keys that must move (consistent hashing). Requests
without a key are split at random with the same weights.

Shadow: a `shadow_share` of requests (chosen by hash of the key, or at random) also runs
on `shadow_version`; the caller never sees that answer.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from sidecar.errors import InvalidRequest

_TWO_64 = float(2**64)


def _unit(*parts: str) -> float:
    """A uniform number in (0, 1) from the parts (stable across processes and restarts)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / _TWO_64


@dataclass(frozen=True, slots=True)
class TrafficSplit:
    model_name: str
    weights: Mapping[str, float]  # version → weight (normalized on validation)
    shadow_version: str = ""
    shadow_share: float = 0.0
    _rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def validate(self, loaded_versions: set[str] | None = None) -> TrafficSplit:
        """Check the split; return it with weights that sum to exactly 1."""
        if not self.model_name:
            raise InvalidRequest("the traffic split needs a model name")
        if not self.weights:
            raise InvalidRequest("the traffic split needs at least one version")
        for version, weight in self.weights.items():
            if not version:
                raise InvalidRequest("a traffic split version is empty")
            if not (math.isfinite(weight) and weight >= 0):
                raise InvalidRequest(f"weight of {version} must be a finite number >= 0")
        total = sum(self.weights.values())
        if abs(total - 1.0) > 1e-6 and abs(total - 100.0) > 1e-4:
            raise InvalidRequest(f"weights must sum to 1 (or 100); they sum to {total:g}")
        if not 0.0 <= self.shadow_share <= 1.0:
            raise InvalidRequest("shadow_share must be within [0, 1]")
        if self.shadow_share > 0 and not self.shadow_version:
            raise InvalidRequest("shadow_share > 0 needs a shadow_version")
        if loaded_versions is not None:
            needed = {v for v, w in self.weights.items() if w > 0}
            if self.shadow_version and self.shadow_share > 0:
                needed.add(self.shadow_version)
            missing = sorted(needed - loaded_versions)
            if missing:
                raise InvalidRequest(f"versions not loaded (READY): {', '.join(missing)}")
        normalized = {v: w / total for v, w in self.weights.items()}
        return TrafficSplit(self.model_name, normalized, self.shadow_version, self.shadow_share)

    def route(self, routing_key: str = "") -> str:
        """The version that serves this request."""
        live = [(v, w) for v, w in self.weights.items() if w > 0]
        if not live:
            raise InvalidRequest("no version has a positive weight")
        if not routing_key:
            versions = [v for v, _ in live]
            chosen: str = self._rng.choices(versions, [w for _, w in live])[0]
            return chosen
        return max(live, key=lambda vw: -vw[1] / math.log(_unit(routing_key, vw[0])))[0]

    def shadow_for(self, routing_key: str, served: str) -> str:
        """The shadow version to also run, or "" (never the version that already served)."""
        if not self.shadow_version or self.shadow_share <= 0 or self.shadow_version == served:
            return ""
        draw = _unit("shadow", routing_key) if routing_key else self._rng.random()
        return self.shadow_version if draw < self.shadow_share else ""

    def as_dict(self) -> dict[str, object]:
        return {
            "model_name": self.model_name,
            "weights": dict(self.weights),
            "shadow_version": self.shadow_version,
            "shadow_share": self.shadow_share,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> TrafficSplit:
        weights = raw.get("weights", {})
        assert isinstance(weights, Mapping)
        share = raw.get("shadow_share", 0.0)
        return cls(
            model_name=str(raw["model_name"]),
            weights={str(k): float(v) for k, v in weights.items()},
            shadow_version=str(raw.get("shadow_version", "")),
            shadow_share=float(share) if isinstance(share, int | float | str) else 0.0,
        )
