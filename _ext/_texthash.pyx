# cython: language_level=3
"""Compiled token hashing for the text features (twin: sidecar/_texthash_py.py, same counts).

The text is lower-cased and UTF-8 encoded with the GIL held; tokenizing and hashing run without it.
"""

import numpy as np

from libc.stdint cimport int32_t, uint32_t

cdef uint32_t FNV_PRIME = 16777619U
cdef uint32_t WORD_BASIS = 2166136261U
cdef uint32_t NGRAM_BASIS = 2166136261U ^ 0x5BD1E995U


cdef inline bint _is_word(unsigned char b) noexcept nogil:
    return (b >= 48 and b <= 57) or (b >= 97 and b <= 122) or b >= 0x80


cdef inline uint32_t _fnv1a(const unsigned char* data, Py_ssize_t start, Py_ssize_t stop, uint32_t h) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(start, stop):
        h = (h ^ data[k]) * FNV_PRIME
    return h


cdef inline void _add(int32_t* counts, uint32_t h, uint32_t dim) noexcept nogil:
    if h & 0x80000000U:
        counts[h % dim] -= 1
    else:
        counts[h % dim] += 1


cdef void _hash_all(const unsigned char* data, Py_ssize_t n, int32_t* counts, uint32_t dim,
                    unsigned char* padded, int ngram_min, int ngram_max) noexcept nogil:
    cdef Py_ssize_t i = 0, j, k, plen
    cdef int size
    while i < n:
        if not _is_word(data[i]):
            i += 1
            continue
        j = i
        while j < n and _is_word(data[j]):
            j += 1
        _add(counts, _fnv1a(data, i, j, WORD_BASIS), dim)
        plen = j - i + 2
        padded[0] = 60  # "<"
        for k in range(j - i):
            padded[k + 1] = data[i + k]
        padded[plen - 1] = 62  # ">"
        for size in range(ngram_min if ngram_min > 1 else 1, ngram_max + 1):
            for k in range(plen - size + 1):
                _add(counts, _fnv1a(padded, k, k + size, NGRAM_BASIS), dim)
        i = j


def hashed_counts(str text, int dim, int ngram_min, int ngram_max):
    """Signed hashed counts (int32, length dim) of word unigrams and byte n-grams of `text`."""
    if dim <= 0:
        raise ValueError("dim must be positive")
    cdef bytes data = text.lower().encode("utf-8", "surrogatepass")
    cdef const unsigned char* raw = data
    cdef Py_ssize_t n = len(data)
    counts = np.zeros(dim, dtype=np.int32)
    cdef int32_t[::1] view = counts
    padded_buf = bytearray(n + 2)
    cdef unsigned char[::1] padded = padded_buf
    with nogil:
        _hash_all(raw, n, &view[0], <uint32_t>dim, &padded[0], ngram_min, ngram_max)
    return counts
