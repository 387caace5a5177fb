"""What every ONNX model the sidecar runs shares: session options, and one instance per encoder."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import onnxruntime as ort


def session_options(intra_op_threads: int = 1) -> ort.SessionOptions:
    """`intra_op_threads` threads, one inter-op thread, spinning off (spinning threads halve a serial
    caller's throughput on small machines), every graph optimisation."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


class Verified(Protocol):
    def verify(self) -> None: ...


_V = TypeVar("_V", bound=Verified)
_shared: dict[tuple[object, Path], Any] = {}
_shared_lock = threading.Lock()


def shared_instance(kind: Callable[..., _V], directory: Path, **kwargs: Any) -> _V:
    """One verified instance of `kind` per directory, shared by every model version that reads it
    (the pretrained encoders: loading and verifying one costs a second and ~100 MB)."""
    key = (kind, directory.resolve())
    with _shared_lock:
        hit = _shared.get(key)
        if hit is None:
            hit = kind(key[1], **kwargs)
            hit.verify()
            _shared[key] = hit
        return hit
