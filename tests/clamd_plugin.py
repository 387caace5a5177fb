"""pytest plugin: a real clamd for the tests (harness.clamd.ClamdProcess: the project's config and database).

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
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.clamd import ClamdProcess, clamd_available


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
