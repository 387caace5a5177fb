"""validate_document: every reason on hand-made files, the limits and the finding policy, on both twins."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path
from types import ModuleType

import pytest

from harness.documents import (
    EICAR,
    PNG_SIG,
    ihdr,
    jpeg_with_comment,
    make_jpeg,
    make_pdf,
    make_png,
    minimal_zip,
    pdf_with_stream,
    png_chunk,
)
from harness.hotpath_impls import IMPLEMENTATIONS
from sidecar import hotpath
from sidecar.config import ValidationSettings
from sidecar.domain import DocKind, Document
from sidecar.errors import InvalidDocument, Reason
from sidecar.pipeline.validate import validate_document

REAL_DOCS = Path(__file__).resolve().parents[3] / "shared" / "real-docs" / "files"


@pytest.fixture(params=IMPLEMENTATIONS, autouse=True)
def impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module: ModuleType = request.param
    monkeypatch.setattr(hotpath, "inspect_bytes", module.inspect_bytes)
    return module


def refused(content: bytes, settings: ValidationSettings | None = None, **fields: str) -> InvalidDocument:
    with pytest.raises(InvalidDocument) as caught:
        validate_document(Document(content=content, **fields), settings or ValidationSettings())  # type: ignore[arg-type]
    assert caught.value.message
    return caught.value


def accepted(content: bytes, settings: ValidationSettings | None = None, **fields: str):  # type: ignore[no-untyped-def]
    return validate_document(Document(content=content, **fields), settings or ValidationSettings())  # type: ignore[arg-type]


# -- accepted documents -----------------------------------------------------------------------


def test_png_is_inspected() -> None:
    data = make_png(120, 80)
    inspection = accepted(data, filename="scan.PNG", declared_mime="image/png")
    assert inspection.kind is DocKind.PNG
    assert (inspection.width, inspection.height, inspection.size) == (120, 80, len(data))
    assert inspection.digest == hashlib.sha256(data).hexdigest()
    assert inspection.flags == ()


def test_jpeg_is_inspected() -> None:
    inspection = accepted(make_jpeg(64, 32), filename="photo.jpeg", declared_mime="image/jpeg; charset=binary")
    assert (inspection.kind, inspection.width, inspection.height) == (DocKind.JPEG, 64, 32)


def test_pdf_pages_are_estimated() -> None:
    inspection = accepted(make_pdf(pages=5), filename="invoice.pdf", declared_mime="application/pdf")
    assert (inspection.kind, inspection.page_count) == (DocKind.PDF, 5)


def test_generic_mime_type_is_not_compared() -> None:
    assert accepted(make_pdf(), declared_mime="application/octet-stream").kind is DocKind.PDF


def test_eicar_inside_a_pdf_is_structurally_valid() -> None:
    # Validation does not look for malware; the scan stage does (tests/integration/test_clamd.py).
    assert accepted(pdf_with_stream(EICAR)).kind is DocKind.PDF


# -- one test per reason ------------------------------------------------------------------------


def test_empty() -> None:
    assert refused(b"").reason is Reason.EMPTY


def test_too_large_is_refused_before_hashing() -> None:
    error = refused(make_pdf() + b" " * 2048, ValidationSettings(max_bytes=1024))
    assert error.reason is Reason.TOO_LARGE
    assert error.metadata["limit"] == "1024"


def test_too_large_default_limit_is_10_mib() -> None:
    assert refused(b"%PDF-1.7\n" + b"\0" * (10 * 1024 * 1024)).reason is Reason.TOO_LARGE


@pytest.mark.parametrize(
    "content", [b"GIF89a...", b"PK\x03\x04zip", b"<html>", EICAR, b"\x00" * 100, b"%PDF"], ids=repr
)
def test_unsupported_type(content: bytes) -> None:
    assert refused(content).reason is Reason.UNSUPPORTED_TYPE


@pytest.mark.parametrize(
    ("content", "fields"),
    [
        (make_pdf(), {"declared_mime": "image/png"}),
        (make_png(), {"declared_mime": "application/pdf"}),
        (make_jpeg(), {"filename": "photo.png"}),
        (make_png(), {"filename": "report.pdf"}),
        (make_pdf(), {"filename": "invoice.exe"}),
        (make_pdf(), {"declared_mime": "text/html"}),
    ],
)
def test_type_mismatch_is_flagged_by_default_and_refused_by_policy(content: bytes, fields: dict[str, str]) -> None:
    # A JPEG saved as .png (phones, scanners and upload widgets misname files): validated and classified as
    # what the content is, with the flag; operators who want the old behaviour set type_mismatch = "refuse".
    inspection = accepted(content, **fields)
    assert inspection.flags == ("TYPE_MISMATCH",)
    assert inspection.kind.value in ("pdf", "png", "jpeg")
    error = refused(content, ValidationSettings(type_mismatch="refuse"), **fields)
    assert error.reason is Reason.TYPE_MISMATCH and "the content is" in error.message


def test_a_misnamed_file_is_still_checked_as_what_it_is() -> None:
    png = bytearray(make_png())
    png[20] ^= 1  # inside IHDR: a bad CRC
    assert refused(bytes(png), filename="photo.jpg").reason is Reason.MALFORMED
    js = make_pdf(catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> ")
    assert refused(js, filename="scan.png").reason is Reason.ACTIVE_CONTENT


def test_malformed_png_crc_carries_the_digest() -> None:
    png = bytearray(make_png())
    png[20] ^= 1  # inside IHDR
    error = refused(bytes(png))
    assert error.reason is Reason.MALFORMED
    assert "CRC" in error.message
    assert error.metadata["digest"] == hashlib.sha256(bytes(png)).hexdigest()


@pytest.mark.parametrize(
    "content",
    [
        PNG_SIG + ihdr(0, 5) + png_chunk(b"IEND", b""),  # zero width
        PNG_SIG + ihdr(4, 4, depth=3) + png_chunk(b"IEND", b""),  # invalid bit depth
        PNG_SIG + ihdr(4, 4) + png_chunk(b"IEND", b""),  # no IDAT
        PNG_SIG + ihdr(2, 2, colour=3) + png_chunk(b"IDAT", zlib.compress(b"\0\0\0" * 2)) + png_chunk(b"IEND", b""),
        PNG_SIG + ihdr(4, 4) + png_chunk(b"IDAT", b"x") + ihdr(4, 4) + png_chunk(b"IEND", b""),  # two IHDR
        PNG_SIG + ihdr(4, 4) + png_chunk(b"ID1T", b"x") + png_chunk(b"IEND", b""),  # bad chunk type
        make_jpeg()[:20] + b"\x00\x00" + make_jpeg()[20:],  # not a marker after APP0
        make_jpeg()[:-2] + b"\xff\xd8" + b"\xff\xd9",  # second SOI
        b"\xff\xd8\xff\xc0\x00\x0b\x08\x00\x10\x00\x10\x05\x01\x11\x00\xff\xd9",  # 5 components
        b"%PDF-1.7\nxref\n%%EOF",  # no startxref
    ],
)
def test_malformed(content: bytes) -> None:
    assert refused(content).reason is Reason.MALFORMED


@pytest.mark.parametrize(
    "content",
    [
        make_png()[:40],
        make_png()[:-12],
        make_jpeg()[:-2],
        make_jpeg()[:100],
        make_pdf()[:-8],
        b"%PDF-1.7\n(unterminated string %%EOF",
        b"%PDF-1.7\n<< /Length 5 >>\nstream\nabc %%EOF",
    ],
)
def test_truncated(content: bytes) -> None:
    assert refused(content).reason is Reason.TRUNCATED


@pytest.mark.parametrize(
    ("catalog", "name"),
    [
        (b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> ", "JavaScript"),
        (b"/OpenAction << /S /J#61vaScript /J#53 (x) >> ", "JavaScript"),
        (b"/OpenAction 7 0 R /J#53 (x) ", "JS"),
        (b"/OpenAction << /S /#4c#61#75#6e#63#68 /F (calc) >> ", "Launch"),
        (b"/AA << /O 9 0 R >> ", "AA"),
        (b"/RichMedia 9 0 R ", "RichMedia"),
        (b"/AcroForm << /XFA 9 0 R >> ", "XFA"),
    ],
)
def test_active_content(catalog: bytes, name: str) -> None:
    error = refused(make_pdf(catalog_extra=catalog))
    assert error.reason is Reason.ACTIVE_CONTENT
    assert f"/{name}" in error.message


def test_active_names_inside_strings_comments_and_streams_are_not_active_content() -> None:
    content = b"BT (/JavaScript is just text) Tj ET % /JS in a comment\n/JS"
    assert accepted(make_pdf(content=content)).flags == ()
    catalog = b"/Title (see /Launch and /AA) /Info <2F4A53> "
    assert accepted(make_pdf(catalog_extra=catalog)).flags == ()


def test_embedded_file_flagged_by_default_and_refused_by_policy() -> None:
    # Factur-X/ZUGFeRD e-invoices embed their XML: flagged, and left to clamd (tests/integration/test_clamd.py).
    pdf = make_pdf(catalog_extra=b"/Names << /EmbeddedFiles << /Names [(factur-x.xml) 9 0 R] >> >> ")
    assert accepted(pdf).flags == ("EMBEDDED_FILE",)
    assert refused(pdf, ValidationSettings(embedded_file="refuse")).reason is Reason.ACTIVE_CONTENT


def test_encrypted_flagged_by_default_and_refused_by_policy() -> None:
    # Whether it opens without a password is for decode to find out (tests/unit/test_decode.py).
    pdf = make_pdf(trailer_extra=b"/Encrypt 9 0 R /ID [<00><00>] ")
    assert accepted(pdf).flags == ("ENCRYPTED",)
    assert refused(pdf, ValidationSettings(encrypted="refuse")).reason is Reason.ENCRYPTED


def test_decompression_bomb_refused_before_decoding() -> None:
    bomb = PNG_SIG + ihdr(50_000, 50_000) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b"")
    error = refused(bomb)
    assert error.reason is Reason.DECOMPRESSION_BOMB
    assert accepted(make_png(100, 100), ValidationSettings(max_pixels=10_000)).width == 100
    assert refused(make_png(101, 100), ValidationSettings(max_pixels=10_000)).reason is Reason.DECOMPRESSION_BOMB
    jpeg = make_jpeg(16, 16)
    at = jpeg.index(b"\xff\xc0")
    huge = jpeg[: at + 5] + struct.pack(">HH", 40_000, 40_000) + jpeg[at + 9 :]
    assert refused(huge).reason is Reason.DECOMPRESSION_BOMB


def test_too_many_pages() -> None:
    assert refused(make_pdf(pages=12), ValidationSettings(max_pages=10)).reason is Reason.TOO_LARGE


@pytest.mark.parametrize(
    "content",
    [
        make_png() + minimal_zip(),  # PNG + ZIP (the ZIP directory ends the file)
        make_jpeg() + minimal_zip(),
        make_pdf() + minimal_zip(),
        make_png() + b"\x7fELF\x02\x01\x01",  # an executable appended
        make_png() + make_pdf(),
        jpeg_with_comment(b"%PDF-1.5 in a JPEG comment"),  # PDF readers find the header
        make_png(extra=png_chunk(b"tEXt", b"Comment\0%PDF-1.4")),  # header in the first 1024 bytes
        b"GIF89a" + make_pdf(),  # something before the PDF header
    ],
)
def test_polyglot(content: bytes) -> None:
    assert refused(content).reason is Reason.POLYGLOT


def test_trailing_data_flagged_by_default_and_refused_by_policy() -> None:
    for content in (make_png() + b"junk", make_jpeg() + b"junk", make_pdf() + b"junk"):
        assert accepted(content).flags == ("TRAILING_DATA",)
        assert refused(content, ValidationSettings(trailing_data="refuse")).reason is Reason.TRAILING_DATA
    # Padding is not data.
    assert accepted(make_jpeg() + b"\0" * 100).flags == ()
    assert accepted(make_pdf() + b"\r\n  \n").flags == ()


def test_what_web_downloads_leave_around_a_pdf_is_not_a_polyglot() -> None:
    # A blank line or a byte-order mark before the header (a web page's script printed it first): harmless.
    for prefix in (b"\r\n", b"\n\n  ", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n"):
        assert accepted(prefix + make_pdf()).flags == ()
    # HTTP headers saved with the file, or the portal's HTML page written after it: trailing data, flagged.
    http = b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n\r\n"
    html = b"\r\n<!DOCTYPE html>\n<html><body>Your bill</body></html>\n"
    for content in (http + make_pdf(), make_pdf() + html, make_png() + b"<script>x</script>"):
        assert accepted(content).flags == ("TRAILING_DATA",)
        assert refused(content, ValidationSettings(trailing_data="refuse")).reason is Reason.TRAILING_DATA
    # HTML where a browser looks for it, before the PDF: the file is both.
    assert refused(b"<html><body>" + make_pdf()).reason is Reason.POLYGLOT
    assert refused(b"\r\nMZ\x90\x00" + make_pdf()).reason is Reason.POLYGLOT


def test_jpeg_after_jpeg_is_trailing_data_not_a_polyglot() -> None:
    # MPO files (stereo cameras) append a second JPEG after EOI.
    assert accepted(make_jpeg() + make_jpeg()).flags == ("TRAILING_DATA",)


def test_polyglot_can_be_flagged_by_policy() -> None:
    assert accepted(make_png() + minimal_zip(), ValidationSettings(polyglot="flag")).flags == ("POLYGLOT",)


def test_incremental_update_pdf_is_valid() -> None:
    pdf = make_pdf()
    xref = pdf.rindex(b"xref")
    update = b"\n6 0 obj\n<< /Producer (edit) >>\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref
    assert accepted(pdf + update).flags == ()


def test_xref_stream_pdf_is_valid() -> None:
    body = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    xref_at = len(body)
    body += b"9 0 obj\n<< /Type /XRef /Size 10 /W [1 2 1] /Length 4 >>\nstream\n\x01\x00\x00\x00\nendstream\nendobj\n"
    body += b"startxref\n%d\n%%%%EOF\n" % xref_at
    assert accepted(body).kind is DocKind.PDF


@pytest.mark.skipif(not REAL_DOCS.is_dir(), reason="../shared/real-docs is absent")
@pytest.mark.realdocs
def test_real_documents_are_not_refused_as_malformed() -> None:
    # Policy findings (encryption, attachments, scripts) may refuse; structure must not.
    settings = ValidationSettings(
        encrypted="flag", active_content="flag", embedded_file="flag", trailing_data="flag", max_bytes=50 << 20
    )
    paths = sorted(p for p in REAL_DOCS.rglob("*") if p.is_file())
    assert paths
    for path in paths:
        inspection = accepted(path.read_bytes(), settings, filename=path.name)
        assert inspection.kind.value in {"pdf", "jpeg", "png"}, path
