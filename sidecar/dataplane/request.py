"""One request in flight: its analysis and the awaitable stages, each entered from one place.

`Analysis` (sidecar/pipeline/analysis.py) runs every stage of one document at most once,
synchronously. `Request` adds what is asynchronous: each stage runs in the one CPU executor
under the request's deadline, and the answers of the model versions asked about this document
(the routed one, the acceptance rule's second model, the cascade's, a fallback) are kept so that
no version runs twice on it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from sidecar.domain import Document, InputSpec, Inspection, Prediction
from sidecar.errors import DeadlineExceeded, DocTriageError
from sidecar.models.runtime import OnnxModel
from sidecar.pipeline.analysis import Analysis

T = TypeVar("T")


def check_deadline(doc: Document) -> None:
    left = doc.time_left()
    if left is not None and left <= 0:
        raise DeadlineExceeded("the request's deadline has passed")


class Request:
    def __init__(self, analysis: Analysis, executor: Executor) -> None:
        self.analysis = analysis
        self.executor = executor
        self.predictions: dict[str, Prediction] = {}  # by "name/version"
        self.features: Any = None  # drift features, once computed
        # A decode that failed inside `prepare`: raised by `tensor`, after the scan's verdict.
        self._tensor_errors: dict[InputSpec, DocTriageError] = {}

    @property
    def doc(self) -> Document:
        return self.analysis.doc

    @property
    def timings(self) -> dict[str, float]:
        return self.analysis.timings

    @property
    def inspection(self) -> Inspection:
        """Set by `validate`, which every request runs first."""
        assert self.analysis.inspection is not None, "validate() runs first"
        return self.analysis.inspection

    def fork(self) -> Request:
        """A copy that shares what is known but keeps its own timings (the shadow model's run)."""
        return Request(self.analysis.fork(), self.executor)

    def add_time(self, name: str, seconds: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + seconds

    # -- running a stage ------------------------------------------------------

    async def run(self, name: str, fn: Callable[..., T], *args: object, record: bool = True) -> T:
        """Run `fn` in the executor, honouring the deadline; `record`: its seconds go to the
        response's timings under `name` (analysis stages record their own)."""
        check_deadline(self.doc)
        started = time.perf_counter()
        future = asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)
        left = self.doc.time_left()
        try:
            result = await (asyncio.wait_for(future, left) if left is not None else future)
        except TimeoutError:
            raise DeadlineExceeded(f"deadline passed during {name}") from None
        if record:
            self.add_time(name, time.perf_counter() - started)
        return result

    # -- the stages -------------------------------------------------------------

    async def validate(self) -> Inspection:
        return await self.run("validate", self.analysis.validate, record=False)

    async def prepare(self, spec: InputSpec, skip_tensor: Callable[[Inspection], bool]) -> Inspection:
        """Validate, then decode and normalize for `spec` unless `skip_tensor(inspection)` (the cache
        will answer), in one executor hop. A document that fails validation fails here; one that
        fails to decode fails at `tensor`, so that a scan running meanwhile still has the first word."""

        def work() -> Inspection:
            inspection = self.analysis.validate()
            if not skip_tensor(inspection):
                try:
                    self.analysis.tensor(spec)
                except DocTriageError as exc:
                    self._tensor_errors[spec] = exc
            return inspection

        return await self.run("validate", work, record=False)

    async def tensor(self, spec: InputSpec) -> npt.NDArray[np.float32]:
        """Decode (once) and normalize (once per input spec); InvalidDocument propagates."""
        failed = self._tensor_errors.pop(spec, None)
        if failed is not None:
            raise failed
        tensor = self.analysis.tensors.get(spec)
        if tensor is None:
            # One executor hop for both stages (each hop costs a thread hand-off and a loop turn).
            tensor = await self.run("decode", self.analysis.tensor, spec, record=False)
        return tensor

    async def text(self) -> str | None:
        """The page's text: its PDF text layer, else OCR (run only here, only once)."""
        if self.analysis.text_is_free():
            return self.analysis.read_text()  # known, or the text layer: no executor hop
        return await self.run("ocr", self.analysis.read_text, record=False)

    async def text_features(self, model: OnnxModel) -> npt.NDArray[np.float32] | None:
        """The model's text row, or None when it reads no text."""
        if not model.text_dim:
            return None
        if self.analysis.text_is_free() and model.text_is_cheap:
            return model.text_features(self.analysis.read_text())  # hashing only: microseconds, no hop
        return await self.run("text_embedding", self.analysis.text_features, model, record=False)

    async def drift_features(self) -> Any:
        """Drift features (~1-2 ms of numpy): in the executor, never on the event loop."""
        if self.analysis.page is not None and self.features is None:
            self.features = await self.run("features", self.analysis.drift_features)
        return self.features
