"""Stage: validate the raw bytes and compute their digest, before anything is decoded.

One call into the hot path (`sidecar.hotpath.inspect_bytes`, compiled or its Python twin)
sniffs the real type, walks the structure and hashes the bytes; this module adds what the
caller declared (MIME type, file name) and the policy from `ValidationSettings`: the limits,
and which findings refuse the document and which only flag it.

Runs in the CPU executor: the compiled walk and hashlib both release the GIL.
"""

from __future__ import annotations

import os
import zlib

from sidecar import hotpath
from sidecar.config import FindingPolicy, ValidationSettings
from sidecar.domain import DocKind, Document, Inspection
from sidecar.errors import InvalidDocument, InvalidRequest, Reason
from sidecar.pipeline.pdf_actions import STREAM_START

_MIME = {
    "application/pdf": DocKind.PDF,
    "application/x-pdf": DocKind.PDF,
    "image/jpeg": DocKind.JPEG,
    "image/jpg": DocKind.JPEG,
    "image/pjpeg": DocKind.JPEG,
    "image/png": DocKind.PNG,
}
_EXT = {".pdf": DocKind.PDF, ".jpg": DocKind.JPEG, ".jpeg": DocKind.JPEG, ".jpe": DocKind.JPEG, ".png": DocKind.PNG}
# Declared types that say nothing about the content; they are not compared.
_GENERIC_MIME = frozenset({"application/octet-stream", "binary/octet-stream"})

# Finding (as the hot path names it) -> (reason when refused, human message).
_FINDINGS: dict[str, tuple[Reason, str]] = {
    "ENCRYPTED": (Reason.ENCRYPTED, "the PDF is encrypted"),
    "ACTIVE_CONTENT": (Reason.ACTIVE_CONTENT, "the PDF contains active content"),
    "FORM_SCRIPT": (Reason.ACTIVE_CONTENT, "the PDF's form carries scripts"),
    "EMBEDDED_FILE": (Reason.ACTIVE_CONTENT, "the PDF contains an embedded file"),
    "TRAILING_DATA": (Reason.TRAILING_DATA, "the document has data after its end marker"),
    "POLYGLOT": (Reason.POLYGLOT, "the document is also valid as another file format"),
}


def _policy(settings: ValidationSettings, finding: str) -> FindingPolicy:
    policies: dict[str, FindingPolicy] = {
        "ENCRYPTED": settings.encrypted,
        "ACTIVE_CONTENT": settings.active_content,
        "FORM_SCRIPT": settings.form_scripts,
        "EMBEDDED_FILE": settings.embedded_file,
        "TRAILING_DATA": settings.trailing_data,
        "POLYGLOT": settings.polyglot,
    }
    return policies[finding]


def _refuse(reason: Reason, message: str, digest: str, **metadata: str) -> InvalidDocument:
    # The digest lets operators find the refused document in the logs; the bytes are never kept.
    return InvalidDocument(message, reason, digest=digest, **metadata)


def _active_content(content: bytes, name: str) -> tuple[str, str]:
    """The hot path saw an active-content name (`name`): ACTIVE_CONTENT when something runs by itself
    when the file is opened (or nothing can be proven), FORM_SCRIPT when only a fillable form's
    scripts do (sidecar/pipeline/pdf_actions.py), with what was found."""
    from sidecar.pipeline.pdf_actions import read_actions

    actions = read_actions(content)
    if actions is None:
        return "ACTIVE_CONTENT", f"{name}: the PDF's actions cannot be read"
    if actions.auto:
        return "ACTIVE_CONTENT", f"{name}: {actions.auto[0]}"
    if actions.form:
        return "FORM_SCRIPT", ", ".join(sorted(set(actions.form)))
    # A name with no action behind it that qpdf can resolve: another reader might resolve it.
    return "ACTIVE_CONTENT", f"{name}: not attached to anything readable"


_DEFLATE_MAX_RATIO = 1032  # the most deflate can shrink data


def _stream_inflating_past(content: bytes, limit: int) -> str:
    """Why a Flate stream of the PDF is a decompression bomb ("" when none is): it would inflate past
    `limit` bytes (3 x max_pixels: an RGB image at the pixel limit). PDFium inflates a page's streams
    whole and cannot be interrupted, so this is found here, by inflating at most `limit` bytes of each
    stream that is big enough to reach it."""
    smallest = limit // _DEFLATE_MAX_RATIO
    for match in STREAM_START.finditer(content):
        end = content.find(b"endstream", match.end())
        if end < 0:
            break
        if (
            end - match.end() <= smallest
            or b"/FlateDecode" not in content[max(0, match.start() - 1024) : match.start()]
        ):
            continue
        inflater, data, out = zlib.decompressobj(), content[match.end() : end], 0
        try:
            while data and not inflater.eof:
                produced = len(inflater.decompress(data, 1 << 22))
                out += produced
                if out > limit:
                    return f"a PDF stream inflates past {limit} bytes"
                if not produced and len(inflater.unconsumed_tail) == len(data):
                    break  # no progress: not deflate data the decoder could use either
                data = inflater.unconsumed_tail
        except zlib.error:
            continue  # not deflate after all: the decoder will say what it is
    return ""


def _check_metadata(doc: Document, settings: ValidationSettings) -> None:
    entries = len(doc.metadata)
    if entries > settings.max_metadata_entries:
        raise InvalidRequest(
            f"the request carries {entries} metadata entries; the limit is {settings.max_metadata_entries}",
            limit=str(settings.max_metadata_entries),
        )
    size = sum(len(k.encode()) + len(v.encode()) for k, v in doc.metadata.items())
    if size > settings.max_metadata_bytes:
        raise InvalidRequest(
            f"the request's metadata is {size} bytes; the limit is {settings.max_metadata_bytes}",
            limit=str(settings.max_metadata_bytes),
        )


def _type_mismatch(doc: Document, kind: DocKind) -> str:
    """Why the caller's MIME type or file name disagrees with the content; "" when they agree."""
    declared = doc.declared_mime.split(";")[0].strip().lower()
    if declared and declared not in _GENERIC_MIME and _MIME.get(declared) is not kind:
        return f"declared {declared!r} but the content is {kind.value}"
    ext = os.path.splitext(doc.filename)[1].lower()
    if ext and _EXT.get(ext) is not kind:
        return f"the file name ends in {ext!r} but the content is {kind.value}"
    return ""


def validate_document(doc: Document, settings: ValidationSettings) -> Inspection:
    """Inspect `doc.content`; return what was learned or raise InvalidDocument with a precise reason."""
    _check_metadata(doc, settings)
    size = len(doc.content)
    if size == 0:
        raise InvalidDocument("the document is empty", Reason.EMPTY)
    if size > settings.max_bytes:
        # Refused before a single byte is hashed: the limit bounds the work per request.
        raise InvalidDocument(
            f"the document is {size} bytes; the limit is {settings.max_bytes}",
            Reason.TOO_LARGE,
            limit=str(settings.max_bytes),
        )
    raw = hotpath.inspect_bytes(doc.content)
    if raw.kind is None:
        raise _refuse(Reason(raw.reason or Reason.UNSUPPORTED_TYPE), raw.detail, raw.digest)
    kind = DocKind(raw.kind)

    flags: list[str] = []
    mismatch = _type_mismatch(doc, kind)
    if mismatch:
        # Phones, scanners and upload widgets misname files all the time: by default the content is
        # validated and classified as what it is, and the answer says so (flag TYPE_MISMATCH).
        if settings.type_mismatch == "refuse":
            raise _refuse(Reason.TYPE_MISMATCH, mismatch, raw.digest)
        flags.append("TYPE_MISMATCH")

    if raw.reason is not None:
        raise _refuse(Reason(raw.reason), raw.detail, raw.digest)

    if kind is not DocKind.PDF and raw.width * raw.height > settings.max_pixels:
        raise _refuse(
            Reason.DECOMPRESSION_BOMB,
            f"the image is {raw.width}x{raw.height} pixels; the limit is {settings.max_pixels}",
            raw.digest,
            limit=str(settings.max_pixels),
        )
    if raw.page_count > settings.max_pages:
        raise _refuse(
            Reason.TOO_LARGE,
            f"the PDF has about {raw.page_count} pages; the limit is {settings.max_pages}",
            raw.digest,
            limit=str(settings.max_pages),
        )

    if kind is DocKind.PDF:
        # Before anything inflates the PDF's streams (the object-graph read below, PDFium at decode).
        bomb = _stream_inflating_past(doc.content, 3 * settings.max_pixels)
        if bomb:
            raise _refuse(Reason.DECOMPRESSION_BOMB, bomb, raw.digest, limit=str(3 * settings.max_pixels))
    findings = list(raw.findings)
    if kind is DocKind.PDF and "ACTIVE_CONTENT" not in findings and b"/ObjStm" in doc.content:
        # Names in compressed object streams are out of the hot path's sight: inflate and look.
        from sidecar.pipeline.pdf_actions import name_in_object_streams

        hidden = name_in_object_streams(doc.content)
        if hidden:
            findings.insert(1 if findings[:1] == ["ENCRYPTED"] else 0, "ACTIVE_CONTENT")  # the twins' order
            raw = raw._replace(active=hidden.lstrip("/"))
    for finding in findings:
        detail = f"/{raw.active}" if raw.active else ""
        if finding == "ACTIVE_CONTENT" and kind is DocKind.PDF:
            finding, detail = _active_content(doc.content, detail)
        reason, message = _FINDINGS[finding]
        if _policy(settings, finding) == "refuse":
            if finding in ("ACTIVE_CONTENT", "FORM_SCRIPT") and detail:
                message = f"{message} ({detail})"
            raise _refuse(reason, message, raw.digest)
        flags.append(finding)
    return Inspection(
        kind=kind,
        digest=raw.digest,
        size=size,
        width=raw.width,
        height=raw.height,
        page_count=raw.page_count,
        flags=tuple(flags),
    )
