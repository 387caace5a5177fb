"""Model registry over `models/<name>/<version>/`: which versions exist, which are loaded.

(Foundation version: discovers versions and loads them with states; live load/unload
through Admin, warm-up and health checks arrive with the inference-engine issue.)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import structlog

from sidecar.config import ModelSettings
from sidecar.errors import NotFound, Unavailable
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


class ModelRegistry:
    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], ModelEntry] = {}
        self.discover()

    def discover(self) -> None:
        """Index every `<root>/<name>/<version>/manifest.json` (loads nothing)."""
        for manifest in sorted(self.settings.root.glob("*/*/manifest.json")):
            key = (manifest.parent.parent.name, manifest.parent.name)
            with self._lock:
                self._entries.setdefault(key, ModelEntry(key[0], key[1], manifest.parent))

    def entries(self) -> list[ModelEntry]:
        with self._lock:
            return list(self._entries.values())

    def load(self, name: str, version: str) -> ModelEntry:
        with self._lock:
            entry = self._entries.get((name, version))
            if entry is None:
                raise NotFound(f"no model {name}/{version} under {self.settings.root}")
            entry.state, entry.error = ModelState.LOADING, ""
        try:
            model = OnnxModel(entry.path, device=self.settings.device, intra_op_threads=self.settings.intra_op_threads)
        except Exception as exc:  # noqa: BLE001 - a broken model fails its own load, nothing else
            with self._lock:
                entry.state, entry.error, entry.model = ModelState.FAILED, f"{type(exc).__name__}: {exc}", None
            log.error("model_load_failed", model=f"{name}/{version}", error=entry.error)
            return entry
        with self._lock:
            entry.model, entry.state = model, ModelState.READY
        log.info("model_loaded", model=model.key, provider=model.provider)
        return entry

    def get(self, name: str, version: str) -> OnnxModel:
        with self._lock:
            entry = self._entries.get((name, version))
        if entry is None or entry.model is None or entry.state is not ModelState.READY:
            raise Unavailable(f"model {name}/{version} is not loaded")
        return entry.model

    def ready(self) -> list[OnnxModel]:
        with self._lock:
            return [e.model for e in self._entries.values() if e.model is not None and e.state is ModelState.READY]
