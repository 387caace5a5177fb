# cython: language_level=3, boundscheck=True, wraparound=False, initializedcheck=True
"""Compiled hot path: sniff, structural walk and digest of a document in one call.

A port of `sidecar/_hotpath_py/` (the readable specification; keep them in step — the
property tests compare both). The walk runs on a raw pointer with the GIL released; every
read is preceded by an explicit check against the length, so no input reads past the buffer.
SHA-256 goes through hashlib, which releases the GIL itself for buffers this size.
"""

import hashlib

from libc.string cimport memchr, memcmp

from sidecar._hotpath_py import ACTIVE_CONTENT, EMBEDDED_FILE, ENCRYPTED, POLYGLOT, TRAILING_DATA, RawInspection

cdef extern from *:
    """
    #include <stdint.h>
    #include <stddef.h>

    static uint32_t dt_crc_table[256];

    static void dt_crc_init(void) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            dt_crc_table[i] = c;
        }
    }

    static uint32_t dt_crc_bytes(uint32_t crc, const unsigned char *p, size_t n) {
        uint32_t c = ~crc;
        while (n--) c = dt_crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
        return ~c;
    }

    #if defined(__x86_64__) && defined(__GNUC__)
    #include <immintrin.h>
    /* CRC-32 (gzip polynomial) by carry-less multiplication folding: Intel's "Fast CRC computation
       for generic polynomials using PCLMULQDQ", with the constants zlib/Chromium use. `crc` is
       the inverted running state; `n` is a multiple of 16 and at least 64. */
    __attribute__((target("pclmul,sse4.1")))
    static uint32_t dt_crc_fold(const unsigned char *buf, size_t n, uint32_t crc) {
        const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596LL, 0x0154442bd4LL);
        const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL);
        const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124LL);
        const __m128i poly = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL);
        __m128i x0, x1, x2, x3, x4, x5, x6, x7, x8, y5, y6, y7, y8;
        x1 = _mm_loadu_si128((const __m128i *)(buf + 0x00));
        x2 = _mm_loadu_si128((const __m128i *)(buf + 0x10));
        x3 = _mm_loadu_si128((const __m128i *)(buf + 0x20));
        x4 = _mm_loadu_si128((const __m128i *)(buf + 0x30));
        x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
        x0 = k1k2;
        buf += 64; n -= 64;
        while (n >= 64) {
            x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
            x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
            x7 = _mm_clmulepi64_si128(x3, x0, 0x00);
            x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
            x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
            x2 = _mm_clmulepi64_si128(x2, x0, 0x11);
            x3 = _mm_clmulepi64_si128(x3, x0, 0x11);
            x4 = _mm_clmulepi64_si128(x4, x0, 0x11);
            y5 = _mm_loadu_si128((const __m128i *)(buf + 0x00));
            y6 = _mm_loadu_si128((const __m128i *)(buf + 0x10));
            y7 = _mm_loadu_si128((const __m128i *)(buf + 0x20));
            y8 = _mm_loadu_si128((const __m128i *)(buf + 0x30));
            x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), y5);
            x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), y6);
            x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), y7);
            x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), y8);
            buf += 64; n -= 64;
        }
        x0 = k3k4;
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x3), x5);
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x4), x5);
        while (n >= 16) {
            x2 = _mm_loadu_si128((const __m128i *)buf);
            x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
            x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
            x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
            buf += 16; n -= 16;
        }
        x2 = _mm_clmulepi64_si128(x1, x0, 0x10);
        x3 = _mm_setr_epi32(~0, 0, ~0, 0);
        x1 = _mm_srli_si128(x1, 8);
        x1 = _mm_xor_si128(x1, x2);
        x0 = k5k0;
        x2 = _mm_srli_si128(x1, 4);
        x1 = _mm_and_si128(x1, x3);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x1 = _mm_xor_si128(x1, x2);
        x0 = poly;
        x2 = _mm_and_si128(x1, x3);
        x2 = _mm_clmulepi64_si128(x2, x0, 0x10);
        x2 = _mm_and_si128(x2, x3);
        x2 = _mm_clmulepi64_si128(x2, x0, 0x00);
        x1 = _mm_xor_si128(x1, x2);
        return (uint32_t)_mm_extract_epi32(x1, 1);
    }
    static int dt_have_fold(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    }
    #else
    static uint32_t dt_crc_fold(const unsigned char *buf, size_t n, uint32_t crc) { (void)buf; (void)n; return crc; }
    static int dt_have_fold(void) { return 0; }
    #endif

    static int dt_fold_enabled = 0;

    /* Character classes of the PDF tokenizer: one table load instead of a chain of compares. */
    enum { DT_WS = 1, DT_DELIM = 2, DT_TOKEN = 4 };
    static unsigned char dt_class[256];

    static void dt_class_init(void) {
        const unsigned char ws[] = {0x20, 0x09, 0x0D, 0x0A, 0x0C, 0x00};
        const char *delims = "()<>[]{}/%";
        const char *tokens = "%(</s";
        for (size_t i = 0; i < sizeof ws; i++) dt_class[ws[i]] |= DT_WS | DT_DELIM;
        for (const char *p = delims; *p; p++) dt_class[(unsigned char)*p] |= DT_DELIM;
        for (const char *p = tokens; *p; p++) dt_class[(unsigned char)*p] |= DT_TOKEN;
    }

    /* zlib.crc32 semantics. */
    static uint32_t dt_crc32(uint32_t crc, const unsigned char *p, size_t n) {
        if (dt_fold_enabled && n >= 64) {
            size_t chunk = n & ~(size_t)15;
            crc = ~dt_crc_fold(p, chunk, ~crc);
            p += chunk; n -= chunk;
        }
        return dt_crc_bytes(crc, p, n);
    }
    """
    void dt_crc_init() nogil
    void dt_class_init() nogil
    unsigned char dt_class[256]
    enum:
        DT_WS
        DT_DELIM
        DT_TOKEN
    int dt_have_fold() nogil
    int dt_fold_enabled
    unsigned int dt_crc32(unsigned int crc, const unsigned char *p, size_t n) nogil

dt_crc_init()
dt_class_init()
dt_fold_enabled = dt_have_fold()

cdef enum:
    MAX_NAME = 127  # longer names cannot be any of ours; they are skipped, not stored
    PDF_HEAD_WINDOW = 1024
    # Reason codes of the C walk; _REASONS maps them to sidecar.errors.Reason values.
    R_NONE = 0
    R_TRUNCATED = 1
    R_MALFORMED = 2
    # Classes of the bytes after the end marker.
    T_NONE = 0
    T_TRAILING = 1
    T_POLYGLOT = 2

cdef long long INT_CAP = 2147483648  # 1 << 31
cdef tuple _REASONS = (None, "TRUNCATED", "MALFORMED")

ctypedef const unsigned char* cbytes

cdef struct Walk:
    int reason
    const char *message
    Py_ssize_t offset
    long long width
    long long height
    long long pages
    bint encrypted
    bint has_active
    bint embedded
    int active_len
    unsigned char active[MAX_NAME]


cdef inline int fail(Walk *w, int reason, const char *message, Py_ssize_t offset) noexcept nogil:
    w.reason = reason
    w.message = message
    w.offset = offset
    return -1


cdef inline unsigned int be32(cbytes d, Py_ssize_t i) noexcept nogil:
    return (<unsigned int>d[i] << 24) | (<unsigned int>d[i + 1] << 16) | (<unsigned int>d[i + 2] << 8) | d[i + 3]


cdef inline unsigned int be16(cbytes d, Py_ssize_t i) noexcept nogil:
    return (<unsigned int>d[i] << 8) | d[i + 1]


cdef inline bint is_ws(unsigned char c) noexcept nogil:
    return dt_class[c] & DT_WS


cdef inline bint is_delim(unsigned char c) noexcept nogil:
    return dt_class[c] & DT_DELIM


cdef inline int hexval(unsigned char c) noexcept nogil:
    if 0x30 <= c <= 0x39:
        return c - 0x30
    if 0x61 <= c <= 0x66:
        return c - 0x61 + 10
    if 0x41 <= c <= 0x46:
        return c - 0x41 + 10
    return -1


cdef inline bint starts(cbytes d, Py_ssize_t n, Py_ssize_t pos, const char *word, Py_ssize_t k) noexcept nogil:
    return pos >= 0 and k <= n - pos and memcmp(d + pos, word, k) == 0


cdef Py_ssize_t find(cbytes d, Py_ssize_t start, Py_ssize_t end, const char *needle, Py_ssize_t k) noexcept nogil:
    """First position p in [start, end - k] with needle at p, else -1 (bytes.find semantics)."""
    cdef Py_ssize_t p = start
    cdef const unsigned char *hit
    cdef unsigned char first = <unsigned char>needle[0]
    while p <= end - k:
        hit = <const unsigned char *>memchr(d + p, first, <size_t>(end - k - p + 1))
        if hit == NULL:
            return -1
        p = hit - d
        if memcmp(d + p, needle, k) == 0:
            return p
        p += 1
    return -1


cdef Py_ssize_t rfind(cbytes d, Py_ssize_t start, Py_ssize_t end, const char *needle, Py_ssize_t k) noexcept nogil:
    """Last position p in [start, end - k] with needle at p, else -1 (bytes.rfind semantics)."""
    cdef Py_ssize_t p = end - k
    while p >= start:
        if d[p] == <unsigned char>needle[0] and memcmp(d + p, needle, k) == 0:
            return p
        p -= 1
    return -1


# ---------------------------------------------------------------- PNG

cdef Py_ssize_t walk_png(cbytes d, Py_ssize_t n, Walk *w) noexcept nogil:
    cdef Py_ssize_t pos = 8, k
    cdef unsigned int length, wd, ht
    cdef bint first = True, seen_idat = False, seen_plte = False
    cdef unsigned char colour = 0, depth, c
    while True:
        if pos + 8 > n:
            return fail(w, R_TRUNCATED, "PNG ends before IEND", pos)
        length = be32(d, pos)
        if length > 0x7FFFFFFF:
            return fail(w, R_MALFORMED, "PNG chunk length out of range", pos)
        for k in range(pos + 4, pos + 8):
            c = d[k] | 0x20
            if c < 0x61 or c > 0x7A:
                return fail(w, R_MALFORMED, "PNG chunk type is not four letters", pos)
        if <Py_ssize_t>length > n - pos - 12:
            return fail(w, R_TRUNCATED, "PNG chunk runs past the end of the data", pos)
        if dt_crc32(0, d + pos + 4, length + 4) != be32(d, pos + 8 + length):
            return fail(w, R_MALFORMED, "PNG chunk CRC mismatch", pos)
        if first and memcmp(d + pos + 4, b"IHDR", 4) != 0:
            return fail(w, R_MALFORMED, "PNG does not start with IHDR", pos)
        if memcmp(d + pos + 4, b"IHDR", 4) == 0:
            if not first:
                return fail(w, R_MALFORMED, "PNG has more than one IHDR", pos)
            if length != 13:
                return fail(w, R_MALFORMED, "PNG IHDR has the wrong length", pos)
            wd = be32(d, pos + 8)
            ht = be32(d, pos + 12)
            if wd == 0 or ht == 0:
                return fail(w, R_MALFORMED, "PNG has a zero dimension", pos)
            if wd > 0x7FFFFFFF or ht > 0x7FFFFFFF:
                return fail(w, R_MALFORMED, "PNG dimension out of range", pos)
            w.width = wd
            w.height = ht
            depth = d[pos + 16]
            colour = d[pos + 17]
            if not (
                (colour == 0 and (depth == 1 or depth == 2 or depth == 4 or depth == 8 or depth == 16))
                or (colour == 3 and (depth == 1 or depth == 2 or depth == 4 or depth == 8))
                or ((colour == 2 or colour == 4 or colour == 6) and (depth == 8 or depth == 16))
            ):
                return fail(w, R_MALFORMED, "PNG has an invalid bit depth or colour type", pos)
            if d[pos + 18] != 0 or d[pos + 19] != 0 or d[pos + 20] > 1:
                return fail(w, R_MALFORMED, "PNG IHDR has an unknown method", pos)
        elif memcmp(d + pos + 4, b"IDAT", 4) == 0:
            seen_idat = True
        elif memcmp(d + pos + 4, b"PLTE", 4) == 0:
            seen_plte = True
        elif memcmp(d + pos + 4, b"IEND", 4) == 0:
            if length != 0:
                return fail(w, R_MALFORMED, "PNG IEND is not empty", pos)
            if not seen_idat:
                return fail(w, R_MALFORMED, "PNG has no image data", pos)
            if colour == 3 and not seen_plte:
                return fail(w, R_MALFORMED, "PNG palette image has no PLTE", pos)
            return pos + 12
        first = False
        pos += 12 + length


# ---------------------------------------------------------------- JPEG

cdef inline bint is_sof(unsigned char m) noexcept nogil:
    return 0xC0 <= m <= 0xCF and m != 0xC4 and m != 0xC8 and m != 0xCC


cdef Py_ssize_t walk_jpeg(cbytes d, Py_ssize_t n, Walk *w) noexcept nogil:
    cdef Py_ssize_t pos = 2, seglen, i
    cdef bint seen_sof = False, seen_sos = False
    cdef unsigned char m, nb, comps
    cdef unsigned int wd, ht
    cdef const unsigned char *hit
    while True:
        if pos >= n:
            return fail(w, R_TRUNCATED, "JPEG ends before EOI", pos)
        if d[pos] != 0xFF:
            return fail(w, R_MALFORMED, "JPEG marker expected", pos)
        while pos < n and d[pos] == 0xFF:
            pos += 1
        if pos >= n:
            return fail(w, R_TRUNCATED, "JPEG ends before EOI", pos)
        m = d[pos]
        pos += 1
        if m == 0xD9:
            if not seen_sof:
                return fail(w, R_MALFORMED, "JPEG has no frame header", pos)
            if not seen_sos:
                return fail(w, R_MALFORMED, "JPEG has no scan", pos)
            return pos
        if m == 0x00:
            return fail(w, R_MALFORMED, "JPEG has a stuffed byte outside a scan", pos)
        if m == 0xD8:
            return fail(w, R_MALFORMED, "JPEG has a second SOI", pos)
        if (0xD0 <= m <= 0xD7) or m == 0x01:
            continue
        if pos + 2 > n:
            return fail(w, R_TRUNCATED, "JPEG ends inside a segment", pos)
        seglen = be16(d, pos)
        if seglen < 2:
            return fail(w, R_MALFORMED, "JPEG segment length is too small", pos)
        if seglen > n - pos:
            return fail(w, R_TRUNCATED, "JPEG segment runs past the end of the data", pos)
        if is_sof(m):
            if seen_sof:
                return fail(w, R_MALFORMED, "JPEG has more than one frame header", pos)
            if seglen < 8:
                return fail(w, R_MALFORMED, "JPEG frame header is too short", pos)
            ht = be16(d, pos + 3)
            wd = be16(d, pos + 5)
            comps = d[pos + 7]
            if wd == 0 or ht == 0:
                return fail(w, R_MALFORMED, "JPEG has a zero dimension", pos)
            w.width = wd
            w.height = ht
            if comps == 0 or comps > 4:
                return fail(w, R_MALFORMED, "JPEG has an invalid component count", pos)
            if seglen != 8 + 3 * comps:
                return fail(w, R_MALFORMED, "JPEG frame header length does not match its components", pos)
            seen_sof = True
            pos += seglen
        elif m == 0xDA:
            if not seen_sof:
                return fail(w, R_MALFORMED, "JPEG scan before its frame header", pos)
            seen_sos = True
            pos += seglen
            while True:
                if pos >= n:
                    return fail(w, R_TRUNCATED, "JPEG ends inside a scan", pos)
                hit = <const unsigned char *>memchr(d + pos, 0xFF, <size_t>(n - pos))
                if hit == NULL:
                    return fail(w, R_TRUNCATED, "JPEG ends inside a scan", pos)
                i = hit - d
                if i + 1 >= n:
                    return fail(w, R_TRUNCATED, "JPEG ends inside a scan", pos)
                nb = d[i + 1]
                if nb == 0x00 or (0xD0 <= nb <= 0xD7):
                    pos = i + 2
                elif nb == 0xFF:
                    pos = i + 1
                else:
                    pos = i
                    break
        else:
            pos += seglen


# ---------------------------------------------------------------- PDF

cdef bint is_active_name(const unsigned char *name, int k) noexcept nogil:
    return (
        (k == 10 and memcmp(name, b"JavaScript", 10) == 0)
        or (k == 2 and memcmp(name, b"JS", 2) == 0)
        or (k == 6 and memcmp(name, b"Launch", 6) == 0)
        or (k == 2 and memcmp(name, b"AA", 2) == 0)
        or (k == 9 and memcmp(name, b"RichMedia", 9) == 0)
        or (k == 3 and memcmp(name, b"XFA", 3) == 0)
        or (k == 10 and memcmp(name, b"SubmitForm", 10) == 0)
        or (k == 10 and memcmp(name, b"ImportData", 10) == 0)
        or (k == 5 and memcmp(name, b"GoToE", 5) == 0)
    )


cdef inline Py_ssize_t skip_ws(cbytes d, Py_ssize_t pos, Py_ssize_t end) noexcept nogil:
    while pos < end and is_ws(d[pos]):
        pos += 1
    return pos


cdef inline Py_ssize_t read_uint(cbytes d, Py_ssize_t pos, Py_ssize_t end, long long *value) noexcept nogil:
    value[0] = -1
    while pos < end and 0x30 <= d[pos] <= 0x39:
        value[0] = (0 if value[0] < 0 else value[0]) * 10 + d[pos] - 0x30
        if value[0] > INT_CAP:
            value[0] = INT_CAP
        pos += 1
    return pos


cdef inline bint keyword_at(cbytes d, Py_ssize_t n, Py_ssize_t pos, const char *word, Py_ssize_t k) noexcept nogil:
    return starts(d, n, pos, word, k) and (pos == 0 or is_delim(d[pos - 1]))


cdef bint points_at_xref(cbytes d, Py_ssize_t n, long long where) noexcept nogil:
    cdef Py_ssize_t pos, p2
    cdef long long num, gen
    if where < 0 or where >= n:
        return False
    pos = skip_ws(d, <Py_ssize_t>where, n)
    if starts(d, n, pos, b"xref", 4):
        return True
    pos = read_uint(d, pos, n, &num)
    if num < 0:
        return False
    p2 = skip_ws(d, pos, n)
    if p2 == pos:
        return False
    pos = read_uint(d, p2, n, &gen)
    if gen < 0:
        return False
    p2 = skip_ws(d, pos, n)
    return p2 > pos and starts(d, n, p2, b"obj", 3)


cdef Py_ssize_t walk_pdf(cbytes d, Py_ssize_t n, Py_ssize_t start, Walk *w) noexcept nogil:
    cdef Py_ssize_t eof, pos, close, body, end
    cdef long long pages = 0, max_count = 0, xref = -2, value
    cdef int depth, k, hv1, hv2, i
    cdef bint too_long
    cdef unsigned char c
    cdef unsigned char name[MAX_NAME]
    if not (start + 8 <= n and 0x30 <= d[start + 5] <= 0x39 and d[start + 6] == 0x2E and 0x30 <= d[start + 7] <= 0x39):
        return fail(w, R_MALFORMED, "PDF header is malformed", start)
    eof = rfind(d, start, n, b"%%EOF", 5)
    if eof < 0:
        return fail(w, R_TRUNCATED, "PDF has no %%EOF marker", n)
    pos = start + 8
    while pos < eof:
        c = d[pos]
        if c == 0x25:
            pos += 1
            while pos < eof and d[pos] != 0x0A and d[pos] != 0x0D:
                pos += 1
        elif c == 0x28:
            depth = 1
            pos += 1
            while pos < eof:
                c = d[pos]
                if c == 0x5C:
                    pos += 2
                    continue
                if c == 0x28:
                    depth += 1
                elif c == 0x29:
                    depth -= 1
                    if depth == 0:
                        break
                pos += 1
            if pos >= eof:
                return fail(w, R_TRUNCATED, "PDF ends inside a string", pos)
            pos += 1
        elif c == 0x3C:
            if pos + 1 < eof and d[pos + 1] == 0x3C:
                pos += 2
            else:
                close = find(d, pos + 1, eof, b">", 1)
                if close < 0:
                    return fail(w, R_TRUNCATED, "PDF ends inside a hex string", pos)
                pos = close + 1
        elif c == 0x2F:
            pos += 1
            k = 0
            too_long = False
            while pos < eof:
                c = d[pos]
                if is_delim(c):
                    break
                if c == 0x23 and pos + 2 < eof:
                    hv1 = hexval(d[pos + 1])
                    hv2 = hexval(d[pos + 2])
                else:
                    hv1 = hv2 = -1
                if hv1 >= 0 and hv2 >= 0:
                    c = <unsigned char>(hv1 * 16 + hv2)
                    pos += 3
                else:
                    pos += 1
                if k < MAX_NAME:
                    name[k] = c
                    k += 1
                else:
                    too_long = True
            if too_long:
                k = 0
            if k == 7 and memcmp(name, b"Encrypt", 7) == 0:
                w.encrypted = True
            elif is_active_name(name, k):
                if not w.has_active:
                    w.has_active = True
                    for i in range(k):
                        w.active[i] = name[i]
                    w.active_len = k
            elif (k == 12 and memcmp(name, b"EmbeddedFile", 12) == 0) or (k == 13 and memcmp(name, b"EmbeddedFiles", 13) == 0):
                w.embedded = True
            elif k == 4 and memcmp(name, b"Page", 4) == 0:
                pages += 1
            elif k == 5 and memcmp(name, b"Count", 5) == 0:
                pos = read_uint(d, skip_ws(d, pos, eof), eof, &value)
                if value > max_count:
                    max_count = value
        elif c == 0x73 and keyword_at(d, n, pos, b"startxref", 9):
            pos = read_uint(d, skip_ws(d, pos + 9, eof), eof, &xref)
        elif c == 0x73 and keyword_at(d, n, pos, b"stream", 6) and pos + 6 < eof and (d[pos + 6] == 0x0D or d[pos + 6] == 0x0A):
            body = pos + 6
            end = find(d, body, eof, b"endstream", 9)
            if end < 0:
                return fail(w, R_TRUNCATED, "PDF stream has no endstream", pos)
            pos = end + 9
        else:
            # Nothing else starts a token we care about: run to the next byte that might.
            pos += 1
            while pos < eof and not (dt_class[d[pos]] & DT_TOKEN):
                pos += 1
    w.pages = pages if pages > 0 else (max_count if max_count > 0 else 1)
    if xref == -2:
        return fail(w, R_MALFORMED, "PDF has no startxref", eof)
    if not (points_at_xref(d, n, xref) or (start > 0 and xref >= 0 and points_at_xref(d, n, start + xref))):
        return fail(w, R_MALFORMED, "PDF startxref does not point at a cross-reference section", eof)
    return eof + 5


# ---------------------------------------------------------------- tail and polyglots

cdef bint zip_directory_at_end(cbytes d, Py_ssize_t n, Py_ssize_t floor) noexcept nogil:
    cdef Py_ssize_t lowest = floor if floor > n - 22 - 0xFFFF else n - 22 - 0xFFFF
    cdef Py_ssize_t p = n - 22
    while p >= lowest:
        if d[p] == 0x50 and memcmp(d + p, b"PK\x05\x06", 4) == 0:
            if p + 22 + (d[p + 20] | (d[p + 21] << 8)) == n:
                return True
        p -= 1
    return False


cdef bint foreign_at(cbytes d, Py_ssize_t n, Py_ssize_t p) noexcept nogil:
    """Another binary format's magic number at p (the twin's _FOREIGN_SIGNATURES)."""
    return (starts(d, n, p, b"PK\x03\x04", 4) or starts(d, n, p, b"PK\x05\x06", 4)
            or starts(d, n, p, b"%PDF-", 5) or starts(d, n, p, b"\x89PNG\r\n\x1a\n", 8)
            or starts(d, n, p, b"Rar!\x1a\x07", 6) or starts(d, n, p, b"7z\xbc\xaf\x27\x1c", 6)
            or starts(d, n, p, b"\x7fELF", 4) or starts(d, n, p, b"MZ", 2) or starts(d, n, p, b"GIF8", 4))


cdef bint html_at(cbytes d, Py_ssize_t n, Py_ssize_t p) noexcept nogil:
    return starts(d, n, p, b"<html", 5) or starts(d, n, p, b"<!DOCTYPE", 9) or starts(d, n, p, b"<script", 7)


cdef int head_class(cbytes d, Py_ssize_t n, Py_ssize_t pdf_at) noexcept nogil:
    """The bytes before a PDF's header: T_NONE when only whitespace (and a UTF-8 BOM), T_POLYGLOT when
    another format (or HTML) starts there, else T_TRAILING (e.g. HTTP headers saved with the file)."""
    cdef Py_ssize_t p = 3 if starts(d, n, 0, b"\xef\xbb\xbf", 3) else 0
    p = skip_ws(d, p, pdf_at)
    if p >= pdf_at:
        return T_NONE
    if foreign_at(d, n, p) or html_at(d, n, p) or starts(d, n, p, b"\xff\xd8\xff", 3):
        return T_POLYGLOT
    return T_TRAILING


cdef int tail_class(cbytes d, Py_ssize_t n, int is_jpeg, Py_ssize_t end) noexcept nogil:
    cdef Py_ssize_t first = skip_ws(d, end, n)
    if first >= n:
        return T_NONE
    if zip_directory_at_end(d, n, end):
        return T_POLYGLOT
    if foreign_at(d, n, first):
        return T_POLYGLOT
    if not is_jpeg and starts(d, n, first, b"\xff\xd8\xff", 3):
        return T_POLYGLOT
    # HTML after the end marker (a web page saved after the download) does not make the file HTML:
    # browsers and sniffers decide that from its first bytes. Trailing data, flagged.
    return T_TRAILING


# ---------------------------------------------------------------- public API

def sniff_and_digest(data):
    """Return (kind, hex SHA-256): kind is "pdf", "jpeg", "png" or None when unsupported."""
    cdef const unsigned char[::1] view = data
    cdef Py_ssize_t n = view.shape[0]
    cdef cbytes d = &view[0] if n > 0 else NULL
    kind = None
    if n >= 8 and memcmp(d, b"\x89PNG\r\n\x1a\n", 8) == 0:
        kind = "png"
    elif n >= 3 and memcmp(d, b"\xff\xd8\xff", 3) == 0:
        kind = "jpeg"
    elif n > 0 and find(d, 0, n if n < 1024 else 1024, b"%PDF-", 5) >= 0:
        kind = "pdf"
    return kind, hashlib.sha256(data).hexdigest()


def inspect_bytes(data):
    """Sniff, walk the structure and hash `data` in one call. Never raises on any input."""
    cdef const unsigned char[::1] view = data
    cdef Py_ssize_t n = view.shape[0]
    cdef cbytes d
    cdef Walk w
    cdef Py_ssize_t pdf_at, end = -1
    cdef int tail = T_NONE, head = T_NONE, kind_code
    digest = hashlib.sha256(data).hexdigest()
    if n == 0:
        return RawInspection(None, digest, "EMPTY", "the document is empty", 0, 0, 0, (), "")
    d = &view[0]
    w.reason = R_NONE
    w.message = ""
    w.offset = 0
    w.width = 0
    w.height = 0
    w.pages = 1
    w.encrypted = False
    w.has_active = False
    w.embedded = False
    w.active_len = 0
    pdf_at = find(d, 0, n if n < PDF_HEAD_WINDOW else PDF_HEAD_WINDOW, b"%PDF-", 5)
    if n >= 8 and memcmp(d, b"\x89PNG\r\n\x1a\n", 8) == 0:
        kind_code = 1
    elif n >= 3 and memcmp(d, b"\xff\xd8\xff", 3) == 0:
        kind_code = 2
    elif pdf_at >= 0:
        kind_code = 3
    else:
        return RawInspection(
            None, digest, "UNSUPPORTED_TYPE", "only PDF, JPEG and PNG documents are accepted", 0, 0, 0, (), ""
        )
    with nogil:
        # A header of another format where its readers look for it: the file means two things.
        if kind_code == 3:
            head = head_class(d, n, pdf_at) if pdf_at > 0 else T_NONE
        elif pdf_at >= 0:
            head = T_POLYGLOT
        if kind_code == 1:
            end = walk_png(d, n, &w)
        elif kind_code == 2:
            end = walk_jpeg(d, n, &w)
        else:
            end = walk_pdf(d, n, pdf_at, &w)
        if end >= 0:
            tail = tail_class(d, n, kind_code == 2, end)
    kind = ("png", "jpeg", "pdf")[kind_code - 1]
    findings = []
    if w.encrypted:
        findings.append(ENCRYPTED)
    if w.has_active:
        findings.append(ACTIVE_CONTENT)
    if w.embedded:
        findings.append(EMBEDDED_FILE)
    if tail == T_TRAILING or head == T_TRAILING:
        findings.append(TRAILING_DATA)
    if head == T_POLYGLOT or tail == T_POLYGLOT:
        findings.append(POLYGLOT)
    active = (<char *>w.active)[:w.active_len].decode("latin-1") if w.has_active else ""
    pages = w.pages if kind_code == 3 else 1
    if end < 0:
        detail = f"{w.message.decode('ascii')} (offset {w.offset})"
        return RawInspection(kind, digest, _REASONS[w.reason], detail, w.width, w.height, pages, tuple(findings), active)
    return RawInspection(kind, digest, None, "", w.width, w.height, pages, tuple(findings), active)


def crc32(data, unsigned int crc=0):
    """zlib.crc32 over `data` (exposed for tests of the folding CRC)."""
    cdef const unsigned char[::1] view = data
    cdef Py_ssize_t n = view.shape[0]
    if n == 0:
        return crc
    with nogil:
        crc = dt_crc32(crc, &view[0], <size_t>n)
    return crc


def crc_folding_enabled():
    """True when the CPU has PCLMULQDQ and the folding CRC is in use."""
    return bool(dt_fold_enabled)
