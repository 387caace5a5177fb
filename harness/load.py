"""A load generator: closed loop (N clients, each sends its next document when the last is answered)
and open loop (a constant arrival rate; latency counted from when each call was due, so a slow server
cannot hide its queue: no coordinated omission). Used by tests/reliability and bench/.

`closed_loop` and `open_loop` drive Classify over grpc.aio. `closed_loop_calls` and `open_loop_calls`
drive any `Call` (an async function of the request's index and its due time that returns an Outcome):
a bidirectional stream, HTTP, another server (bench/compare)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from doctriage.errors import from_rpc_error
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc


@dataclass(frozen=True, slots=True)
class Outcome:
    code: str  # "OK" or the gRPC status code name (or another protocol's error name)
    reason: str  # google.rpc.ErrorInfo reason ("" when OK)
    latency_s: float
    retry_after_s: float | None = None  # google.rpc.RetryInfo, when sent
    at: float = 0.0  # time.monotonic() when the outcome arrived
    index: int = -1  # which request of the sequence (-1: not recorded)


# (index of the request, time.monotonic() when it was due) -> its outcome, latency counted from `due`.
Call = Callable[[int, float], Coroutine[Any, Any, Outcome]]
# Sees each answered request's response (what a benchmark counts: OCR read, the version that answered).
Observe = Callable[[classifier_pb2.ClassifyResponse], None]


@dataclass
class Run:
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    # Wall seconds from the first send to the last answer (set by closed_loop_calls / open_loop_calls).
    elapsed: float = 0.0

    def of(self, code: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.code == code]

    @property
    def throughput(self) -> float:
        return len(self.of("OK")) / self.seconds

    def percentile(self, q: float, code: str = "OK") -> float:
        values = sorted(o.latency_s for o in self.of(code))
        return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def closed_loop_calls(call: Call, count: int, clients: int, seconds: float) -> Run:
    """`clients` callers, each sending request k, k + clients, ... (modulo `count`) until `seconds` passed."""
    run = Run(seconds)
    started = time.monotonic()
    until = started + seconds

    async def client(k: int) -> None:
        i = k
        while time.monotonic() < until:
            outcome = await call(i % count, time.monotonic())
            run.outcomes.append(outcome)
            i += clients

    await asyncio.gather(*(client(k) for k in range(clients)))
    run.elapsed = time.monotonic() - started
    return run


async def open_loop_calls(call: Call, count: int, rate: float, seconds: float) -> Run:
    """`rate` calls a second for `seconds`, each sent when due whatever the earlier ones are doing."""
    run = Run(seconds)
    start = time.monotonic()
    tasks = []
    for i in range(int(rate * seconds)):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(call(i % count, due)))
    run.outcomes = list(await asyncio.gather(*tasks))
    run.elapsed = time.monotonic() - start
    return run


def unary_call(
    stub: classifier_pb2_grpc.ClassifierStub,
    requests: Sequence[classifier_pb2.ClassifyRequest],
    deadline_s: float,
    observe: Observe | None = None,
) -> Call:
    """Classify of requests[i], its failure read as the client reads it (google.rpc ErrorInfo, RetryInfo);
    `observe` sees each response."""

    async def call(i: int, due: float) -> Outcome:
        try:
            response = await stub.Classify(requests[i], timeout=deadline_s)
        except grpc.aio.AioRpcError as error:
            found = from_rpc_error(error)
            now = time.monotonic()
            return Outcome(error.code().name, found.reason, now - due, found.retry_after, now, i)
        now = time.monotonic()
        if observe is not None:
            observe(response)
        return Outcome("OK", "", now - due, None, now, i)

    return call


@asynccontextmanager
async def _stub(address: str) -> AsyncIterator[classifier_pb2_grpc.ClassifierStub]:
    async with grpc.aio.insecure_channel(address) as channel:
        yield classifier_pb2_grpc.ClassifierStub(channel)


async def closed_loop(
    address: str,
    requests: Sequence[classifier_pb2.ClassifyRequest],
    clients: int,
    seconds: float,
    deadline_s: float = 30.0,
) -> Run:
    async with _stub(address) as stub:
        return await closed_loop_calls(unary_call(stub, requests, deadline_s), len(requests), clients, seconds)


async def open_loop(
    address: str,
    requests: Sequence[classifier_pb2.ClassifyRequest],
    rate: float,
    seconds: float,
    deadline_s: float = 30.0,
) -> Run:
    async with _stub(address) as stub:
        return await open_loop_calls(unary_call(stub, requests, deadline_s), len(requests), rate, seconds)
