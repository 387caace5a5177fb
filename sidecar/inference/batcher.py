"""Dynamic batching per loaded model version (after MLServer's adaptive batcher, with bounds).

Each request puts one normalized page on a bounded queue and awaits its own future. One
consumer task per version takes the first waiting item, gathers more for at most
`max_delay_s` or until `max_batch_size`, drops the items whose deadline has passed (their
callers get DEADLINE_EXCEEDED, the model never sees them), runs one inference for the rest
in the shared executor and resolves every future. While a batch runs the next one gathers,
so under load batches grow by themselves and at low load a request waits at most
`max_delay_s`. A full queue refuses at once (RESOURCE_EXHAUSTED): memory never grows with load.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sidecar.domain import Prediction
from sidecar.errors import DeadlineExceeded, Reason, ResourceExhausted, Unavailable
from sidecar.models.infer import infer_batch
from sidecar.models.runtime import OnnxModel

# (model key, batch size, queue waits of its items in seconds)
BatchObserver = Callable[[str, int, list[float]], None]


@dataclass(slots=True)
class _Item:
    image: npt.NDArray[np.float32]  # [1, H, W]
    text: npt.NDArray[np.float32] | None  # [D] for text models
    deadline: float | None  # time.monotonic()
    enqueued: float
    future: asyncio.Future[Prediction]


class DynamicBatcher:
    def __init__(
        self,
        model: OnnxModel,
        executor: Executor,
        *,
        max_batch_size: int = 8,
        max_delay_s: float = 0.002,
        max_queue: int = 64,
        observer: BatchObserver | None = None,
    ) -> None:
        self.model = model
        self.executor = executor
        self.max_batch_size = max_batch_size
        self.max_delay_s = max_delay_s
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=max_queue)
        self._observer = observer
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    async def predict(
        self,
        image: npt.NDArray[np.float32],
        text: npt.NDArray[np.float32] | None = None,
        deadline: float | None = None,
    ) -> Prediction:
        """One page [1, H, W] (+ text row) → its Prediction, batched with whatever else is waiting."""
        if self._closed:
            raise Unavailable(f"model {self.model.key} is unloading")
        if self._task is None:
            self._task = asyncio.create_task(self._consume(), name=f"batcher-{self.model.key}")
        future: asyncio.Future[Prediction] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait(_Item(image, text, deadline, time.monotonic(), future))
        except asyncio.QueueFull:
            raise ResourceExhausted(
                f"the batch queue of {self.model.key} is full", Reason.OVERLOADED, retry_after=0.05
            ) from None
        return await future

    async def close(self) -> None:
        """Stop the consumer; waiting callers get UNAVAILABLE (and fall back)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not item.future.done():
                item.future.set_exception(Unavailable(f"model {self.model.key} was unloaded"))

    async def _consume(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            try:
                gather_until = loop.time() + self.max_delay_s
                while len(batch) < self.max_batch_size:
                    left = gather_until - loop.time()
                    if left <= 0:
                        # Take what is already waiting without waiting longer.
                        try:
                            batch.append(self._queue.get_nowait())
                            continue
                        except asyncio.QueueEmpty:
                            break
                    try:
                        batch.append(await asyncio.wait_for(self._queue.get(), left))
                    except TimeoutError:
                        break
                await self._run(batch)
            except asyncio.CancelledError:
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(Unavailable(f"model {self.model.key} was unloaded"))
                raise

    async def _run(self, batch: list[_Item]) -> None:
        now = time.monotonic()
        live = []
        for item in batch:
            if item.future.done():  # the caller went away (cancelled)
                continue
            if item.deadline is not None and item.deadline <= now:
                item.future.set_exception(DeadlineExceeded("the deadline passed while queued for the model"))
                continue
            live.append(item)
        if not live:
            return
        if self._observer is not None:
            self._observer(self.model.key, len(live), [now - item.enqueued for item in live])
        try:
            images = np.stack([item.image for item in live])
            texts = None
            if self.model.text_dim:
                zeros = np.zeros(self.model.text_dim, np.float32)
                texts = np.stack([item.text if item.text is not None else zeros for item in live])
            predictions = await asyncio.get_running_loop().run_in_executor(
                self.executor, infer_batch, self.model, images, texts
            )
        except Exception as exc:  # noqa: BLE001 - every caller of the batch gets the model's failure
            for item in live:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        for item, prediction in zip(live, predictions, strict=True):
            if not item.future.done():
                item.future.set_result(prediction)


async def predict_unbatched(
    model: OnnxModel,
    executor: Executor,
    image: npt.NDArray[np.float32],
    text: npt.NDArray[np.float32] | None = None,
    observer: BatchObserver | None = None,
) -> Prediction:
    """Batching off: one inference per request, straight on the executor."""
    if observer is not None:
        observer(model.key, 1, [0.0])
    texts = None if text is None or not model.text_dim else text[np.newaxis]
    predictions = await asyncio.get_running_loop().run_in_executor(
        executor, infer_batch, model, image[np.newaxis], texts
    )
    return predictions[0]
