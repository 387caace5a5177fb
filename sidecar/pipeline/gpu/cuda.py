"""CuPy preprocessing: the GPU normalizer serving uses. Import only when gpu_available().

One `CudaPreprocessor` per executor worker: it owns a CUDA stream and a pinned
host staging buffer, so the uint8 page crosses PCIe once, asynchronously.
`CupyNormalizer` is what serving uses (sidecar.pipeline.normalizer.choose_normalizer):
the worker's preprocessor, then the small float32 tensor (196 KB at 256x192) copied
back to the host, where the batcher, the image encoder and the caches expect it.
(IOBinding of a device batch is measured in bench/preprocess/iobinding.py, not served.)
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import cupy as cp
import numpy as np
import numpy.typing as npt

from sidecar.domain import InputSpec, Page
from sidecar.pipeline.gpu.resample import autocontrast_params, fit_page_xp, resize_weights
from sidecar.pipeline.normalize import crop_to_page, normalize_page

# levels → ((clip((x - lo) * gain, 0, 255)) / 255 - mean) / std, in one pass over the canvas.
_normalize_kernel = cp.ElementwiseKernel(
    "float32 x, float32 lo, float32 gain, float32 mean, float32 std",
    "float32 y",
    "y = (fminf(fmaxf((x - lo) * gain, 0.0f), 255.0f) / 255.0f - mean) / std",
    "doctriage_normalize",
)


class CudaPreprocessor:
    """decode output (uint8 page on the host) → normalized float32 tensor on the device."""

    def __init__(self, device_id: int = 0) -> None:
        self.device_id = device_id
        with cp.cuda.Device(device_id):
            self.stream = cp.cuda.Stream(non_blocking=True)
        self._pinned: npt.NDArray[np.uint8] = np.empty(0, np.uint8)
        self._weights: dict[tuple[int, int, float], Any] = {}

    def _staging(self, nbytes: int) -> npt.NDArray[np.uint8]:
        if self._pinned.nbytes < nbytes:
            memory = cp.cuda.alloc_pinned_memory(nbytes)
            self._pinned = np.frombuffer(memory, np.uint8, nbytes)
        return self._pinned[:nbytes]

    def _weight(self, in_size: int, out_size: int, span: float) -> Any:
        key = (in_size, out_size, span)
        w = self._weights.get(key)
        if w is None:
            w = cp.asarray(resize_weights(in_size, out_size, span))
            if len(self._weights) > 512:
                self._weights.clear()
            self._weights[key] = w
        return w

    def upload(self, image: npt.NDArray[np.uint8]) -> Any:
        """Host page → device, through the pinned buffer, asynchronously on this worker's stream."""
        # The previous page's copy may still be reading the staging buffer.
        self.stream.synchronize()
        staging = self._staging(image.nbytes).reshape(image.shape)
        np.copyto(staging, image)
        device = cp.empty(image.shape, dtype=cp.uint8)
        device.set(staging, stream=self.stream)
        return device

    def normalize(self, page: Page, spec: InputSpec) -> Any:
        """One page → cupy float32 C x H x W (same numbers as normalize_page within PARITY_TOLERANCE)."""
        if spec.deskew:
            raise ValueError("deskew runs on the CPU path only")
        image = page.image
        if spec.channels == 1 and image.ndim == 3:
            image = np.asarray(np.rint(image @ np.array([0.299, 0.587, 0.114])).clip(0, 255), np.uint8)
        if spec.crop_page:
            image = crop_to_page(image)  # on the host: only the sheet is uploaded
        with cp.cuda.Device(self.device_id), self.stream:
            device = self.upload(np.ascontiguousarray(image))
            if spec.channels == 3 and device.ndim == 2:
                device = cp.repeat(device[:, :, None], 3, axis=2)
            fitted = fit_page_xp(cp, device, spec, self._weight)
            lo, gain = autocontrast_params(cp, fitted, spec)
            out = _normalize_kernel(
                fitted, np.float32(lo), np.float32(gain), np.float32(spec.mean), np.float32(spec.std)
            )
            chw = out[None, :, :] if out.ndim == 2 else cp.transpose(out, (2, 0, 1))
            return cp.ascontiguousarray(chw)

    def normalize_batch(self, pages: Sequence[Page], spec: InputSpec) -> Any:
        """Pages → cupy float32 N x C x H x W, ready for IoBindingRunner.run."""
        with cp.cuda.Device(self.device_id), self.stream:
            batch = cp.stack([self.normalize(p, spec) for p in pages])
        return batch

    def synchronize(self) -> None:
        self.stream.synchronize()


_local = threading.local()


def thread_preprocessor(device_id: int = 0) -> CudaPreprocessor:
    """This executor thread's CudaPreprocessor (own stream and pinned buffer), created on first use."""
    pre: CudaPreprocessor | None = getattr(_local, "preprocessor", None)
    if pre is None or pre.device_id != device_id:
        pre = CudaPreprocessor(device_id)
        _local.preprocessor = pre
    return pre


class CupyNormalizer:
    """The `Normalizer` (sidecar/pipeline/normalizer.py) on the GPU: each executor thread uses its own
    CudaPreprocessor (stream, pinned buffer) and gets the host float32 C x H x W tensor back, as from
    normalize_page (within PARITY_TOLERANCE). A spec with `deskew` is normalized on the CPU."""

    name = "cupy"

    def __init__(self, device: str, device_id: int = 0) -> None:
        self.device = device  # the GPU's name
        self.device_id = device_id

    def normalize(self, page: Page, spec: InputSpec) -> npt.NDArray[np.float32]:
        if spec.deskew:
            return normalize_page(page, spec)
        pre = thread_preprocessor(self.device_id)
        with cp.cuda.Device(self.device_id):
            tensor = pre.normalize(page, spec)
            host = cp.asnumpy(tensor, stream=pre.stream)
            pre.stream.synchronize()  # older CuPy copies asynchronously when given a stream
        return np.ascontiguousarray(host, dtype=np.float32)
