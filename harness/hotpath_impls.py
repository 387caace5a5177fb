"""The two implementations of the hot path, for tests that must run against both."""

from __future__ import annotations

import os
from types import ModuleType

import pytest

from sidecar import _hotpath_py

_compiled: ModuleType | None
try:
    from sidecar._ext import _hotpath as _compiled
except ImportError:  # no build: the compiled parameter is skipped (and fails in CI, see test_hotpath)
    _compiled = None

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
COMPILED: ModuleType | None = _compiled

IMPLEMENTATIONS = [
    pytest.param(_hotpath_py, id="python"),
    pytest.param(
        _compiled,
        id="compiled",
        marks=pytest.mark.skipif(_compiled is None and not IN_CI, reason="sidecar._ext._hotpath is not built"),
    ),
]
