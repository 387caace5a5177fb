"""The one place that picks the compiled hot path or its pure-Python twin.

DOCTRIAGE_NO_EXTENSIONS=1 forces the Python twin (as yarl and aiohttp do).
Both implementations export the same functions with the same results:

- `sniff_and_digest(data) -> (kind | None, hex sha256)`
- `inspect_bytes(data) -> RawInspection`: sniff, structural walk and digest in one call.
- `hashed_counts(text, dim, ngram_min, ngram_max)`: signed hashed token counts (the text models'
  features; `sidecar.texthash.text_features` turns them into a model input row).
"""

from __future__ import annotations

import os

from sidecar._hotpath_py import RawInspection

COMPILED = False
if not os.environ.get("DOCTRIAGE_NO_EXTENSIONS"):
    try:
        from sidecar._ext._hotpath import inspect_bytes, sniff_and_digest
        from sidecar._ext._texthash import hashed_counts

        COMPILED = True
    except ImportError:  # the build is absent: the twin is slower but identical
        pass

if not COMPILED:
    from sidecar._hotpath_py import inspect_bytes, sniff_and_digest
    from sidecar._texthash_py import hashed_counts

IMPLEMENTATION = "compiled" if COMPILED else "python"

__all__ = ["COMPILED", "IMPLEMENTATION", "RawInspection", "hashed_counts", "inspect_bytes", "sniff_and_digest"]
