"""Pure-Python twin of the compiled hot path (sidecar._ext._hotpath): same signatures, same results.

This package is the readable specification of the structural walk; `_ext/_hotpath.pyx` is its
line-by-line port to C. Any change here must be mirrored there (the property tests compare both).
The walk reports facts (kind, dimensions, the first structural defect, findings); policy —
which findings refuse — lives in `sidecar.pipeline.validate`.

Here: the entry points (`sniff_and_digest`, `inspect_bytes`) and what they return (`RawInspection`);
the walk of each format in png.py, jpeg.py and pdf.py; what lies before and after a document in
polyglot.py; what they share (the findings' names, the defect, the state) in common.py.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from sidecar._hotpath_py.common import (
    ACTIVE_CONTENT,
    EMBEDDED_FILE,
    ENCRYPTED,
    JPEG_SIG,
    PNG_SIG,
    POLYGLOT,
    TRAILING_DATA,
    Defect,
    State,
)
from sidecar._hotpath_py.jpeg import walk_jpeg
from sidecar._hotpath_py.pdf import walk_pdf
from sidecar._hotpath_py.png import walk_png
from sidecar._hotpath_py.polyglot import head_class, tail_findings

__all__ = [
    "ACTIVE_CONTENT",
    "EMBEDDED_FILE",
    "ENCRYPTED",
    "POLYGLOT",
    "TRAILING_DATA",
    "RawInspection",
    "inspect_bytes",
    "sniff_and_digest",
]

# PDF readers accept the header anywhere in the first 1024 bytes; so do we, as a polyglot.
_PDF_HEAD_WINDOW = 1024


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


def _findings(st: State, tail: str | None, head: str | None) -> tuple[str, ...]:
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
    st = State()
    n = len(d)
    if n == 0:
        return RawInspection(None, digest, "EMPTY", "the document is empty", 0, 0, 0, (), "")
    pdf_at = d.find(b"%PDF-", 0, _PDF_HEAD_WINDOW)
    kind: str | None
    if d.startswith(PNG_SIG):
        kind = "png"
    elif d.startswith(JPEG_SIG):
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
        head = head_class(d, pdf_at) if pdf_at > 0 else None
    elif pdf_at >= 0:
        head = POLYGLOT
    tail: str | None = None
    try:
        if kind == "png":
            end = walk_png(d, st)
        elif kind == "jpeg":
            end = walk_jpeg(d, st)
        else:
            end = walk_pdf(d, pdf_at, st)
        tail = tail_findings(d, kind, end)
    except Defect as defect:
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
