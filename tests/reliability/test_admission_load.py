"""Admission under load, through a real sidecar process (tiny models, cache off, 30 s deadlines):
32 clients each sending one document at a time are all served, queued rather than refused; an
open-loop overload at 3x what the server sustains is refused at once with RetryInfo, and what is
admitted keeps its latency. The longer runs (minutes, the shipped models) are bench/soak."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from doctriage.v1 import classifier_pb2

from harness.documents import sample_documents
from harness.load import closed_loop, open_loop
from harness.process import SidecarProcess


@pytest.fixture(scope="module")
def sidecar(models_root: Path) -> Iterator[SidecarProcess]:
    process = SidecarProcess({"DOCTRIAGE_MODELS__ROOT": str(models_root), "DOCTRIAGE_CACHE__ENABLED": "false"})
    yield process
    process.kill()


def requests() -> list[classifier_pb2.ClassifyRequest]:
    docs = sample_documents()
    return [classifier_pb2.ClassifyRequest(content=docs[k], filename=f"doc.{k}") for k in ("png", "jpeg", "pdf")]


@pytest.mark.timeout(180)
def test_32_closed_loop_clients_are_queued_not_refused_and_overload_is_shed_at_once(sidecar: SidecarProcess) -> None:
    closed = asyncio.run(closed_loop(sidecar.address, requests(), clients=32, seconds=6.0))
    codes = {o.code for o in closed.outcomes}
    assert codes == {"OK"}, {c: len(closed.of(c)) for c in codes}
    assert closed.throughput > 10
    sustained_p95 = closed.percentile(0.95)  # bounded by the queue: 32 clients, 8 slots

    overload = asyncio.run(open_loop(sidecar.address, requests(), rate=3 * closed.throughput, seconds=5.0))
    shed = overload.of("RESOURCE_EXHAUSTED")
    assert set(o.code for o in overload.outcomes) <= {"OK", "RESOURCE_EXHAUSTED"}
    # ~2/3 is the excess over what it sustains (bench/soak measures 66 %). The closed-loop rate this
    # compares with shares 2 cores with whatever else runs, so a busy machine can make it look low:
    # a quarter is asserted, which no server without shedding comes near.
    assert len(shed) > 0.25 * len(overload.outcomes)
    assert all(o.reason == "OVERLOADED" and o.retry_after_s is not None for o in shed)
    # Refused at once, not after waiting in the queue: a refusal takes ~4 ms at the median and ~11 ms
    # at p95 here, an admitted call ~0.35 s at the median. The tail of the refusals is the generator's
    # own lag (latency counts from when a call was due, and the generator shares 2 cores with the
    # server: a clean-clone CI run beside other work saw 0.30 s), which delays the admitted calls as
    # much, so the tail is compared with them rather than with a fixed bound.
    assert overload.percentile(0.5, "RESOURCE_EXHAUSTED") < 0.1
    assert overload.percentile(0.95, "RESOURCE_EXHAUSTED") < overload.percentile(0.5, "OK")
    # ... and what is admitted waits for a bounded queue (4 x slots), not for its 30 s deadline. (The
    # generator shares the 2 cores with the server at ~3x its rate, and latency counts from when each
    # call was due: the ratio to normal is measured by bench/soak, not asserted here.)
    assert overload.percentile(0.95) < max(2.0, 4 * sustained_p95), (overload.percentile(0.95), sustained_p95)
