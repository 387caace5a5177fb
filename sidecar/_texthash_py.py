"""Pure-Python twin of sidecar._ext._texthash: same signature, same counts (exact integers).

Tokens are maximal runs of UTF-8 bytes that are ASCII letters/digits or any byte >= 0x80 (so
accented and non-Latin letters stay inside words) of the lower-cased text. Each token adds one
word unigram and its byte n-grams (n in [ngram_min, ngram_max]) of "<token>"; every feature is
hashed with FNV-1a 32-bit (word unigrams and n-grams use different offset bases), bucket =
hash % dim, sign = -1 when bit 31 of the hash is set.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FNV_PRIME = 16777619
WORD_BASIS = 2166136261
NGRAM_BASIS = 2166136261 ^ 0x5BD1E995
_MASK = 0xFFFFFFFF
_WORD_BYTES = frozenset([*range(ord("0"), ord("9") + 1), *range(ord("a"), ord("z") + 1), *range(0x80, 0x100)])


def _fnv1a(data: bytes, basis: int) -> int:
    h = basis
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & _MASK
    return h


def _add(counts: npt.NDArray[np.int32], h: int, dim: int) -> None:
    counts[h % dim] += -1 if h & 0x80000000 else 1


def hashed_counts(text: str, dim: int, ngram_min: int, ngram_max: int) -> npt.NDArray[np.int32]:
    """Signed hashed counts (int32, length dim) of word unigrams and byte n-grams of `text`."""
    if dim <= 0:
        raise ValueError("dim must be positive")
    counts = np.zeros(dim, dtype=np.int32)
    data = text.lower().encode("utf-8", "surrogatepass")
    n = len(data)
    i = 0
    while i < n:
        if data[i] not in _WORD_BYTES:
            i += 1
            continue
        j = i
        while j < n and data[j] in _WORD_BYTES:
            j += 1
        token = data[i:j]
        _add(counts, _fnv1a(token, WORD_BASIS), dim)
        padded = b"<" + token + b">"
        for size in range(max(1, ngram_min), ngram_max + 1):
            for k in range(len(padded) - size + 1):
                _add(counts, _fnv1a(padded[k : k + size], NGRAM_BASIS), dim)
        i = j
    return counts
