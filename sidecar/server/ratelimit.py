"""Token buckets per client key: `rate_per_s` tokens a second, at most `burst` saved up.

Every unary call and every stream message takes one token. A refused call gets
RESOURCE_EXHAUSTED (reason RATE_LIMITED) with `google.rpc.RetryInfo` saying when the
next token arrives. Buckets live in a bounded LRU (idle keys are forgotten, which
only refills them).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sidecar.config import RateLimitSettings

_MAX_BUCKETS = 10_000


class TokenBucket:
    __slots__ = ("_clock", "_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def try_acquire(self) -> float:
        """0.0 when a token was taken, else the seconds until one is available."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


class RateLimiter:
    def __init__(self, settings: RateLimitSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._lock = threading.Lock()

    def try_acquire(self, key: str, rate: float | None = None, burst: int | None = None) -> float:
        """Take one token from `key`'s bucket: 0.0 if allowed, else the retry delay in seconds."""
        if not self.settings.enabled:
            return 0.0
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = TokenBucket(rate or self.settings.rate_per_s, burst or self.settings.burst, clock=self._clock)
                self._buckets[key] = bucket
                if len(self._buckets) > _MAX_BUCKETS:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
            return bucket.try_acquire()
