"""A benchmark server as a child process: started with a --port-file it writes once it serves, its
output kept in a log file (the tail explains a failed start), stopped with SIGTERM then SIGKILL."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from harness.paths import ROOT


class ServerFailed(RuntimeError):
    pass


class Server:
    def __init__(self, argv: list[str], *, env: dict[str, str] | None = None, timeout_s: float = 120.0) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="doctriage-compare-"))
        self.port_file = self.dir / "port"
        self.log = self.dir / "server.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*argv, "--port-file", str(self.port_file)],
                cwd=ROOT,
                env={**os.environ, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends every process it started
            )
        deadline = time.monotonic() + timeout_s
        while not self.port_file.is_file():
            if self.proc.poll() is not None:
                raise ServerFailed(f"exited with {self.proc.returncode}: {self.log_tail()}")
            if time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise ServerFailed(f"not serving after {timeout_s:.0f} s: {tail}")
            time.sleep(0.1)
        self.port = int(self.port_file.read_text())

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.is_file() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
