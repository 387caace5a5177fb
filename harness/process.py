"""Run `python -m sidecar serve` as a real process and find its port from its JSON log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from harness.paths import ROOT


class SidecarProcess:
    def __init__(
        self,
        env: dict[str, str],
        args: tuple[str, ...] = (),
        keep_log: bool = True,
        *,
        command: Sequence[str] = (sys.executable, "-m", "sidecar"),
        cwd: Path = ROOT,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        """`keep_log=False`: after the "serving" line the log is drained unread, as a container runtime
        would (benchmarks: parsing ~100 JSON lines a second would cost the load generator's CPU).
        `command serve args` runs from `cwd` (tests of the wheel: its installed `doctriage-sidecar`, from
        outside the checkout) in `base_env` (default: this process's environment), the settings below, `env`."""
        self.keep_log = keep_log
        state = tempfile.mkdtemp(prefix="doctriage-state-")
        full_env = {
            **(os.environ if base_env is None else base_env),
            "DOCTRIAGE_DATA_DIR": str(ROOT),
            "DOCTRIAGE_SERVER__ADDRESS": "127.0.0.1:0",
            # Production defaults are auth on and the exporter on :9464; tests opt in to auth.
            "DOCTRIAGE_AUTH__ENABLED": "false",
            "DOCTRIAGE_RATE_LIMIT__ENABLED": "false",
            "DOCTRIAGE_METRICS__PORT": "0",
            # No clamd unless a test starts one (harness.clamd) and passes its address.
            "DOCTRIAGE_SCANNER__ENABLED": "false",
            # Runtime state and the review queue in a fresh directory, never the repo's var/.
            "DOCTRIAGE_STATE__DIR": state,
            # No shipped acceptance rule unless a test names one (harness.settings.make_settings).
            "DOCTRIAGE_DECISION__ACCEPTANCE_RULE_FILE": "",
            "DOCTRIAGE_REVIEW__PATH": str(Path(state) / "review.sqlite3"),
            **env,
        }
        self.proc = subprocess.Popen(
            [*command, "serve", *args],
            cwd=cwd,
            env=full_env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[dict[str, object]] = []
        # A reader thread drains stderr all the time: a full pipe would block the server's logging.
        self._new_line = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="sidecar-log-reader", daemon=True)
        self._reader.start()
        self.port = self._wait_for("serving", 60)["port"]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _read(self) -> None:
        stream: IO[str] = self.proc.stderr  # type: ignore[assignment]
        for line in stream:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            with self._new_line:
                self.lines.append(record)
                self._new_line.notify_all()
            if not self.keep_log and record.get("event") == "serving":
                while stream.read(1 << 16):
                    pass
                break
        with self._new_line:
            self._new_line.notify_all()

    def _wait_for(self, event: str, timeout: float) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        seen = 0
        with self._new_line:
            while True:
                for record in self.lines[seen:]:
                    if record.get("event") == event:
                        return record
                seen = len(self.lines)
                if not self._reader.is_alive():
                    raise RuntimeError(f"the sidecar exited with {self.proc.wait()} before {event!r}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(event)
                self._new_line.wait(min(left, 0.5))

    def rss_mib(self) -> float:
        """The server's resident memory now, in MiB (/proc)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS for the sidecar process")

    def wait(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
