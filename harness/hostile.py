"""The generated hostile corpus: 200+ malformed and adversarial documents, made here deterministically
(nothing committed), each with the reason it must be refused with (or the flag it must carry).

    cases() -> list[Case]

- truncation at every structural boundary of a PNG (each chunk, and inside it), a JPEG (each marker)
  and a PDF (each object, the xref, the trailer): TRUNCATED;
- one flipped bit in every chunk of a PNG (type, data or CRC): MALFORMED;
- decompression bombs of every format (PNG and JPEG dimensions; a PNG whose 1 MB of IDAT inflates
  to 1 GB behind tiny dimensions; a PDF page stream that inflates to 1 GB; a PDF page 200 m wide);
- PDFs with JavaScript, launch actions, page and document actions, document-level scripts, RichMedia,
  plain, #xx-obfuscated and hidden in compressed object streams: ACTIVE_CONTENT;
- polyglots (ZIP appended, a PDF header in an image, another format before a PDF): POLYGLOT;
- zero length (EMPTY); non-document images (GIF, BMP, TIFF, WebP, ICO: UNSUPPORTED_TYPE);
- deeply nested PDF arrays and dictionaries (answered or MALFORMED, never a crash);
- malware inside well-formed containers: the test signatures in a PDF attachment, a PDF stream, a PNG
  text chunk and a JPEG comment: MALWARE (clamd).
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass, field

from PIL import Image

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
    pdf_with_attachment,
    pdf_with_stream,
    png_chunk,
)

ANY = "ANY"  # an answer or MALFORMED: what matters is that the server neither crashes nor hangs


@dataclass(frozen=True)
class Case:
    name: str
    content: bytes
    reason: str | None  # the refusal reason; None: answered (with `flags`); ANY: answered or MALFORMED
    flags: tuple[str, ...] = field(default=())
    scan: bool = False  # only clamd can find it


def _png() -> bytes:
    text = png_chunk(b"tEXt", b"Comment\0a scanned page") + png_chunk(b"pHYs", struct.pack(">IIB", 3780, 3780, 1))
    return make_png(48, 32, extra=text, idat_size=160)  # a dozen IDAT chunks


def _chunks(png: bytes) -> list[tuple[int, int]]:
    """(start, end) of every chunk after the signature."""
    out, pos = [], len(PNG_SIG)
    while pos + 8 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        out.append((pos, pos + 12 + length))
        pos += 12 + length
    return out


def truncations() -> list[Case]:
    cases = []
    png = _png()
    for i, (start, end) in enumerate(_chunks(png)):
        for cut in sorted({start, start + 4, start + 8, (start + end) // 2, end - 2}):
            if 0 < cut < len(png):
                cases.append(Case(f"png_cut_chunk{i}_at{cut}", png[:cut], "TRUNCATED"))
    out = io.BytesIO()  # progressive: a scan (SOS) per pass, and their tables: many boundaries
    Image.effect_noise((64, 48), 40).convert("RGB").save(out, "JPEG", quality=80, progressive=True)
    jpeg = out.getvalue()
    markers = [m.start() for m in re.finditer(rb"\xff[\xc0-\xfe]", jpeg) if m.start() > 3]
    for cut in sorted(set(markers)):
        cases.append(Case(f"jpeg_cut_at{cut}", jpeg[:cut], "TRUNCATED"))
    for cut in sorted({m.start() for m in re.finditer(rb"\xff[\xc0-\xfe]", make_jpeg(32, 24)) if m.start() > 3}):
        cases.append(Case(f"jpeg_baseline_cut_at{cut}", make_jpeg(32, 24)[:cut], "TRUNCATED"))
    pdf = make_pdf(pages=4)
    bounds = [m.start() for m in re.finditer(rb"\d+ 0 obj|endobj|xref|trailer|startxref|%%EOF", pdf)]
    for cut in sorted(set(bounds)):
        if cut > 16:
            cases.append(Case(f"pdf_cut_at{cut}", pdf[:cut], "TRUNCATED"))
    return cases


def _palette_png() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((40, 30), 60).convert("P").save(out, "PNG")  # IHDR, PLTE, IDAT, IEND (Pillow's)
    return out.getvalue()


def bit_flips() -> list[Case]:
    cases = []
    for kind, png in (("rgb", _png()), ("palette", _palette_png())):
        cases += _flips(kind, png)
    # Structural fields: what the walk checks before any pixel.
    good = _png()
    body = good[len(PNG_SIG) + 25 :]  # after IHDR
    idat = zlib.compress(b"\0" * 64)
    structural = {
        "bad_depth": PNG_SIG + ihdr(4, 3, depth=7) + body,
        "bad_colour": PNG_SIG + ihdr(4, 3, colour=5) + body,
        "zero_height": PNG_SIG + ihdr(4, 0) + body,
        "no_ihdr": PNG_SIG + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""),
        "two_ihdr": PNG_SIG + ihdr(4, 3) + ihdr(4, 3) + body,
        "no_idat": PNG_SIG + ihdr(4, 3) + png_chunk(b"IEND", b""),
        "palette_without_plte": PNG_SIG + ihdr(4, 3, colour=3) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""),
        "chunk_type_not_letters": PNG_SIG + ihdr(4, 3) + png_chunk(b"ID\x00T", idat) + png_chunk(b"IEND", b""),
    }
    cases += [Case(f"png_{k}", v, "MALFORMED") for k, v in structural.items()]
    return cases


def _flips(kind: str, png: bytes) -> list[Case]:
    cases = []
    for i, (start, end) in enumerate(_chunks(png)):
        for offset in sorted({start + 4, start + 8, (start + end) // 2, end - 1}):  # type, data, CRC
            if offset < end:
                flipped = bytearray(png)
                flipped[offset] ^= 0x10
                cases.append(Case(f"png_{kind}_flip_chunk{i}_at{offset}", bytes(flipped), "MALFORMED"))
    return cases


def bombs() -> list[Case]:
    cases = [
        Case(
            "png_dims_100k",
            PNG_SIG + ihdr(100_000, 100_000) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b""),
            "DECOMPRESSION_BOMB",
        ),
        Case(
            "png_dims_20k",
            PNG_SIG + ihdr(20_000, 20_000) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b""),
            "DECOMPRESSION_BOMB",
        ),
        Case("jpeg_dims_65535", jpeg_sof_dims(make_jpeg(), 65_535, 65_535), "DECOMPRESSION_BOMB"),
        Case("jpeg_dims_20000", jpeg_sof_dims(make_jpeg(), 20_000, 20_000), "DECOMPRESSION_BOMB"),
    ]
    # 1 GB of zeros behind a 16x16 image: the decoder reads what the dimensions need, no more.
    zeros = zlib.compressobj(9)
    idat = b"".join(zeros.compress(b"\0" * (1 << 20)) for _ in range(1024)) + zeros.flush()
    cases.append(Case("png_idat_inflates_1gb", PNG_SIG + ihdr(16, 16, colour=0) + png_chunk(b"IDAT", idat)
                      + png_chunk(b"IEND", b""), ANY))  # fmt: skip
    # A page content stream that inflates to 1 GB: the render stops at its time limit.
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(idat) + idat + b"\nendstream"
    pdf = make_pdf(extra_objects=(stream,)).replace(b"/Contents 4 0 R", b"/Contents 5 0 R")
    cases.append(Case("pdf_content_inflates_1gb", pdf, "DECOMPRESSION_BOMB"))
    # A page 200 m on a side: rendered at a scale capped by max_pixels.
    big = make_pdf().replace(b"/MediaBox [0 0 612 792]", b"/MediaBox [0 0 14400 14400] /UserUnit 40")
    cases.append(Case("pdf_page_200m", big, ANY))
    return cases


def active_pdfs() -> list[Case]:
    js = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
    catalogs = {
        "openaction_js": b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> ",
        "openaction_js_hex": b"/OpenAction << /S /J#61va#53cript /J#53 (x) >> ",
        "openaction_launch": b"/OpenAction << /S /Launch /F (cmd.exe) >> ",
        "openaction_launch_hex": b"/OpenAction << /S /#4C#61#75#6E#63#68 /F (calc) >> ",
        "openaction_submit": b"/OpenAction << /S /SubmitForm /F (https://example.invalid/x) >> ",
        "openaction_importdata": b"/OpenAction << /S /ImportData /F (x.fdf) >> ",
        "openaction_chain": b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next << /S /JavaScript /JS (x) >> >> ",
        "document_aa": b"/AA << /WC << /S /JavaScript /JS (x) >> >> ",
        "names_javascript": b"/Names << /JavaScript << /Names [(a) << /S /JavaScript /JS (x) >>] >> >> ",
        "richmedia": b"/Extra << /Subtype /RichMedia >> ",
        "gotoe": b"/OpenAction << /S /GoToE /T << /R /C /N (x) >> >> ",
    }
    cases = [Case(f"pdf_{k}", make_pdf(catalog_extra=v), "ACTIVE_CONTENT") for k, v in catalogs.items()]
    cases.append(Case("pdf_page_open_js", make_pdf(page_extra=b"/AA << /O 5 0 R >> ", extra_objects=(js,)),
                      "ACTIVE_CONTENT"))  # fmt: skip
    link = b"<< /Subtype /Link /Rect [0 0 9 9] /A << /S /Launch /F (calc.exe) >> >>"
    cases.append(Case("pdf_link_launch", make_pdf(page_extra=b"/Annots [5 0 R] ", extra_objects=(link,)),
                      "ACTIVE_CONTENT"))  # fmt: skip
    cases += [Case(f"pdf_objstm_{k}", _in_object_streams(k), "ACTIVE_CONTENT") for k in ("js", "launch", "names")]
    cases.append(Case("pdf_attachment", pdf_with_attachment(b"<invoice/>"), None, ("EMBEDDED_FILE",)))
    return cases


def _in_object_streams(kind: str) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    if kind == "js":
        pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("x")))
    elif kind == "launch":
        pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc")))
    else:
        action = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("x")))
        pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=[pikepdf.String("a"), action]))
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
    return out.getvalue()


def polyglots() -> list[Case]:
    pdf, png, jpeg = make_pdf(), make_png(), make_jpeg()
    return [
        Case("pdf_plus_zip", pdf + minimal_zip(), "POLYGLOT"),
        Case("png_plus_zip", png + minimal_zip(), "POLYGLOT"),
        Case("jpeg_plus_zip", jpeg + minimal_zip(), "POLYGLOT"),
        Case("png_plus_pdf", png + pdf, "POLYGLOT"),
        Case("png_plus_elf", png + b"\x7fELF\x02\x01\x01", "POLYGLOT"),
        Case("jpeg_with_pdf_header", jpeg_with_comment(b"%PDF-1.5 hidden"), "POLYGLOT"),
        Case("png_with_pdf_header", make_png(extra=png_chunk(b"tEXt", b"Comment\0%PDF-1.4")), "POLYGLOT"),
        Case("gif_before_pdf", b"GIF89a" + pdf, "POLYGLOT"),
        Case("exe_before_pdf", b"MZ\x90\x00" + pdf, "POLYGLOT"),
        Case("html_before_pdf", b"<html><body>" + pdf, "POLYGLOT"),
    ]


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, fmt)
    return out.getvalue()


def others() -> list[Case]:
    cases = [Case("empty", b"", "EMPTY")]
    cases += [Case(f"image_{f.lower()}", _image(f), "UNSUPPORTED_TYPE") for f in ("GIF", "BMP", "TIFF", "WEBP", "ICO")]
    cases += [Case(f"text_{i}", t, "UNSUPPORTED_TYPE") for i, t in enumerate((b"hello", b"\0" * 64, EICAR))]
    deep_array = b"/Deep " + b"[" * 50_000 + b"]" * 50_000 + b" "
    deep_dict = b"/Deep " + b"<< /A " * 20_000 + b">> " * 20_000
    cases.append(Case("pdf_nested_arrays", make_pdf(catalog_extra=deep_array), ANY))
    cases.append(Case("pdf_nested_dicts", make_pdf(catalog_extra=deep_dict), ANY))
    cases.append(Case("pdf_nested_arrays_with_js", make_pdf(catalog_extra=deep_array + b"/JS (x) "), "ACTIVE_CONTENT"))
    return cases


def malware() -> list[Case]:
    return [
        Case("pdf_attachment_eicar", pdf_with_attachment(EICAR, b"readme.txt"), "MALWARE", scan=True),
        Case("pdf_stream_eicar", pdf_with_stream(EICAR), "MALWARE", scan=True),
        Case("pdf_stream_marker", pdf_with_stream(TEST_MARKER), "MALWARE", scan=True),
        Case("png_text_marker", make_png(extra=png_chunk(b"tEXt", b"Comment\0" + TEST_MARKER)), "MALWARE", scan=True),
        Case("jpeg_comment_marker", jpeg_with_comment(TEST_MARKER), "MALWARE", scan=True),
    ]


def cases() -> list[Case]:
    return [*truncations(), *bit_flips(), *bombs(), *active_pdfs(), *polyglots(), *others(), *malware()]
