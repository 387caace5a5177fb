"""Runtime state changed through Admin (thresholds, traffic split, loaded models), persisted.

One JSON file, `<state.dir>/runtime-state.json`, replaced atomically (write a temporary
file, fsync, rename, fsync the directory), so a crash leaves the old or the new state,
never half of one. At startup the persisted state wins over the configuration file's
initial values: an operator's change survives a restart.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

FILENAME = "runtime-state.json"


class StateStore:
    def __init__(self, directory: Path) -> None:
        self.path = directory / FILENAME
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {}
        if self.path.is_file():
            try:
                self._data = json.loads(self.path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                # The file is only ever renamed into place whole, so this means someone edited it.
                log.error("runtime_state_unreadable", path=str(self.path), error=str(exc))
                self._data = {}

    def get(self, key: str) -> Any:
        with self._lock:
            return self._data.get(key)

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        with tmp.open("w") as f:
            json.dump(self._data, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
