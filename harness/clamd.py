"""A real clamd, started with the project's config and database through scripts/clamd.sh.

Each one runs from its own directory (its own unix socket), so test sessions, `make serve`, the
benchmarks and several instances at once never share a daemon. The pytest fixtures over it are in
tests/clamd_plugin.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from harness.paths import ROOT

SCRIPT = ROOT / "scripts" / "clamd.sh"


class ClamdProcess:
    """One clamd started through scripts/clamd.sh in `run_dir`."""

    def __init__(self, run_dir: Path, env: dict[str, str] | None = None) -> None:
        self.run_dir = run_dir
        self.env = {**os.environ, "CLAMD_VAR": str(run_dir), **(env or {})}

    @property
    def socket(self) -> Path:
        return self.run_dir / "clamd.sock"

    @property
    def address(self) -> str:
        return f"unix:{self.socket}"

    @property
    def pid(self) -> int:
        return int((self.run_dir / "clamd.pid").read_text().strip())

    def _script(self, command: str) -> None:
        result = subprocess.run(
            [str(SCRIPT), command], env=self.env, capture_output=True, text=True, timeout=90, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"scripts/clamd.sh {command} failed: {result.stdout}{result.stderr}")

    def start(self) -> ClamdProcess:
        self._script("start")
        return self

    def stop(self) -> None:
        self._script("stop")

    def freeze(self) -> None:
        """SIGSTOP: clamd keeps its socket but answers nothing (a real hang, not a fake)."""
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def is_running(self) -> bool:
        return subprocess.run([str(SCRIPT), "status"], env=self.env, capture_output=True, check=False).returncode == 0


def clamd_available() -> bool:
    return shutil.which("clamd") is not None or Path("/usr/sbin/clamd").exists()
