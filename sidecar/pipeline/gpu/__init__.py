"""The optional GPU path: CuPy resize + normalize, ONNX Runtime CUDA through IOBinding.

Nothing here imports CuPy or onnxruntime-gpu at module import: the CPU install
(`pip install .`) never has them. `gpu_available()` is the one probe; only when
it returns True may a caller import `sidecar.pipeline.gpu.cuda`. Serving reaches this path
through `sidecar.pipeline.normalizer.choose_normalizer(settings.models.device)`.

Install with the `[gpu]` extra (CUDA 13: cupy-cuda13x + onnxruntime-gpu ≥ 1.27),
see docs/preprocessing.md; onnxruntime (CPU) must be removed first, the two
wheels share one package directory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

_probe_lock = threading.Lock()
_probe: GpuStatus | None = None


@dataclass(frozen=True, slots=True)
class GpuStatus:
    available: bool
    device: str  # "NVIDIA H100 80GB HBM3" or "" when none
    reason: str  # why not, when not available ("cupy not installed", "no CUDA device", ...)


def gpu_status() -> GpuStatus:
    """Probe once per process; never raises."""
    global _probe
    with _probe_lock:
        if _probe is None:
            _probe = _detect()
        return _probe


def gpu_available() -> bool:
    return gpu_status().available


def _detect() -> GpuStatus:
    try:
        import cupy
    except ImportError:
        return GpuStatus(False, "", "cupy is not installed (pip install '.[gpu]')")
    except Exception as exc:  # noqa: BLE001 - a broken CUDA install must not take the sidecar down
        return GpuStatus(False, "", f"cupy failed to import: {type(exc).__name__}")
    try:
        if not cupy.is_available():
            return GpuStatus(False, "", "no usable CUDA device")
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"]
        return GpuStatus(True, name.decode() if isinstance(name, bytes) else str(name), "")
    except Exception as exc:  # noqa: BLE001
        return GpuStatus(False, "", f"CUDA probe failed: {type(exc).__name__}")
