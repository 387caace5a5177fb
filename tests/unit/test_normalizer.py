"""The normalizer chosen at start-up (sidecar/pipeline/normalizer.py): numpy on the CPU for "auto" and
"cpu", a refusal for "cuda" without a GPU, and the analysis core using whichever it is given."""

from __future__ import annotations

import io
import sys

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

import sidecar.pipeline.gpu
from sidecar.config import Settings
from sidecar.domain import Document, InputSpec, Page
from sidecar.pipeline.analysis import Stages
from sidecar.pipeline.gpu import GpuStatus
from sidecar.pipeline.normalize import normalize_page
from sidecar.pipeline.normalizer import NUMPY, DeviceUnavailableError, Normalizer, choose_normalizer
from sidecar.pipeline.rules import RuleBook

NO_GPU = GpuStatus(False, "", "cupy is not installed (pip install '.[gpu]')")


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe says no GPU, whatever this machine has."""
    monkeypatch.setattr(sidecar.pipeline.gpu, "gpu_status", lambda: NO_GPU)


@pytest.mark.usefixtures("no_gpu")
@pytest.mark.parametrize("device", ["auto", "cpu"])
def test_numpy_without_a_gpu(device: str) -> None:
    normalizer = choose_normalizer(device)
    assert normalizer is NUMPY
    assert (normalizer.name, normalizer.device) == ("numpy", "cpu")


@pytest.mark.usefixtures("no_gpu")
def test_cuda_without_a_gpu_refuses_to_start() -> None:
    with pytest.raises(DeviceUnavailableError, match=r'models.device = "cuda".*cupy is not installed'):
        choose_normalizer("cuda")
    with pytest.raises(DeviceUnavailableError):
        Stages.for_serving(Settings(models={"device": "cuda"}, ocr={"enabled": False}))  # type: ignore[arg-type]


def test_cpu_never_probes_the_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    def probe() -> GpuStatus:
        raise AssertionError("probed")

    monkeypatch.setattr(sidecar.pipeline.gpu, "gpu_status", probe)
    assert choose_normalizer("cpu") is NUMPY


def test_a_gpu_that_cannot_normalize_is_numpy_under_auto_and_fatal_under_cuda(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sidecar.pipeline.gpu, "gpu_status", lambda: GpuStatus(True, "Test GPU", ""))
    monkeypatch.setitem(
        sys.modules, "sidecar.pipeline.gpu.cuda", None
    )  # the import fails, as a broken CUDA install would
    assert choose_normalizer("auto") is NUMPY
    with pytest.raises(DeviceUnavailableError, match="CuPy normalize failed"):
        choose_normalizer("cuda")


def test_unknown_device_is_refused() -> None:
    with pytest.raises(ValueError, match="auto, cpu, cuda"):
        choose_normalizer("tpu")


def test_numpy_normalizer_is_normalize_page_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    for image in (rng.integers(0, 256, (900, 700), np.uint8), rng.integers(0, 256, (500, 820, 3), np.uint8)):
        page = Page(image=image, source_width=image.shape[1], source_height=image.shape[0])
        for spec in (InputSpec(), InputSpec(channels=3, crop_page=True), InputSpec(deskew=True)):
            np.testing.assert_array_equal(NUMPY.normalize(page, spec), normalize_page(page, spec))


class Recording:
    name, device = "recording", "test"

    def __init__(self) -> None:
        self.calls: list[InputSpec] = []

    def normalize(self, page: Page, spec: InputSpec) -> npt.NDArray[np.float32]:
        self.calls.append(spec)
        return normalize_page(page, spec)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (300, 400), 255).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_analysis_core_normalizes_with_the_stages_normalizer() -> None:
    settings = Settings(ocr={"enabled": False})  # type: ignore[arg-type]
    assert Stages(settings, RuleBook({})).normalizer is NUMPY  # training and offline callers: numpy
    recording = Recording()
    normalizer: Normalizer = recording  # the protocol
    analysis = Stages(settings, RuleBook({}), normalizer=normalizer).analyse(Document(_png(), "a.png"))
    tensor = analysis.tensor(InputSpec())
    assert analysis.tensor(InputSpec()) is tensor and recording.calls == [InputSpec()]
    assert tensor.dtype == np.float32 and tensor.shape == (1, 256, 192)


@pytest.mark.usefixtures("no_gpu")
def test_serving_stages_choose_from_models_device() -> None:
    for device in ("auto", "cpu"):
        stages = Stages.for_serving(Settings(models={"device": device}, ocr={"enabled": False}))  # type: ignore[arg-type]
        assert stages.normalizer is NUMPY
