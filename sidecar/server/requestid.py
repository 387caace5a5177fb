"""Request ids: the caller's `x-request-id` when it is sane, else a new UUIDv7 (time-sortable)."""

from __future__ import annotations

import contextvars
import os
import re
import time
import uuid
from collections.abc import Iterable

HEADER = "x-request-id"
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
# Set by the gateway interceptor for the RPC it admits, so that it and the servicer agree.
assigned: contextvars.ContextVar[str | None] = contextvars.ContextVar("doctriage_request_id", default=None)


def uuid7() -> str:
    """RFC 9562 UUID version 7: 48-bit Unix milliseconds, then random bits."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & (2**48 - 1)) << 80 | rand & (2**80 - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def request_id_from(metadata: Iterable[tuple[str, str | bytes]] | None) -> str:
    already = assigned.get()
    if already is not None:
        return already
    for key, value in metadata or ():
        if key.lower() == HEADER and isinstance(value, str) and _VALID.match(value):
            return value
    return uuid7()
