"""Prediction cache: LRU with TTL, keyed by (digest, model version, preprocessing version), bounded in bytes.

A hit skips decoding and the model. The key carries the preprocessing version so that a
sidecar serving a new preprocessing never answers from tensors made the old way; a
reviewer's resolution overwrites every entry of its digest (`correct`).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from sidecar.domain import Prediction, RuleFinding

CacheKey = tuple[str, str, str]  # (digest, "name/version", preprocessing version)

# Rough per-entry overhead of the key, the OrderedDict slot and the Prediction object.
_ENTRY_OVERHEAD = 400


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    prediction: Prediction
    # Business-rule findings for the label (None: not evaluated); they depend only on the document.
    findings: tuple[RuleFinding, ...] | None = None


def answer_size(answer: CachedAnswer) -> int:
    """Approximate bytes an entry holds (bounded memory, not an exact accounting)."""
    p = answer.prediction
    size = _ENTRY_OVERHEAD + len(p.label) + len(p.model_name) + len(p.model_version)
    size += sum(len(k) + sys.getsizeof(0.0) + 64 for k in p.scores)
    size += sum(200 + len(f.rule) + len(f.detail) for f in answer.findings or ())
    return size


@dataclass(slots=True)
class _Entry:
    answer: CachedAnswer
    size: int
    expires: float


class PredictionCache:
    """Thread-safe; `get` and `put` are O(1)."""

    def __init__(self, max_bytes: int, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> CachedAnswer | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires <= self._clock():
                self._drop(key)
                entry = None
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.answer

    def holds(self, key: CacheKey) -> bool:
        """Whether `get` would answer now; counts nothing and leaves the LRU order as it is."""
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and entry.expires > self._clock()

    def put(self, key: CacheKey, answer: CachedAnswer) -> None:
        size = answer_size(answer)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = _Entry(answer, size, self._clock() + self.ttl_s)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def latest_for_digest(self, digest: str) -> CachedAnswer | None:
        """The freshest unexpired prediction of any model for this digest (the cached-prediction fallback)."""
        now = self._clock()
        with self._lock:
            for key in reversed(self._entries):
                entry = self._entries[key]
                if key[0] == digest and entry.expires > now:
                    return entry.answer
        return None

    def correct(self, digest: str, label: str) -> int:
        """A reviewer said `digest` is `label`: every cached answer for it now says so, with certainty."""
        changed = 0
        with self._lock:
            for key, entry in self._entries.items():
                if key[0] == digest:
                    p = entry.answer.prediction
                    scores = {k: (1.0 if k == label else 0.0) for k in p.scores} | {label: 1.0}
                    corrected = replace(p, label=label, confidence=1.0, scores=scores, is_ood=False, ood_score=0.0)
                    # The reviewer's word replaces the rules' too: nothing left to check.
                    entry.answer = CachedAnswer(corrected, ())
                    changed += 1
        return changed

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size
