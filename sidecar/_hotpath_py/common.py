"""What every part of the walk shares: the findings' names, the signatures, the defect that ends a
walk, the facts it gathers (`State`), big-endian reads and PDF whitespace."""

from __future__ import annotations

# Findings, in the canonical order both twins report them.
ENCRYPTED = "ENCRYPTED"
ACTIVE_CONTENT = "ACTIVE_CONTENT"
EMBEDDED_FILE = "EMBEDDED_FILE"
TRAILING_DATA = "TRAILING_DATA"
POLYGLOT = "POLYGLOT"

PNG_SIG = b"\x89PNG\r\n\x1a\n"
_WHITESPACE = b" \t\r\n\f\x00"
PDF_DELIMITERS = b" \t\r\n\f\x00()<>[]{}/%"
JPEG_SIG = b"\xff\xd8\xff"


class Defect(Exception):
    def __init__(self, reason: str, message: str, offset: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = f"{message} (offset {offset})"


class State:
    __slots__ = ("active", "embedded", "encrypted", "has_active", "height", "pages", "width")

    def __init__(self) -> None:
        self.width = 0
        self.height = 0
        self.pages = 1
        self.encrypted = False
        self.has_active = False
        self.embedded = False
        self.active = b""


def be32(d: bytes, i: int) -> int:
    return (d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3]


def be16(d: bytes, i: int) -> int:
    return (d[i] << 8) | d[i + 1]


def skip_ws(d: bytes, pos: int, end: int) -> int:
    while pos < end and d[pos] in _WHITESPACE:
        pos += 1
    return pos
