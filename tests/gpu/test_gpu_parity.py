"""CPU and GPU preprocessing agree, and the model gives the same label either way. Needs CUDA.

Skips cleanly on machines without a usable GPU or without the `[gpu]` extra.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness import documents as docs
from sidecar.domain import DocKind, InputSpec, Inspection, Page
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.gpu import gpu_available
from sidecar.pipeline.gpu.resample import PARITY_MEAN_TOLERANCE, PARITY_TOLERANCE
from sidecar.pipeline.normalize import normalize_page, to_batch

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not gpu_available(), reason="no usable CUDA device (or cupy is not installed)"),
]

FLAVOURS = {
    "jpeg": (DocKind.JPEG, docs.jpeg),
    "jpeg_exif_rotated": (DocKind.JPEG, docs.jpeg_exif_rotated),
    "png": (DocKind.PNG, docs.png),
    "png_16bit": (DocKind.PNG, docs.png_16bit),
    "png_palette_alpha": (DocKind.PNG, docs.png_palette_alpha),
    "pdf": (DocKind.PDF, docs.pdf),
    "pdf_scanned": (DocKind.PDF, docs.pdf_scanned),
}


def decoded(flavour: str, spec: InputSpec) -> Page:
    kind, make = FLAVOURS[flavour]
    content = make()
    return decode_document(
        content,
        Inspection(kind=kind, digest="", size=len(content)),
        (spec.height, spec.width),
        10**8,
        mode=spec.decode_mode,
    )


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_gpu_tensor_matches_cpu(flavour: str, channels: int) -> None:
    from sidecar.pipeline.gpu.cuda import CudaPreprocessor

    spec = InputSpec(channels=channels)
    page = decoded(flavour, spec)
    gpu = CudaPreprocessor().normalize(page, spec).get()
    cpu = normalize_page(page, spec)
    assert gpu.shape == cpu.shape and gpu.dtype == np.float32
    diff = np.abs(gpu - cpu)
    assert float(diff.max()) <= PARITY_TOLERANCE
    assert float(diff.mean()) <= PARITY_MEAN_TOLERANCE


def test_batch_on_device_matches_cpu_batch() -> None:
    from sidecar.pipeline.gpu.cuda import CudaPreprocessor

    spec = InputSpec()
    pages = [decoded(f, spec) for f in sorted(FLAVOURS)]
    pre = CudaPreprocessor()
    batch = pre.normalize_batch(pages, spec)
    pre.synchronize()
    cpu = to_batch([normalize_page(p, spec) for p in pages])
    assert batch.shape == cpu.shape
    assert float(np.abs(batch.get() - cpu).max()) <= PARITY_TOLERANCE
