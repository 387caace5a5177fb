"""Regenerates the malformed-document corpus and expected.json (python -m tests.corpus.malformed.make_corpus).

Every file is hand-made to be refused (or flagged) for exactly one reason; expected.json records
the reason, the stage that must catch it ("validate" or "scan") and, where the case needs them,
the declared MIME type and file name. The files are committed: tests read them, never this script.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from harness.documents import (
    EICAR,
    PNG_SIG,
    TEST_MARKER,
    ihdr,
    jpeg_sof_dims,
    jpeg_with_comment,
    make_jpeg,
    make_pdf,
    make_png,
    minimal_zip,
    pdf_with_stream,
    png_chunk,
)

HERE = Path(__file__).resolve().parent


def cases() -> dict[str, tuple[bytes, dict[str, object]]]:
    png = make_png(16, 16)
    jpeg = make_jpeg(32, 24)
    pdf = make_pdf()
    tiny_idat = png_chunk(b"IDAT", zlib.compress(b"\0" * 4))
    iend = png_chunk(b"IEND", b"")
    out: dict[str, tuple[bytes, dict[str, object]]] = {
        "empty.pdf": (b"", {"reason": "EMPTY"}),
        "gif_image.gif": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", {"reason": "UNSUPPORTED_TYPE"}),
        "pdf_declared_as_png.png": (pdf, {"reason": None, "flags": ["TYPE_MISMATCH"], "mime": "image/png"}),
        "png_truncated.png": (png[: len(png) - 20], {"reason": "TRUNCATED"}),
        "png_no_iend.png": (png[:-12], {"reason": "TRUNCATED"}),
        "png_bad_crc.png": (png[:29] + bytes([png[29] ^ 0xFF]) + png[30:], {"reason": "MALFORMED"}),
        "png_zero_width.png": (PNG_SIG + ihdr(0, 16) + tiny_idat + iend, {"reason": "MALFORMED"}),
        "png_idat_before_ihdr.png": (PNG_SIG + tiny_idat + ihdr(1, 1) + iend, {"reason": "MALFORMED"}),
        "png_huge_dims.png": (PNG_SIG + ihdr(100_000, 100_000) + tiny_idat + iend, {"reason": "DECOMPRESSION_BOMB"}),
        "png_zip_polyglot.png": (png + minimal_zip(), {"reason": "POLYGLOT"}),
        "png_trailing_data.png": (png + b"trailing bytes", {"reason": None, "flags": ["TRAILING_DATA"]}),
        "png_with_test_signature.png": (
            make_png(8, 8, extra=png_chunk(b"tEXt", b"Comment\0" + TEST_MARKER)),
            {"reason": "MALWARE", "stage": "scan"},
        ),
        "jpeg_truncated.jpg": (jpeg[: len(jpeg) // 2], {"reason": "TRUNCATED"}),
        "jpeg_zero_dims.jpg": (jpeg_sof_dims(jpeg, 0, 0), {"reason": "MALFORMED"}),
        "jpeg_huge_dims.jpg": (jpeg_sof_dims(jpeg, 65_535, 65_535), {"reason": "DECOMPRESSION_BOMB"}),
        "jpeg_no_frame_header.jpg": (b"\xff\xd8\xff\xfe\x00\x04hi\xff\xd9", {"reason": "MALFORMED"}),
        "jpeg_pdf_polyglot.jpg": (jpeg_with_comment(b"%PDF-1.4\n1 0 obj << >> endobj"), {"reason": "POLYGLOT"}),
        "pdf_bad_header.pdf": (b"%PDF-x.y" + pdf[8:], {"reason": "MALFORMED"}),
        "pdf_truncated.pdf": (pdf[: len(pdf) // 2], {"reason": "TRUNCATED"}),
        "pdf_unterminated_stream.pdf": (
            b"%PDF-1.4\n1 0 obj << /Length 99 >>\nstream\nxxxx\n%%EOF\n",
            {"reason": "TRUNCATED"},
        ),
        "pdf_no_startxref.pdf": (pdf.replace(b"startxref", b"startxrex"), {"reason": "MALFORMED"}),
        "pdf_bad_startxref.pdf": (make_pdf(xref_shift=7), {"reason": "MALFORMED"}),
        "pdf_javascript.pdf": (
            make_pdf(catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> "),
            {"reason": "ACTIVE_CONTENT"},
        ),
        "pdf_javascript_obfuscated.pdf": (
            make_pdf(catalog_extra=b"/OpenAction << /S /J#61va#53cript /J#53 (app.alert\\(1\\)) >> "),
            {"reason": "ACTIVE_CONTENT"},
        ),
        "pdf_launch.pdf": (
            make_pdf(catalog_extra=b"/OpenAction << /S /Launch /F (cmd.exe) >> "),
            {"reason": "ACTIVE_CONTENT"},
        ),
        "pdf_page_aa.pdf": (make_pdf(catalog_extra=b"/AA << /WC 9 0 R >> "), {"reason": "ACTIVE_CONTENT"}),
        "pdf_embedded_file.pdf": (
            make_pdf(catalog_extra=b"/Names << /EmbeddedFiles << /Names [(a.exe) 9 0 R] >> >> "),
            {"reason": None, "flags": ["EMBEDDED_FILE"]},  # flagged by default; clamd scans what it holds
        ),
        "pdf_xfa.pdf": (make_pdf(catalog_extra=b"/AcroForm << /XFA 9 0 R >> "), {"reason": "ACTIVE_CONTENT"}),
        "pdf_encrypted.pdf": (make_pdf(trailer_extra=b"/Encrypt 9 0 R "), {"reason": None, "flags": ["ENCRYPTED"]}),
        "pdf_zip_polyglot.pdf": (pdf + minimal_zip(), {"reason": "POLYGLOT"}),
        "pdf_after_preamble.pdf": (b"MZ\x90\x00junk\n" + pdf, {"reason": "POLYGLOT"}),
        "pdf_with_eicar.pdf": (pdf_with_stream(EICAR), {"reason": "MALWARE", "stage": "scan"}),
    }
    return out


def main() -> None:
    expected: dict[str, dict[str, object]] = {}
    for name, (data, case) in cases().items():
        (HERE / name).write_bytes(data)
        expected[name] = {"stage": "validate", "mime": "", **case}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
