"""Stage: validate the raw bytes and compute their digest, before anything is decoded.

(Foundation version: size, emptiness, type sniffing and the digest. The structural
walk and policy arrive with the validation issue.)
"""

from __future__ import annotations

import os

from sidecar import hotpath
from sidecar.config import ValidationSettings
from sidecar.domain import DocKind, Document, Inspection
from sidecar.errors import InvalidDocument, Reason

_MIME = {"application/pdf": DocKind.PDF, "image/jpeg": DocKind.JPEG, "image/jpg": DocKind.JPEG, "image/png": DocKind.PNG}
_EXT = {".pdf": DocKind.PDF, ".jpg": DocKind.JPEG, ".jpeg": DocKind.JPEG, ".png": DocKind.PNG}


def validate_document(doc: Document, settings: ValidationSettings) -> Inspection:
    size = len(doc.content)
    if size == 0:
        raise InvalidDocument("the document is empty", Reason.EMPTY)
    if size > settings.max_bytes:
        raise InvalidDocument(
            f"the document is {size} bytes; the limit is {settings.max_bytes}", Reason.TOO_LARGE, limit=str(settings.max_bytes)
        )
    kind_name, digest = hotpath.sniff_and_digest(doc.content)
    if kind_name is None:
        raise InvalidDocument("only PDF, JPEG and PNG documents are accepted", Reason.UNSUPPORTED_TYPE)
    kind = DocKind(kind_name)
    declared = doc.declared_mime.split(";")[0].strip().lower()
    if declared and _MIME.get(declared) is not kind:
        raise InvalidDocument(f"declared {declared!r} but the content is {kind.value}", Reason.TYPE_MISMATCH)
    ext = os.path.splitext(doc.filename)[1].lower()
    if ext and _EXT.get(ext) is not kind:
        raise InvalidDocument(f"file name ends in {ext!r} but the content is {kind.value}", Reason.TYPE_MISMATCH)
    return Inspection(kind=kind, digest=digest, size=size)
