"""A load generator over grpc.aio: closed loop (N clients, each sends its next document when the last
is answered) and open loop (a constant arrival rate; latency counted from when each call was due, so
a slow server cannot hide its queue: no coordinated omission). Used by tests/reliability and bench/."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import grpc
from doctriage.errors import from_rpc_error
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc


@dataclass(frozen=True, slots=True)
class Outcome:
    code: str  # "OK" or the gRPC status code name
    reason: str  # google.rpc.ErrorInfo reason ("" when OK)
    latency_s: float
    retry_after_s: float | None = None  # google.rpc.RetryInfo, when sent
    at: float = 0.0  # time.monotonic() when the outcome arrived


@dataclass
class Run:
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)

    def of(self, code: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.code == code]

    @property
    def throughput(self) -> float:
        return len(self.of("OK")) / self.seconds

    def percentile(self, q: float, code: str = "OK") -> float:
        values = sorted(o.latency_s for o in self.of(code))
        return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def _call(
    stub: classifier_pb2_grpc.ClassifierStub, request: classifier_pb2.ClassifyRequest, deadline_s: float, due: float
) -> Outcome:
    try:
        await stub.Classify(request, timeout=deadline_s)
    except grpc.aio.AioRpcError as error:
        found = from_rpc_error(error)  # the client's reading of google.rpc ErrorInfo and RetryInfo
        now = time.monotonic()
        return Outcome(error.code().name, found.reason, now - due, found.retry_after, now)
    now = time.monotonic()
    return Outcome("OK", "", now - due, None, now)


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
    run = Run(seconds)
    async with _stub(address) as stub:
        until = time.monotonic() + seconds

        async def client(k: int) -> None:
            i = k
            while time.monotonic() < until:
                run.outcomes.append(await _call(stub, requests[i % len(requests)], deadline_s, time.monotonic()))
                i += clients

        await asyncio.gather(*(client(k) for k in range(clients)))
    return run


async def open_loop(
    address: str,
    requests: Sequence[classifier_pb2.ClassifyRequest],
    rate: float,
    seconds: float,
    deadline_s: float = 30.0,
) -> Run:
    run = Run(seconds)
    async with _stub(address) as stub:
        start = time.monotonic()
        tasks = []
        for i in range(int(rate * seconds)):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_call(stub, requests[i % len(requests)], deadline_s, due)))
        run.outcomes = list(await asyncio.gather(*tasks))
    return run
