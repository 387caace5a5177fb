"""The PDF walk: a lexical pass from the header to the last %%EOF (comments, strings, names, streams
skipped by their endstream) that counts pages, notes encryption, active content and attachments, and
checks that startxref points at a cross-reference section."""

from __future__ import annotations

from sidecar._hotpath_py.common import PDF_DELIMITERS, Defect, State, skip_ws

# PDF names (after #xx decoding) that make a document able to run or carry code.
ACTIVE_NAMES = frozenset(
    {b"JavaScript", b"JS", b"Launch", b"AA", b"RichMedia", b"XFA", b"SubmitForm", b"ImportData", b"GoToE"}
)
# Attachments are their own finding: e-invoices (Factur-X, ZUGFeRD) legitimately embed their XML.
EMBEDDED_NAMES = frozenset({b"EmbeddedFile", b"EmbeddedFiles"})
_MAX_NAME = 127  # longer names cannot be any of ours; they are skipped, not stored
_INT_CAP = 1 << 31
_HEX = b"0123456789abcdefABCDEF"


def _pdf_name(d: bytes, pos: int, end: int) -> tuple[bytes, int]:
    """Decode the name starting after '/' at `pos`; return (name or b"" when too long, position after it)."""
    out = bytearray()
    too_long = False
    while pos < end:
        c = d[pos]
        if c in PDF_DELIMITERS:
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
    return d.startswith(word, pos) and (pos == 0 or d[pos - 1] in PDF_DELIMITERS)


def _points_at_xref(d: bytes, pos: int) -> bool:
    n = len(d)
    if pos < 0 or pos >= n:
        return False
    pos = skip_ws(d, pos, n)
    if d.startswith(b"xref", pos):
        return True
    num, pos = _read_uint(d, pos, n)
    if num < 0:
        return False
    p2 = skip_ws(d, pos, n)
    if p2 == pos:
        return False
    gen, pos = _read_uint(d, p2, n)
    if gen < 0:
        return False
    p2 = skip_ws(d, pos, n)
    return p2 > pos and d.startswith(b"obj", p2)


def walk_pdf(d: bytes, start: int, st: State) -> int:
    n = len(d)
    if not (start + 8 <= n and 0x30 <= d[start + 5] <= 0x39 and d[start + 6] == 0x2E and 0x30 <= d[start + 7] <= 0x39):
        raise Defect("MALFORMED", "PDF header is malformed", start)
    eof = d.rfind(b"%%EOF", start)
    if eof < 0:
        raise Defect("TRUNCATED", "PDF has no %%EOF marker", n)
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
                raise Defect("TRUNCATED", "PDF ends inside a string", pos)
            pos += 1
        elif c == 0x3C:  # << dictionary, or <hex string>
            if pos + 1 < eof and d[pos + 1] == 0x3C:
                pos += 2
            else:
                close = d.find(b">", pos + 1, eof)
                if close < 0:
                    raise Defect("TRUNCATED", "PDF ends inside a hex string", pos)
                pos = close + 1
        elif c == 0x2F:  # /Name
            name, pos = _pdf_name(d, pos + 1, eof)
            if name == b"Encrypt":
                st.encrypted = True
            elif name in ACTIVE_NAMES:
                if not st.has_active:
                    st.has_active = True
                    st.active = name
            elif name in EMBEDDED_NAMES:
                st.embedded = True
            elif name == b"Page":
                pages += 1
            elif name == b"Count":
                value, pos = _read_uint(d, skip_ws(d, pos, eof), eof)
                max_count = max(max_count, value)
        elif c == 0x73 and _keyword_at(d, pos, b"startxref"):
            xref, pos = _read_uint(d, skip_ws(d, pos + 9, eof), eof)
        elif c == 0x73 and _keyword_at(d, pos, b"stream") and pos + 6 < eof and d[pos + 6] in b"\r\n":
            body = pos + 6
            end = d.find(b"endstream", body, eof)
            if end < 0:
                raise Defect("TRUNCATED", "PDF stream has no endstream", pos)
            pos = end + 9
        else:
            pos += 1
    st.pages = pages if pages > 0 else (max_count if max_count > 0 else 1)
    if xref == -2:
        raise Defect("MALFORMED", "PDF has no startxref", eof)
    if not (_points_at_xref(d, xref) or (start > 0 and xref >= 0 and _points_at_xref(d, start + xref))):
        raise Defect("MALFORMED", "PDF startxref does not point at a cross-reference section", eof)
    return eof + 5
