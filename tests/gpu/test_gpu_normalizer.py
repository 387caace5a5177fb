"""The GPU normalizer serving chooses (sidecar/pipeline/normalizer.py → sidecar.pipeline.gpu.cuda.CupyNormalizer)
gives numpy's tensors within the parity tolerance, as host float32, from any thread. Needs CUDA.

Skips cleanly on machines without a usable GPU or without the `[gpu]` extra.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageDraw

from sidecar.config import Settings
from sidecar.domain import Document, InputSpec, Page
from sidecar.pipeline.analysis import Stages
from sidecar.pipeline.gpu import gpu_available, gpu_status
from sidecar.pipeline.gpu.resample import PARITY_MEAN_TOLERANCE, PARITY_TOLERANCE
from sidecar.pipeline.normalizer import NUMPY, Normalizer, choose_normalizer
from sidecar.pipeline.rules import RuleBook

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not gpu_available(), reason="no usable CUDA device (or cupy is not installed)"),
]

SIZES = [(384, 512), (620, 877), (1240, 1754), (512, 384), (301, 997), (40, 60)]
SPECS = [
    InputSpec(),
    InputSpec(channels=3),
    InputSpec(crop_page=True),  # the shipped models' spec
    InputSpec(channels=3, crop_page=True),
    InputSpec(autocontrast=False),
]


def document(width: int, height: int, seed: int, *, rgb: bool, photo: bool) -> npt.NDArray[np.uint8]:
    """A page of text-like lines; `photo`: the sheet lies on a dark table (what crop_page cuts out)."""
    rng = np.random.default_rng(seed)
    mode, paper = ("RGB", (250, 248, 240)) if rgb else ("L", 250)
    x0, y0, x1, y1 = (
        (int(width * 0.18), int(height * 0.12), int(width * 0.8), int(height * 0.9)) if photo else (0, 0, width, height)
    )
    image = Image.new(mode, (width, height), ((70, 60, 50) if rgb else 70) if photo else paper)
    draw = ImageDraw.Draw(image)
    draw.rectangle((x0, y0, x1, y1), fill=paper)
    w, h = x1 - x0, y1 - y0
    y = y0 + h // 10
    while y < y1 - h // 10:
        x = x0 + w // 10
        while x < x1 - w // 10:
            length = int(rng.integers(w // 40 + 2, w // 8 + 3))
            ink = (20, 30, 90) if rgb else int(rng.integers(10, 80))
            draw.rectangle((x, y, min(x + length, x1 - w // 10), y + max(2, h // 90)), fill=ink)
            x += length + w // 60 + 1
        y += max(4, h // 30)
    return np.asarray(image, dtype=np.uint8)


def pages() -> list[Page]:
    out = []
    for i, (w, h) in enumerate(SIZES):
        for rgb in (False, True):
            for photo in (False, True):
                out.append(Page(image=document(w, h, i, rgb=rgb, photo=photo), source_width=w, source_height=h))
    return out


@pytest.fixture(scope="module")
def gpu() -> Normalizer:
    return choose_normalizer("cuda")


def test_cuda_and_auto_choose_cupy_on_this_gpu(gpu: Normalizer) -> None:
    assert (gpu.name, gpu.device) == ("cupy", gpu_status().device)
    assert choose_normalizer("auto").name == "cupy"
    assert choose_normalizer("cpu") is NUMPY


@pytest.mark.parametrize("spec", SPECS, ids=repr)
def test_cupy_tensors_match_numpy(gpu: Normalizer, spec: InputSpec) -> None:
    for page in pages():
        got, want = gpu.normalize(page, spec), NUMPY.normalize(page, spec)
        assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.flags.c_contiguous
        assert got.shape == want.shape == (spec.channels, spec.height, spec.width)
        diff = np.abs(got - want)
        assert float(diff.max()) <= PARITY_TOLERANCE, page.image.shape
        assert float(diff.mean()) <= PARITY_MEAN_TOLERANCE, page.image.shape


def test_deskew_runs_on_the_cpu_bit_for_bit(gpu: Normalizer) -> None:
    page = pages()[2]
    spec = InputSpec(deskew=True)
    np.testing.assert_array_equal(gpu.normalize(page, spec), NUMPY.normalize(page, spec))


def test_executor_threads_get_the_same_tensors(gpu: Normalizer) -> None:
    sample = pages()
    spec = InputSpec(crop_page=True)
    alone = [gpu.normalize(p, spec) for p in sample]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            together = list(pool.map(lambda p: gpu.normalize(p, spec), sample))
            for a, b in zip(alone, together, strict=True):
                np.testing.assert_allclose(a, b, atol=1e-6)


def test_serving_stages_normalize_on_the_gpu() -> None:
    buffer = io.BytesIO()
    Image.fromarray(document(620, 877, 7, rgb=True, photo=True)).save(buffer, "PNG")
    settings = Settings(models={"device": "cuda"}, ocr={"enabled": False})  # type: ignore[arg-type]
    serving = Stages.for_serving(settings)
    assert serving.normalizer.name == "cupy"
    spec = InputSpec(crop_page=True)
    got = serving.analyse(Document(buffer.getvalue(), "a.png")).tensor(spec)
    want = Stages(settings, RuleBook({})).analyse(Document(buffer.getvalue(), "a.png")).tensor(spec)
    assert got.dtype == np.float32 and got.shape == want.shape
    assert float(np.abs(got - want).max()) <= PARITY_TOLERANCE
