"""Where pages are normalized: numpy on the CPU, or CuPy on a GPU. Chosen once, at start-up.

`choose_normalizer(settings.models.device)` runs when the server starts (the sidecar/hotpath.py
pattern: one choice, reported in the start-up log line and in Admin.GetStatus) and the result is
handed to the analysis core (`Stages(..., normalizer=...)`). Every other caller (training, offline
calibration, tests) keeps the default, `NUMPY`: today's `normalize_page`, bit for bit.

Both give the float32 C x H x W host tensor the batcher stacks. The CuPy normalizer matches
`normalize_page` within `sidecar.pipeline.gpu.resample.PARITY_TOLERANCE` (not bit for bit: Pillow's
fixed-point rounding is not reproduced); a spec with `deskew` is normalized on the CPU.
"""

from __future__ import annotations

from typing import Protocol, get_args

import numpy as np
import numpy.typing as npt
import structlog

from sidecar.config import Device
from sidecar.domain import InputSpec, Page
from sidecar.pipeline.normalize import normalize_page

DEVICES: tuple[str, ...] = get_args(Device)

log = structlog.get_logger(__name__)


class Normalizer(Protocol):
    """A decoded page → the tensor `spec` asks for (the contract of `normalize_page`)."""

    @property
    def name(self) -> str:
        """ "numpy" or "cupy" (reported by GetStatus)."""
        ...

    @property
    def device(self) -> str:
        """ "cpu" or the GPU's name."""
        ...

    def normalize(self, page: Page, spec: InputSpec) -> npt.NDArray[np.float32]:
        """float32 C x H x W on the host, C = spec.channels. Thread-safe."""
        ...


class NumpyNormalizer:
    """`normalize_page` itself: the CPU path, and the tensors every model was trained on."""

    name = "numpy"
    device = "cpu"

    def normalize(self, page: Page, spec: InputSpec) -> npt.NDArray[np.float32]:
        return normalize_page(page, spec)


NUMPY = NumpyNormalizer()


class DeviceUnavailableError(RuntimeError):
    """`device = "cuda"` was asked for and no usable GPU is there: the sidecar does not start."""


def choose_normalizer(device: str) -> Normalizer:
    """ "cpu" → numpy; "auto" → CuPy when a GPU is usable, else numpy; "cuda" → CuPy or
    DeviceUnavailableError. A GPU normalizer is tried once on a small page before it is returned,
    so a broken CUDA install fails here (or, under "auto", falls back to numpy), not on a request."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    if device == "cpu":
        return NUMPY
    from sidecar.pipeline.gpu import gpu_status

    status = gpu_status()
    reason = status.reason
    if status.available:
        try:
            from sidecar.pipeline.gpu.cuda import CupyNormalizer

            normalizer = CupyNormalizer(status.device)
            _self_test(normalizer)
            return normalizer
        except Exception as exc:  # noqa: BLE001 - under "auto" a GPU that cannot normalize means numpy
            reason = f"CuPy normalize failed: {type(exc).__name__}: {exc}"
            log.warning("gpu_normalizer_failed", reason=reason)
    if device == "cuda":
        raise DeviceUnavailableError(
            f'models.device = "cuda" but the GPU cannot be used ({reason}); '
            'install the [gpu] extra on a CUDA machine (docs/preprocessing.md), or set models.device = "auto" or "cpu"'
        )
    return NUMPY


def _self_test(normalizer: Normalizer) -> None:
    """One small page through `normalizer`: the CUDA kernels compile now, and the tensor is the
    CPU tensor within the parity tolerance."""
    from sidecar.pipeline.gpu.resample import PARITY_TOLERANCE

    rows = np.linspace(0, 255, 300, dtype=np.float32)
    image = np.asarray(np.add.outer(rows, rows[:200]) / 2, dtype=np.uint8)
    page = Page(image=image, source_width=200, source_height=300)
    spec = InputSpec()
    got = normalizer.normalize(page, spec)
    want = normalize_page(page, spec)
    if got.shape != want.shape or got.dtype != np.float32:
        raise RuntimeError(f"tensor {got.dtype}{got.shape}, expected float32{want.shape}")
    worst = float(np.abs(got - want).max())
    if worst > PARITY_TOLERANCE:
        raise RuntimeError(f"tensor differs from numpy's by {worst:.4f} (> {PARITY_TOLERANCE})")
