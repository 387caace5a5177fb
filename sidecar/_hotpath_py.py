"""Pure-Python twin of the compiled hot path (sidecar._ext._hotpath): same signatures, same results.

This file is the readable specification of the structural walk; `_ext/_hotpath.pyx` is its
line-by-line port to C. Any change here must be mirrored there (the property tests compare both).
The walk reports facts (kind, dimensions, the first structural defect, findings); policy —
which findings refuse — lives in `sidecar.pipeline.validate`.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import NamedTuple

# Findings, in the canonical order both twins report them.
ENCRYPTED = "ENCRYPTED"
ACTIVE_CONTENT = "ACTIVE_CONTENT"
EMBEDDED_FILE = "EMBEDDED_FILE"
TRAILING_DATA = "TRAILING_DATA"
POLYGLOT = "POLYGLOT"

_PNG_SIG = b"\x89PNG\r\n\x1a\n"
# PDF readers accept the header anywhere in the first 1024 bytes; so do we, as a polyglot.
_PDF_HEAD_WINDOW = 1024
_WHITESPACE = b" \t\r\n\f\x00"
_PDF_DELIMITERS = b" \t\r\n\f\x00()<>[]{}/%"
# Other formats' magic numbers: data after the end marker that starts with one is a polyglot.
_FOREIGN_SIGNATURES = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"%PDF-",
    _PNG_SIG,
    b"Rar!\x1a\x07",
    b"7z\xbc\xaf\x27\x1c",
    b"\x7fELF",
    b"MZ",
    b"GIF8",
)
# HTML where a browser or sniffer looks for it (the start) makes a file HTML too; after the end marker
# (a web page saved after the download) it is trailing data.
_HTML_MARKERS = (b"<html", b"<!DOCTYPE", b"<script")
_UTF8_BOM = b"\xef\xbb\xbf"
_JPEG_SIG = b"\xff\xd8\xff"
# PDF names (after #xx decoding) that make a document able to run or carry code.
_ACTIVE_NAMES = frozenset(
    {b"JavaScript", b"JS", b"Launch", b"AA", b"RichMedia", b"XFA", b"SubmitForm", b"ImportData", b"GoToE"}
)
# Attachments are their own finding: e-invoices (Factur-X, ZUGFeRD) legitimately embed their XML.
_EMBEDDED_NAMES = frozenset({b"EmbeddedFile", b"EmbeddedFiles"})
_MAX_NAME = 127  # longer names cannot be any of ours; they are skipped, not stored
_INT_CAP = 1 << 31


class RawInspection(NamedTuple):
    """What one pass over the bytes found. Both twins return exactly this."""

    kind: str | None  # "pdf", "jpeg", "png" or None (unsupported)
    digest: str  # hex SHA-256 of all the bytes
    reason: str | None  # a sidecar.errors.Reason value for the first structural defect, else None
    detail: str  # human message for `reason` ("" when None)
    width: int
    height: int
    page_count: int
    # Subset of (ENCRYPTED, ACTIVE_CONTENT, EMBEDDED_FILE, TRAILING_DATA, POLYGLOT), in that order.
    findings: tuple[str, ...]
    active: str  # the first active-content PDF name found ("" when none)


def sniff_and_digest(data: bytes) -> tuple[str | None, str]:
    """Return (kind, hex SHA-256): kind is "pdf", "jpeg", "png" or None when unsupported."""
    head = bytes(data[:1024])
    kind: str | None = None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "png"
    elif head.startswith(b"\xff\xd8\xff"):
        kind = "jpeg"
    elif b"%PDF-" in head:
        kind = "pdf"
    return kind, hashlib.sha256(data).hexdigest()


class _Defect(Exception):
    def __init__(self, reason: str, message: str, offset: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = f"{message} (offset {offset})"


class _State:
    __slots__ = ("active", "embedded", "encrypted", "has_active", "height", "pages", "width")

    def __init__(self) -> None:
        self.width = 0
        self.height = 0
        self.pages = 1
        self.encrypted = False
        self.has_active = False
        self.embedded = False
        self.active = b""


def _be32(d: bytes, i: int) -> int:
    return (d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3]


def _be16(d: bytes, i: int) -> int:
    return (d[i] << 8) | d[i + 1]


def _walk_png(d: bytes, st: _State) -> int:
    n = len(d)
    pos = 8
    first = True
    seen_idat = seen_plte = False
    colour = 0
    while True:
        if pos + 8 > n:
            raise _Defect("TRUNCATED", "PNG ends before IEND", pos)
        length = _be32(d, pos)
        if length > 0x7FFFFFFF:
            raise _Defect("MALFORMED", "PNG chunk length out of range", pos)
        for k in range(pos + 4, pos + 8):
            c = d[k] | 0x20
            if c < 0x61 or c > 0x7A:
                raise _Defect("MALFORMED", "PNG chunk type is not four letters", pos)
        if length > n - pos - 12:
            raise _Defect("TRUNCATED", "PNG chunk runs past the end of the data", pos)
        stored = _be32(d, pos + 8 + length)
        if zlib.crc32(d[pos + 4 : pos + 8 + length]) != stored:
            raise _Defect("MALFORMED", "PNG chunk CRC mismatch", pos)
        ctype = d[pos + 4 : pos + 8]
        if first and ctype != b"IHDR":
            raise _Defect("MALFORMED", "PNG does not start with IHDR", pos)
        if ctype == b"IHDR":
            if not first:
                raise _Defect("MALFORMED", "PNG has more than one IHDR", pos)
            if length != 13:
                raise _Defect("MALFORMED", "PNG IHDR has the wrong length", pos)
            w = _be32(d, pos + 8)
            h = _be32(d, pos + 12)
            if w == 0 or h == 0:
                raise _Defect("MALFORMED", "PNG has a zero dimension", pos)
            if w > 0x7FFFFFFF or h > 0x7FFFFFFF:
                raise _Defect("MALFORMED", "PNG dimension out of range", pos)
            st.width, st.height = w, h
            depth, colour = d[pos + 16], d[pos + 17]
            if not (
                (colour == 0 and depth in (1, 2, 4, 8, 16))
                or (colour == 3 and depth in (1, 2, 4, 8))
                or (colour in (2, 4, 6) and depth in (8, 16))
            ):
                raise _Defect("MALFORMED", "PNG has an invalid bit depth or colour type", pos)
            if d[pos + 18] != 0 or d[pos + 19] != 0 or d[pos + 20] > 1:
                raise _Defect("MALFORMED", "PNG IHDR has an unknown method", pos)
        elif ctype == b"IDAT":
            seen_idat = True
        elif ctype == b"PLTE":
            seen_plte = True
        elif ctype == b"IEND":
            if length != 0:
                raise _Defect("MALFORMED", "PNG IEND is not empty", pos)
            if not seen_idat:
                raise _Defect("MALFORMED", "PNG has no image data", pos)
            if colour == 3 and not seen_plte:
                raise _Defect("MALFORMED", "PNG palette image has no PLTE", pos)
            return pos + 12
        first = False
        pos += 12 + length


def _is_sof(m: int) -> bool:
    return 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC)


def _walk_jpeg(d: bytes, st: _State) -> int:
    n = len(d)
    pos = 2
    seen_sof = seen_sos = False
    while True:
        if pos >= n:
            raise _Defect("TRUNCATED", "JPEG ends before EOI", pos)
        if d[pos] != 0xFF:
            raise _Defect("MALFORMED", "JPEG marker expected", pos)
        while pos < n and d[pos] == 0xFF:
            pos += 1
        if pos >= n:
            raise _Defect("TRUNCATED", "JPEG ends before EOI", pos)
        m = d[pos]
        pos += 1
        if m == 0xD9:
            if not seen_sof:
                raise _Defect("MALFORMED", "JPEG has no frame header", pos)
            if not seen_sos:
                raise _Defect("MALFORMED", "JPEG has no scan", pos)
            return pos
        if m == 0x00:
            raise _Defect("MALFORMED", "JPEG has a stuffed byte outside a scan", pos)
        if m == 0xD8:
            raise _Defect("MALFORMED", "JPEG has a second SOI", pos)
        if 0xD0 <= m <= 0xD7 or m == 0x01:
            continue
        if pos + 2 > n:
            raise _Defect("TRUNCATED", "JPEG ends inside a segment", pos)
        seglen = _be16(d, pos)
        if seglen < 2:
            raise _Defect("MALFORMED", "JPEG segment length is too small", pos)
        if seglen > n - pos:
            raise _Defect("TRUNCATED", "JPEG segment runs past the end of the data", pos)
        if _is_sof(m):
            if seen_sof:
                raise _Defect("MALFORMED", "JPEG has more than one frame header", pos)
            if seglen < 8:
                raise _Defect("MALFORMED", "JPEG frame header is too short", pos)
            h = _be16(d, pos + 3)
            w = _be16(d, pos + 5)
            comps = d[pos + 7]
            if w == 0 or h == 0:
                raise _Defect("MALFORMED", "JPEG has a zero dimension", pos)
            st.width, st.height = w, h
            if comps == 0 or comps > 4:
                raise _Defect("MALFORMED", "JPEG has an invalid component count", pos)
            if seglen != 8 + 3 * comps:
                raise _Defect("MALFORMED", "JPEG frame header length does not match its components", pos)
            seen_sof = True
            pos += seglen
        elif m == 0xDA:
            if not seen_sof:
                raise _Defect("MALFORMED", "JPEG scan before its frame header", pos)
            seen_sos = True
            pos += seglen
            # Entropy-coded data: runs to the next marker that is not a stuffed 0x00 or a restart.
            while True:
                i = d.find(b"\xff", pos)
                if i < 0 or i + 1 >= n:
                    raise _Defect("TRUNCATED", "JPEG ends inside a scan", pos)
                nb = d[i + 1]
                if nb == 0x00 or 0xD0 <= nb <= 0xD7:
                    pos = i + 2
                elif nb == 0xFF:
                    pos = i + 1
                else:
                    pos = i
                    break
        else:
            pos += seglen


def _pdf_name(d: bytes, pos: int, end: int) -> tuple[bytes, int]:
    """Decode the name starting after '/' at `pos`; return (name or b"" when too long, position after it)."""
    out = bytearray()
    too_long = False
    while pos < end:
        c = d[pos]
        if c in _PDF_DELIMITERS:
            break
        if c == 0x23 and pos + 2 < end and d[pos + 1] in _HEX and d[pos + 2] in _HEX:
            c = int(d[pos + 1 : pos + 3], 16)
            pos += 3
        else:
            pos += 1
        if len(out) < _MAX_NAME:
            out.append(c)
        else:
            too_long = True
    return (b"" if too_long else bytes(out)), pos


_HEX = b"0123456789abcdefABCDEF"


def _skip_ws(d: bytes, pos: int, end: int) -> int:
    while pos < end and d[pos] in _WHITESPACE:
        pos += 1
    return pos


def _read_uint(d: bytes, pos: int, end: int) -> tuple[int, int]:
    """Parse decimal digits at `pos`: (value capped at 2**31, position after); value -1 when no digit."""
    value = -1
    while pos < end and 0x30 <= d[pos] <= 0x39:
        value = (0 if value < 0 else value) * 10 + d[pos] - 0x30
        if value > _INT_CAP:
            value = _INT_CAP
        pos += 1
    return value, pos


def _keyword_at(d: bytes, pos: int, word: bytes) -> bool:
    return d.startswith(word, pos) and (pos == 0 or d[pos - 1] in _PDF_DELIMITERS)


def _points_at_xref(d: bytes, pos: int) -> bool:
    n = len(d)
    if pos < 0 or pos >= n:
        return False
    pos = _skip_ws(d, pos, n)
    if d.startswith(b"xref", pos):
        return True
    num, pos = _read_uint(d, pos, n)
    if num < 0:
        return False
    p2 = _skip_ws(d, pos, n)
    if p2 == pos:
        return False
    gen, pos = _read_uint(d, p2, n)
    if gen < 0:
        return False
    p2 = _skip_ws(d, pos, n)
    return p2 > pos and d.startswith(b"obj", p2)


def _walk_pdf(d: bytes, start: int, st: _State) -> int:
    n = len(d)
    if not (start + 8 <= n and 0x30 <= d[start + 5] <= 0x39 and d[start + 6] == 0x2E and 0x30 <= d[start + 7] <= 0x39):
        raise _Defect("MALFORMED", "PDF header is malformed", start)
    eof = d.rfind(b"%%EOF", start)
    if eof < 0:
        raise _Defect("TRUNCATED", "PDF has no %%EOF marker", n)
    pos = start + 8
    pages = 0
    max_count = 0
    xref = -2  # -2: no startxref seen; -1: startxref without a number
    while pos < eof:
        c = d[pos]
        if c == 0x25:  # % comment, to the end of the line
            pos += 1
            while pos < eof and d[pos] != 0x0A and d[pos] != 0x0D:
                pos += 1
        elif c == 0x28:  # ( literal string, nested, with escapes
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
                raise _Defect("TRUNCATED", "PDF ends inside a string", pos)
            pos += 1
        elif c == 0x3C:  # << dictionary, or <hex string>
            if pos + 1 < eof and d[pos + 1] == 0x3C:
                pos += 2
            else:
                close = d.find(b">", pos + 1, eof)
                if close < 0:
                    raise _Defect("TRUNCATED", "PDF ends inside a hex string", pos)
                pos = close + 1
        elif c == 0x2F:  # /Name
            name, pos = _pdf_name(d, pos + 1, eof)
            if name == b"Encrypt":
                st.encrypted = True
            elif name in _ACTIVE_NAMES:
                if not st.has_active:
                    st.has_active = True
                    st.active = name
            elif name in _EMBEDDED_NAMES:
                st.embedded = True
            elif name == b"Page":
                pages += 1
            elif name == b"Count":
                value, pos = _read_uint(d, _skip_ws(d, pos, eof), eof)
                max_count = max(max_count, value)
        elif c == 0x73 and _keyword_at(d, pos, b"startxref"):
            xref, pos = _read_uint(d, _skip_ws(d, pos + 9, eof), eof)
        elif c == 0x73 and _keyword_at(d, pos, b"stream") and pos + 6 < eof and d[pos + 6] in b"\r\n":
            body = pos + 6
            end = d.find(b"endstream", body, eof)
            if end < 0:
                raise _Defect("TRUNCATED", "PDF stream has no endstream", pos)
            pos = end + 9
        else:
            pos += 1
    st.pages = pages if pages > 0 else (max_count if max_count > 0 else 1)
    if xref == -2:
        raise _Defect("MALFORMED", "PDF has no startxref", eof)
    if not (_points_at_xref(d, xref) or (start > 0 and xref >= 0 and _points_at_xref(d, start + xref))):
        raise _Defect("MALFORMED", "PDF startxref does not point at a cross-reference section", eof)
    return eof + 5


def _zip_directory_at_end(d: bytes, floor: int) -> bool:
    """True when a ZIP end-of-central-directory record ends exactly at the end of the data (after `floor`)."""
    n = len(d)
    lowest = max(floor, n - 22 - 0xFFFF)
    p = n - 22
    while p >= lowest:
        p = d.rfind(b"PK\x05\x06", lowest, p + 4)
        if p < 0:
            return False
        if p + 22 + (d[p + 20] | (d[p + 21] << 8)) == n:
            return True
        p -= 1
    return False


def _tail_findings(d: bytes, kind: str, end: int) -> str | None:
    n = len(d)
    first = _skip_ws(d, end, n)
    if first >= n:
        return None
    if _zip_directory_at_end(d, end):
        return POLYGLOT
    for sig in _FOREIGN_SIGNATURES:
        if d.startswith(sig, first):
            return POLYGLOT
    if kind != "jpeg" and d.startswith(_JPEG_SIG, first):
        return POLYGLOT
    return TRAILING_DATA


def _head_class(d: bytes, pdf_at: int) -> str | None:
    """The bytes before a PDF's header: None when only whitespace (and a UTF-8 BOM), POLYGLOT when
    another format (or HTML) starts there, else TRAILING_DATA (e.g. HTTP headers saved with the file)."""
    p = _skip_ws(d, 3 if d.startswith(_UTF8_BOM) else 0, pdf_at)
    if p >= pdf_at:
        return None
    if any(d.startswith(sig, p) for sig in (*_FOREIGN_SIGNATURES, *_HTML_MARKERS, _JPEG_SIG)):
        return POLYGLOT
    return TRAILING_DATA


def _findings(st: _State, tail: str | None, head: str | None) -> tuple[str, ...]:
    out: list[str] = []
    if st.encrypted:
        out.append(ENCRYPTED)
    if st.has_active:
        out.append(ACTIVE_CONTENT)
    if st.embedded:
        out.append(EMBEDDED_FILE)
    if tail == TRAILING_DATA or head == TRAILING_DATA:
        out.append(TRAILING_DATA)
    if head == POLYGLOT or tail == POLYGLOT:
        out.append(POLYGLOT)
    return tuple(out)


def inspect_bytes(data: bytes) -> RawInspection:
    """Sniff, walk the structure and hash `data` in one call. Never raises on any input."""
    d = bytes(data)
    digest = hashlib.sha256(d).hexdigest()
    st = _State()
    n = len(d)
    if n == 0:
        return RawInspection(None, digest, "EMPTY", "the document is empty", 0, 0, 0, (), "")
    pdf_at = d.find(b"%PDF-", 0, _PDF_HEAD_WINDOW)
    kind: str | None
    if d.startswith(_PNG_SIG):
        kind = "png"
    elif d.startswith(_JPEG_SIG):
        kind = "jpeg"
    elif pdf_at >= 0:
        kind = "pdf"
    else:
        return RawInspection(
            None, digest, "UNSUPPORTED_TYPE", "only PDF, JPEG and PNG documents are accepted", 0, 0, 0, (), ""
        )
    # A header of another format where its readers look for it: the file means two things.
    head: str | None = None
    if kind == "pdf":
        head = _head_class(d, pdf_at) if pdf_at > 0 else None
    elif pdf_at >= 0:
        head = POLYGLOT
    tail: str | None = None
    try:
        if kind == "png":
            end = _walk_png(d, st)
        elif kind == "jpeg":
            end = _walk_jpeg(d, st)
        else:
            end = _walk_pdf(d, pdf_at, st)
        tail = _tail_findings(d, kind, end)
    except _Defect as defect:
        findings = _findings(st, None, head)
        pages = st.pages if kind == "pdf" else 1
        return RawInspection(
            kind,
            digest,
            defect.reason,
            defect.detail,
            st.width,
            st.height,
            pages,
            findings,
            st.active.decode("latin-1"),
        )
    pages = st.pages if kind == "pdf" else 1
    return RawInspection(
        kind,
        digest,
        None,
        "",
        st.width,
        st.height,
        pages,
        _findings(st, tail, head),
        st.active.decode("latin-1"),
    )
