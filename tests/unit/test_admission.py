"""Admission (sidecar/dataplane/admission.py) on a real event loop: who runs, who waits in order, who is shed at
once and why; no slot is ever lost, whatever happens to a waiting request."""

from __future__ import annotations

import asyncio
import time

import pytest

from sidecar.dataplane.admission import Admission
from sidecar.errors import DeadlineExceeded, ResourceExhausted


async def hold(admission: Admission, seconds: float, log: list[str], name: str) -> None:
    await admission.enter(time.monotonic() + 30)
    log.append(name)
    started = time.monotonic()
    try:
        await asyncio.sleep(seconds)
    finally:
        admission.leave(time.monotonic() - started)


async def test_free_slots_run_at_once_and_the_rest_wait_in_order() -> None:
    admission = Admission(slots=2, max_queued=10)
    log: list[str] = []
    tasks = [asyncio.create_task(hold(admission, 0.02, log, f"r{i}")) for i in range(6)]
    await asyncio.sleep(0)
    assert admission.running == 2 and admission.queued == 4
    await asyncio.gather(*tasks)
    assert log == [f"r{i}" for i in range(6)]
    assert admission.running == 0 and admission.queued == 0
    assert 0.01 < admission.service_s < 0.05  # learned from what ran


async def test_a_full_queue_refuses_at_once_with_the_expected_wait() -> None:
    admission = Admission(slots=1, max_queued=2)
    admission.service_s = 0.5
    log: list[str] = []
    tasks = [asyncio.create_task(hold(admission, 0.05, log, f"r{i}")) for i in range(3)]
    await asyncio.sleep(0)
    started = time.monotonic()
    with pytest.raises(ResourceExhausted) as shed:
        await admission.enter(time.monotonic() + 30)
    assert time.monotonic() - started < 0.01 and shed.value.retry_after == pytest.approx(1.5)
    await asyncio.gather(*tasks)


async def test_a_request_whose_deadline_the_queue_would_miss_is_refused_at_once() -> None:
    admission = Admission(slots=1, max_queued=100)
    admission.service_s = 1.0
    task = asyncio.create_task(hold(admission, 0.05, [], "r"))
    await asyncio.sleep(0)
    with pytest.raises(ResourceExhausted) as shed:
        await admission.enter(time.monotonic() + 1.5)  # 1 s of wait + 1 s of work > 1.5 s left
    assert "deadline" in shed.value.message
    waited = await admission.enter(time.monotonic() + 30)  # with time enough, it waits for the slot
    assert waited > 0.03
    admission.leave(0.01)
    await task


async def test_a_deadline_passing_in_the_queue_gives_the_slot_to_the_next() -> None:
    admission = Admission(slots=1, max_queued=100)
    admission.service_s = 0.001
    log: list[str] = []
    first = asyncio.create_task(hold(admission, 0.2, log, "first"))
    await asyncio.sleep(0)
    with pytest.raises(DeadlineExceeded):
        await admission.enter(time.monotonic() + 0.05)
    late = asyncio.create_task(hold(admission, 0.01, log, "late"))
    await asyncio.gather(first, late)
    assert log == ["first", "late"] and admission.running == 0 and admission.queued == 0


async def test_a_cancelled_waiter_leaves_no_trace() -> None:
    admission = Admission(slots=1, max_queued=100)
    log: list[str] = []
    first = asyncio.create_task(hold(admission, 0.05, log, "first"))
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(hold(admission, 0.05, log, "cancelled"))
    after = asyncio.create_task(hold(admission, 0.01, log, "after"))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    await asyncio.gather(first, after)
    assert log == ["first", "after"] and admission.running == 0 and admission.queued == 0


async def test_a_closed_loop_is_never_shed_but_an_open_loop_overload_is() -> None:
    work = 0.01
    # 8 slots and a queue of 4 x 8 (the defaults on 2 cores): 32 clients, each sending its next request
    # when the last is answered, all start at once and are all served.
    admission = Admission(slots=8, max_queued=32)
    shed = 0

    async def client(until: float) -> None:
        nonlocal shed
        while time.monotonic() < until:
            try:
                await hold(admission, work, [], "c")
            except ResourceExhausted:
                shed += 1

    until = time.monotonic() + 1.0
    await asyncio.gather(*(client(until) for _ in range(32)))
    assert shed == 0

    # Open loop at ~3x what the slots finish: the excess is refused at once, and the admitted requests
    # wait at most about the full queue's worth of work (4 service times), not until their deadline.
    admission = Admission(slots=8, max_queued=32)
    waits: list[float] = []
    refused = 0
    tasks = []

    async def one() -> None:
        nonlocal refused
        started = time.monotonic()
        try:
            await hold(admission, work, [], "o")
        except ResourceExhausted:
            refused += 1
            return
        waits.append(time.monotonic() - started - work)

    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        for _ in range(3):
            tasks.append(asyncio.create_task(one()))
        await asyncio.sleep(work / 8)
    await asyncio.gather(*tasks)
    assert refused > len(tasks) / 3
    waits.sort()
    assert waits[int(0.95 * len(waits))] < 8 * work


async def test_an_optional_delay_target_sheds_before_the_queue_is_full() -> None:
    admission = Admission(slots=1, max_queued=100, queue_delay_target_s=0.25)
    admission.service_s = 0.1
    tasks = [asyncio.create_task(hold(admission, 0.02, [], "r")) for _ in range(3)]
    await asyncio.sleep(0)
    with pytest.raises(ResourceExhausted) as shed:
        await admission.enter(time.monotonic() + 30)  # 3 ahead: 0.3 s expected
    assert "expected wait" in shed.value.message
    await asyncio.gather(*tasks)
