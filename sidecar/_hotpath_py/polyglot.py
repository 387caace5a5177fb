"""What lies before a PDF's header and after a document's end marker: nothing, trailing data, or
another format (a polyglot)."""

from __future__ import annotations

from sidecar._hotpath_py.common import JPEG_SIG, PNG_SIG, POLYGLOT, TRAILING_DATA, skip_ws

# Other formats' magic numbers: data after the end marker that starts with one is a polyglot.
_FOREIGN_SIGNATURES = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"%PDF-",
    PNG_SIG,
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


def tail_findings(d: bytes, kind: str, end: int) -> str | None:
    n = len(d)
    first = skip_ws(d, end, n)
    if first >= n:
        return None
    if _zip_directory_at_end(d, end):
        return POLYGLOT
    for sig in _FOREIGN_SIGNATURES:
        if d.startswith(sig, first):
            return POLYGLOT
    if kind != "jpeg" and d.startswith(JPEG_SIG, first):
        return POLYGLOT
    return TRAILING_DATA


def head_class(d: bytes, pdf_at: int) -> str | None:
    """The bytes before a PDF's header: None when only whitespace (and a UTF-8 BOM), POLYGLOT when
    another format (or HTML) starts there, else TRAILING_DATA (e.g. HTTP headers saved with the file)."""
    p = skip_ws(d, 3 if d.startswith(_UTF8_BOM) else 0, pdf_at)
    if p >= pdf_at:
        return None
    if any(d.startswith(sig, p) for sig in (*_FOREIGN_SIGNATURES, *_HTML_MARKERS, JPEG_SIG)):
        return POLYGLOT
    return TRAILING_DATA
