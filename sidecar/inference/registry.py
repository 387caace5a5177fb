"""Model registry over `models/<name>/<version>/`: which versions exist, which are loaded.

`load` builds the session, warms it up and health-checks it on a known input (a mid-grey
page, and an empty text row for text models) at batch sizes 1 and `warmup_batch`: the
outputs must have the manifest's shape, be finite and calibrate to probabilities. Only
then does the version become READY. A broken model file fails its own load (FAILED, with
the error) and leaves every serving version untouched, including an older READY session
of the same version being reloaded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from sidecar.config import ModelSettings
from sidecar.errors import FailedPrecondition, NotFound, Unavailable
from sidecar.models.calibration import calibrate, ood_score
from sidecar.models.runtime import OnnxModel

log = structlog.get_logger(__name__)


class ModelState(StrEnum):
    LOADING = "LOADING"
    READY = "READY"
    FAILED = "FAILED"
    UNLOADED = "UNLOADED"


@dataclass(slots=True)
class ModelEntry:
    name: str
    version: str
    path: Path
    state: ModelState = ModelState.UNLOADED
    model: OnnxModel | None = None
    error: str = ""


def health_check(model: OnnxModel, batch: int = 4) -> None:
    """Run the model on a known input; raise FailedPrecondition when its answer is not sane."""
    spec = model.manifest.input_spec
    labels = len(model.manifest.labels)
    for n in sorted({1, max(1, batch)}):
        images = np.zeros((n, 1, spec.height, spec.width), np.float32)
        text = np.zeros((n, model.text_dim), np.float32) if model.text_dim else None
        out = model.run(images, text)
        if out.logits.shape != (n, labels):
            raise FailedPrecondition(f"logits shape {out.logits.shape}, expected {(n, labels)}")
        if not np.isfinite(out.logits).all():
            raise FailedPrecondition("the model answers non-finite logits")
        probs = calibrate(out.logits, model.manifest.calibration)
        if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4):
            raise FailedPrecondition("calibrated probabilities do not sum to 1")
        scores = ood_score(out.logits, out.embedding, model.manifest.ood)
        if not np.isfinite(scores).all():
            raise FailedPrecondition("the OOD score is not finite")


class ModelRegistry:
    def __init__(self, settings: ModelSettings, warmup_batch: int = 4) -> None:
        self.settings = settings
        self.warmup_batch = warmup_batch
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], ModelEntry] = {}
        # Called (name, version, model or None) after a version becomes READY or stops serving.
        self.listeners: list[Callable[[str, str, OnnxModel | None], None]] = []
        self.discover()

    def discover(self) -> None:
        """Index every `<root>/<name>/<version>/manifest.json` (loads nothing)."""
        for manifest in sorted(self.settings.root.glob("*/*/manifest.json")):
            key = (manifest.parent.parent.name, manifest.parent.name)
            with self._lock:
                self._entries.setdefault(key, ModelEntry(key[0], key[1], manifest.parent))

    def entries(self) -> list[ModelEntry]:
        with self._lock:
            return sorted(self._entries.values(), key=lambda e: (e.name, e.version))

    def entry(self, name: str, version: str) -> ModelEntry:
        with self._lock:
            entry = self._entries.get((name, version))
        if entry is None:
            self.discover()  # a version copied in after startup
            with self._lock:
                entry = self._entries.get((name, version))
        if entry is None:
            raise NotFound(f"no model {name}/{version} under {self.settings.root}")
        return entry

    def load(self, name: str, version: str) -> ModelEntry:
        """Load (or reload) a version; on failure the entry is FAILED unless an older session still serves."""
        entry = self.entry(name, version)
        with self._lock:
            serving = entry.model if entry.state is ModelState.READY else None
            if serving is None:
                entry.state = ModelState.LOADING
            entry.error = ""
        try:
            model = OnnxModel(entry.path, device=self.settings.device, intra_op_threads=self.settings.intra_op_threads)
            if (model.manifest.name, model.manifest.version) != (name, version):
                raise FailedPrecondition(
                    f"manifest says {model.manifest.name}/{model.manifest.version}, the folder {name}/{version}"
                )
            health_check(model, self.warmup_batch)
        except Exception as exc:  # noqa: BLE001 - a broken model fails its own load, nothing else
            error = f"{type(exc).__name__}: {exc}"[:500]
            with self._lock:
                entry.error = error
                if serving is None:
                    entry.state, entry.model = ModelState.FAILED, None
            log.error("model_load_failed", model=f"{name}/{version}", error=error, still_serving=serving is not None)
            return entry
        with self._lock:
            entry.model, entry.state = model, ModelState.READY
        log.info("model_loaded", model=model.key, provider=model.provider)
        self._notify(name, version, model)
        return entry

    def unload(self, name: str, version: str) -> ModelEntry:
        entry = self.entry(name, version)
        with self._lock:
            entry.model, entry.state, entry.error = None, ModelState.UNLOADED, ""
        log.info("model_unloaded", model=f"{name}/{version}")
        self._notify(name, version, None)
        return entry

    def _notify(self, name: str, version: str, model: OnnxModel | None) -> None:
        for listener in self.listeners:
            listener(name, version, model)

    def get(self, name: str, version: str) -> OnnxModel:
        with self._lock:
            entry = self._entries.get((name, version))
        if entry is None or entry.model is None or entry.state is not ModelState.READY:
            raise Unavailable(f"model {name}/{version} is not loaded")
        return entry.model

    def find(self, name: str, version: str) -> OnnxModel | None:
        with self._lock:
            entry = self._entries.get((name, version))
            return entry.model if entry is not None and entry.state is ModelState.READY else None

    def ready(self) -> list[OnnxModel]:
        with self._lock:
            return [e.model for e in self._entries.values() if e.model is not None and e.state is ModelState.READY]

    def ready_versions(self, name: str) -> set[str]:
        with self._lock:
            return {v for (n, v), e in self._entries.items() if n == name and e.state is ModelState.READY}

    def drift_reference(self, name: str, version: str) -> Mapping[str, Any] | None:
        """The training-time feature distributions a loaded version's drift is measured against."""
        model = self.find(name, version)
        if model is None or model.manifest.drift_reference is None:
            return None
        reference = model.manifest.to_dict().get("drift_reference")
        return reference if isinstance(reference, Mapping) else None

    def on_gpu(self, name: str, version: str) -> bool:
        """Whether the version runs on CUDA (the cost of its predictions is priced as GPU time)."""
        model = self.find(name, version)
        return model is not None and model.provider == "CUDAExecutionProvider"

    def device(self) -> str:
        """ "cuda" when a loaded version runs on the CUDA provider, else "cpu"."""
        return "cuda" if any(m.provider == "CUDAExecutionProvider" for m in self.ready()) else "cpu"
