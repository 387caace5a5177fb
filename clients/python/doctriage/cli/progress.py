"""A one-line progress bar on stderr, drawn only on a terminal.

Hand-written rather than a dependency: the `doctriage` distribution is what host services install as a
library, and a bar for one CLI command is not worth an extra package in every one of them. It needs
a count, a rate, an ETA and to step aside while result rows are printed; nothing more.
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import TextIO

REDRAW_EVERY_S = 0.1


class Progress:
    """Thread-safe: `advance` is called from worker threads, `print` from the main one."""

    def __init__(self, total: int, stream: TextIO, *, enabled: bool, label: str = "classifying") -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self.label = label
        self.done = 0
        self.not_classified = 0
        self._started = time.monotonic()
        self._drawn_at = 0.0
        self._shown = False
        self._lock = threading.Lock()

    def advance(self, *, classified: bool) -> None:
        with self._lock:
            self.done += 1
            self.not_classified += not classified
            now = time.monotonic()
            if self.enabled and (now - self._drawn_at >= REDRAW_EVERY_S or self.done == self.total):
                self._draw(now)

    def print(self, line: str, out: TextIO) -> None:
        """Print a result row on `out` without tearing the bar (it is redrawn below the row)."""
        with self._lock:
            shares_terminal = self._shown and _isatty(out)
            if shares_terminal:
                self._clear()
            out.write(line + "\n")
            out.flush()
            if shares_terminal:
                self._draw(time.monotonic())

    def close(self) -> None:
        with self._lock:
            if self._shown:
                self._clear()
            self.enabled = False

    def _clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()
        self._shown = False

    def _draw(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-6)
        rate = self.done / elapsed
        left = self.total - self.done
        eta = f"ETA {_duration(left / rate)}" if rate > 0 and left else f"{_duration(elapsed)}"
        refused = f"  {self.not_classified} not classified" if self.not_classified else ""
        text = f"{self.done}/{self.total}{refused}  {rate:.1f}/s  {eta}"
        columns = shutil.get_terminal_size((80, 24)).columns
        width = max(10, min(40, columns - len(self.label) - len(text) - 6))
        filled = width * self.done // max(self.total, 1)
        line = f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {text}"
        self.stream.write("\r" + line[: columns - 1] + "\x1b[K")
        self.stream.flush()
        self._drawn_at, self._shown = now, True


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
