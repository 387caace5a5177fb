"""Pure-Python twin of the compiled hot path (sidecar._ext._hotpath): same signatures, same results."""

from __future__ import annotations

import hashlib


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
