"""The GPU path's arithmetic, run on numpy here: it must match normalize_page on every flavour.

The CuPy path (sidecar.pipeline.gpu.cuda) runs this same code with xp=cupy; tests/gpu checks
it on a real GPU. These tests run everywhere and need no CUDA.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from harness import documents as docs
from sidecar.domain import DocKind, InputSpec, Inspection, Page
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.gpu import GpuStatus, gpu_status
from sidecar.pipeline.gpu.resample import (
    PARITY_MEAN_TOLERANCE,
    PARITY_TOLERANCE,
    fit_page_xp,
    normalize_xp,
    resize_weights,
)
from sidecar.pipeline.normalize import fit_page, normalize_page

FLAVOURS = {
    "jpeg": (DocKind.JPEG, docs.jpeg),
    "png": (DocKind.PNG, docs.png),
    "png_16bit": (DocKind.PNG, docs.png_16bit),
    "pdf": (DocKind.PDF, docs.pdf),
    "pdf_scanned": (DocKind.PDF, docs.pdf_scanned),
}


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_numpy_twin_matches_normalize_page(flavour: str, channels: int) -> None:
    kind, make = FLAVOURS[flavour]
    spec = InputSpec(channels=channels)
    content = make()
    inspection = Inspection(kind=kind, digest="", size=len(content))
    page = decode_document(content, inspection, (spec.height, spec.width), 10**8, mode=spec.decode_mode)  # type: ignore[arg-type]
    ours = normalize_xp(np, page.image, spec)
    ref = normalize_page(page, spec)
    assert ours.shape == ref.shape and ours.dtype == np.float32
    diff = np.abs(ours - ref)
    assert float(diff.max()) <= PARITY_TOLERANCE
    assert float(diff.mean()) <= PARITY_MEAN_TOLERANCE


@pytest.mark.parametrize("channels", [1, 3])
def test_numpy_twin_crops_a_photographed_sheet_like_normalize_page(channels: int) -> None:
    photo = Image.new("L", (1000, 1200), 50)
    photo.paste(docs.page_image(size=(400, 566)).convert("L"), (300, 350))
    image = np.asarray(photo.convert("RGB") if channels == 3 else photo)
    spec = InputSpec(channels=channels, crop_page=True)
    page = Page(image=image, source_width=1000, source_height=1200)
    ours, ref = normalize_xp(np, image, spec), normalize_page(page, spec)
    assert not np.array_equal(ref, normalize_page(page, InputSpec(channels=channels)))  # the crop took place
    diff = np.abs(ours - ref)
    assert float(diff.max()) <= PARITY_TOLERANCE
    assert float(diff.mean()) <= PARITY_MEAN_TOLERANCE


def test_resize_weights_rows_sum_to_one_and_upscaling_is_plain_bilinear() -> None:
    w = resize_weights(877, 256)
    assert w.shape == (256, 877)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-5)
    up = resize_weights(2, 4)
    np.testing.assert_allclose(up[1], [0.75, 0.25], atol=1e-6)


@pytest.mark.parametrize("size", [(400, 300), (1001, 707), (37, 5000), (3508, 2480)])
def test_fit_matches_pillow_on_odd_sizes(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, size, dtype=np.uint8)).resize((size[1] // 4 or 1, size[0] // 4 or 1))
    image = np.asarray(noise.resize((size[1], size[0]), Image.Resampling.BILINEAR), dtype=np.uint8)
    ref = fit_page(image, InputSpec()).astype(np.float32)
    ours = fit_page_xp(np, image, InputSpec())
    assert np.abs(ours - ref).max() <= 2  # grey levels
    assert np.abs(ours - ref).mean() <= 0.2


def test_probe_never_raises_and_says_why_not() -> None:
    status = gpu_status()
    assert isinstance(status, GpuStatus)
    assert status.available or status.reason
