import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from harness.tiny_model import write_tiny_model
from sidecar.errors import DeadlineExceeded, ResourceExhausted
from sidecar.inference.batcher import DynamicBatcher, predict_unbatched
from sidecar.models.infer import infer_batch
from sidecar.models.runtime import OnnxModel


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> OnnxModel:
    return OnnxModel(write_tiny_model(tmp_path_factory.mktemp("m"), "tiny", "1.0", seed=3))


@pytest.fixture()
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as ex:
        yield ex


def pages(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.normal(0, 1, (1, 256, 192)).astype(np.float32) for _ in range(n)]


async def test_concurrent_requests_share_batches_and_get_their_own_answer(
    model: OnnxModel, executor: ThreadPoolExecutor
) -> None:
    seen: list[tuple[int, list[float]]] = []
    batcher = DynamicBatcher(
        model, executor, max_batch_size=8, max_delay_s=0.05, max_queue=64,
        observer=lambda _key, size, waits: seen.append((size, waits)),
    )  # fmt: skip
    inputs = pages(20)
    results = await asyncio.gather(*(batcher.predict(p) for p in inputs))
    expected = infer_batch(model, np.stack(inputs))
    assert [r.label for r in results] == [e.label for e in expected]
    for r, e in zip(results, expected, strict=True):
        assert r.confidence == pytest.approx(e.confidence, rel=1e-4)
    sizes = [s for s, _ in seen]
    assert sum(sizes) == 20 and max(sizes) == 8 and len(sizes) == 3
    assert all(w >= 0 for _, waits in seen for w in waits)
    await batcher.close()


async def test_a_lone_request_waits_at_most_max_delay(model: OnnxModel, executor: ThreadPoolExecutor) -> None:
    batcher = DynamicBatcher(model, executor, max_batch_size=32, max_delay_s=0.02)
    await batcher.predict(pages(1)[0])  # warm
    started = time.perf_counter()
    await batcher.predict(pages(1)[0])
    assert time.perf_counter() - started < 0.02 + 0.25
    await batcher.close()


async def test_full_queue_refuses_at_once(model: OnnxModel, executor: ThreadPoolExecutor) -> None:
    batcher = DynamicBatcher(model, executor, max_batch_size=2, max_delay_s=0.0, max_queue=4)
    outcomes = await asyncio.gather(*(batcher.predict(p) for p in pages(10)), return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, ResourceExhausted)]
    assert len(refused) == 6 and all(not isinstance(o, Exception) for o in outcomes[:4])
    await batcher.close()


async def test_expired_work_is_dropped_before_inference(model: OnnxModel, executor: ThreadPoolExecutor) -> None:
    sizes: list[int] = []
    batcher = DynamicBatcher(
        model, executor, max_batch_size=8, max_delay_s=0.01, observer=lambda _k, size, _w: sizes.append(size)
    )
    past = time.monotonic() - 1
    live, dead = pages(2)
    results = await asyncio.gather(batcher.predict(live), batcher.predict(dead, deadline=past), return_exceptions=True)
    assert not isinstance(results[0], Exception)
    assert isinstance(results[1], DeadlineExceeded)
    assert sizes == [1]  # the model never saw the expired page
    await batcher.close()


async def test_close_fails_waiting_callers(model: OnnxModel, executor: ThreadPoolExecutor) -> None:
    batcher = DynamicBatcher(model, executor, max_batch_size=8, max_delay_s=10.0)
    first = asyncio.ensure_future(batcher.predict(pages(1)[0]))
    await asyncio.sleep(0.05)
    waiting = asyncio.ensure_future(batcher.predict(pages(1)[0]))
    await asyncio.sleep(0.01)
    await batcher.close()
    done = await asyncio.gather(first, waiting, return_exceptions=True)
    assert all(isinstance(d, BaseException) for d in done)


async def test_unbatched_path_matches(model: OnnxModel, executor: ThreadPoolExecutor) -> None:
    (page,) = pages(1)
    p = await predict_unbatched(model, executor, page)
    assert p.label == infer_batch(model, page[np.newaxis])[0].label


def test_tiny_model_path_exists(model: OnnxModel) -> None:
    assert Path(model.directory, "model.onnx").is_file()
