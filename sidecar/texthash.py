"""Hashed text features for models that read text (doc-classifier v2.4).

The token hashing is compiled (sidecar._ext._texthash) or its pure-Python twin, as
sidecar/hotpath.py chooses (DOCTRIAGE_NO_EXTENSIONS=1 forces Python). `text_features` is the one
feature function training and serving share: signed hashed counts -> sign(x)*log1p(|x|) -> L2.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sidecar.hotpath import COMPILED, IMPLEMENTATION, hashed_counts

DEFAULT_DIM = 4096
DEFAULT_NGRAM_MIN = 3
DEFAULT_NGRAM_MAX = 4
# Text beyond this many characters adds little and costs hashing time.
DEFAULT_MAX_CHARS = 20_000
HASHING_SPEC: dict[str, object] = {
    "method": "hashing_trick",
    "dim": DEFAULT_DIM,
    "hash": "fnv1a_32 over UTF-8 of lower-cased text; word basis 2166136261, n-gram basis 2166136261^0x5BD1E995",
    "tokens": "maximal runs of bytes [0-9a-z] or >= 0x80",
    "features": "word unigrams + byte n-grams of '<token>'",
    "ngram_min": DEFAULT_NGRAM_MIN,
    "ngram_max": DEFAULT_NGRAM_MAX,
    "bucket": "hash % dim",
    "sign": "-1 if hash bit 31 set else +1",
    "transform": "sign(x)*log1p(|x|), then L2-normalized; no text -> all zeros",
    "max_chars": DEFAULT_MAX_CHARS,
}


def text_features(
    text: str | None,
    dim: int = DEFAULT_DIM,
    ngram_min: int = DEFAULT_NGRAM_MIN,
    ngram_max: int = DEFAULT_NGRAM_MAX,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> npt.NDArray[np.float32]:
    """One row of the `text` input: an all-zero row means "no text"."""
    if not text:
        return np.zeros(dim, dtype=np.float32)
    counts: npt.NDArray[np.float64] = np.asarray(hashed_counts(text[:max_chars], dim, ngram_min, ngram_max), np.float64)
    values = np.sign(counts) * np.log1p(np.abs(counts))
    norm = float(np.sqrt(np.dot(values, values)))
    if norm == 0.0:
        return np.zeros(dim, dtype=np.float32)
    return (values / norm).astype(np.float32)


__all__ = ["COMPILED", "HASHING_SPEC", "IMPLEMENTATION", "hashed_counts", "text_features"]
