"""pytest plugin: a real clamd for the tests, started with the project's config and database.

Register it once in tests/conftest.py (`pytest_plugins = ["tests.clamd_plugin"]`). Each clamd
runs from its own temporary directory (its own unix socket), so test sessions, `make serve`
and several instances in one session never share a daemon. Every clamd started here is
stopped at the end of the session at the latest.

Fixtures:
- `clamd` (session): a running daemon; `.address` is ready for ScannerSettings.
- `clamd_factory` (session): `start(**env)` another daemon, e.g. one to stop or freeze, or
  one with a smaller StreamMaxLength (`CLAMD_STREAM_MAX_LENGTH="1M"`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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


@pytest.fixture(scope="session")
def clamd_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., ClamdProcess]]:
    if not clamd_available():
        pytest.fail("clamd is not installed: `make system` installs clamav-daemon")
    started: list[ClamdProcess] = []

    def start(**env: str) -> ClamdProcess:
        # Short paths: a unix socket path must stay under 108 bytes.
        process = ClamdProcess(tmp_path_factory.mktemp("clamd"), env).start()
        started.append(process)
        return process

    yield start
    for process in started:
        with contextlib.suppress(OSError, ValueError):  # already gone
            process.thaw()
    # clamd takes ~1.5 s to shut down; stop them side by side.
    with ThreadPoolExecutor(max_workers=max(1, len(started))) as pool:
        list(pool.map(ClamdProcess.stop, started))


@pytest.fixture(scope="session")
def clamd(clamd_factory: Callable[..., ClamdProcess]) -> ClamdProcess:
    return clamd_factory()
