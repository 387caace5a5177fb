"""The one place that picks the compiled hot path or its pure-Python twin.

DOCTRIAGE_NO_EXTENSIONS=1 forces the Python twin (as yarl and aiohttp do).
"""

from __future__ import annotations

import os

COMPILED = False
if not os.environ.get("DOCTRIAGE_NO_EXTENSIONS"):
    try:
        from sidecar._ext._hotpath import sniff_and_digest

        COMPILED = True
    except ImportError:  # the build is absent: the twin is slower but identical
        pass

if not COMPILED:
    from sidecar._hotpath_py import sniff_and_digest

IMPLEMENTATION = "compiled" if COMPILED else "python"

__all__ = ["COMPILED", "IMPLEMENTATION", "sniff_and_digest"]
