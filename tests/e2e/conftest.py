"""What the end-to-end tests share: a real `python -m sidecar serve` process on the tiny models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.process import SidecarProcess


@pytest.fixture(scope="module")
def sidecar(models_root: Path) -> Iterator[SidecarProcess]:
    """One sidecar process per test module (tiny models, auth, rate limit and clamd off)."""
    process = SidecarProcess({"DOCTRIAGE_MODELS__ROOT": str(models_root)})
    yield process
    process.kill()
