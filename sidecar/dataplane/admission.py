"""Admission: who runs now, who waits, who is turned away at once.

`slots` documents run through the pipeline at once (server.max_concurrent_requests: beyond ~4 per
core the CPU is shared more thinly and nothing finishes sooner). The rest wait in one FIFO queue: a
request that can be served within its deadline waits rather than fails. One is refused at once,
RESOURCE_EXHAUSTED with a RetryInfo of the expected wait, when

- the queue is full (server.max_queued_requests, default 4 x slots: 32 clients each sending one
  document at a time on 2 cores are all served; an open-loop overload finds the queue full and its
  excess is refused at once, so the admitted requests wait at most ~4 service times), or
- its expected queueing delay plus one service time exceeds the time left to its deadline, or
- its expected queueing delay exceeds server.queue_delay_target_s (0, the default: no such bound).

The expected delay is (queued + 1) x mean service time / slots, the mean an exponentially weighted
average of the time each admitted request held its slot. A request whose deadline passes while it
waits gets DEADLINE_EXCEEDED and its place goes to the next. One Admission per data plane, used from
its event loop only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from sidecar.errors import DeadlineExceeded, ResourceExhausted
from sidecar.observability import metrics as m

# Weight of the newest service time in the running mean.
_SERVICE_WEIGHT = 0.1


class Admission:
    def __init__(self, slots: int, max_queued: int, queue_delay_target_s: float = 0.0) -> None:
        self.slots = slots
        self.max_queued = max_queued
        self.queue_delay_target_s = queue_delay_target_s
        self.running = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.service_s = 0.05  # until the first request finishes

    @property
    def queued(self) -> int:
        return len(self._waiters)

    def expected_wait(self, ahead: int) -> float:
        return (ahead + 1) * self.service_s / self.slots

    async def enter(self, deadline: float | None) -> float:
        """Wait for a slot (seconds waited returned) or raise: ResourceExhausted at once when the request
        is shed, DeadlineExceeded when its deadline passes in the queue."""
        now = time.monotonic()
        if self.running < self.slots and not self._waiters:
            self.running += 1
            return 0.0
        wait = self.expected_wait(len(self._waiters))
        left = None if deadline is None else deadline - now
        if len(self._waiters) >= self.max_queued:
            self._shed("queue_full")
            raise ResourceExhausted(f"{len(self._waiters)} requests are queued already", retry_after=wait)
        if left is not None and wait + self.service_s > left:
            self._shed("deadline")
            raise ResourceExhausted(
                f"the expected wait ({wait:.2f} s) leaves too little of the deadline ({left:.2f} s)", retry_after=wait
            )
        if self.queue_delay_target_s and wait > self.queue_delay_target_s:
            self._shed("delay_target")
            raise ResourceExhausted(f"overloaded: the expected wait is {wait:.2f} s", retry_after=wait)
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(slot)
        m.QUEUED.set(len(self._waiters))
        try:
            await (asyncio.wait_for(asyncio.shield(slot), left) if left is not None else slot)
        except BaseException as exc:
            if slot.done() and not slot.cancelled():
                self.leave(None)  # the slot was handed over as the wait ended: pass it on
            else:
                slot.cancel()
                self._drop(slot)
            if isinstance(exc, TimeoutError):
                m.SHED.labels(cause="deadline_in_queue").inc()
                raise DeadlineExceeded("the deadline passed while the request was queued") from None
            raise
        waited = time.monotonic() - now
        m.QUEUE_WAIT.observe(waited)
        return waited

    def leave(self, service_s: float | None) -> None:
        """A request gives its slot back (`service_s`: how long it held it; None: it never ran)."""
        if service_s is not None:
            self.service_s += _SERVICE_WEIGHT * (service_s - self.service_s)
        while self._waiters:
            slot = self._waiters.popleft()
            if not slot.done():
                slot.set_result(None)  # the slot goes to the next in line; `running` is unchanged
                m.QUEUED.set(len(self._waiters))
                return
        m.QUEUED.set(0)
        self.running -= 1

    def _drop(self, slot: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):  # already handed a slot and popped
            self._waiters.remove(slot)
        m.QUEUED.set(len(self._waiters))

    @staticmethod
    def _shed(cause: str) -> None:
        m.SHED.labels(cause=cause).inc()
