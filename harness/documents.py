"""Real documents for the tests and the benchmarks, made on the fly (nothing committed): the one
document factory of the project.

- Rendered pages (`page_image`, `jpeg`, `png`, `pdf`, `pdf_scanned`...): genuine JPEG, PNG and PDF files
  of a document-like A4 page (Pillow writes the images; the PDFs are written by hand, object by object,
  so no PDF-writing library is needed). Used by the decode/normalize/OCR/feature tests and bench/preprocess.
- Sample documents (`invoice_page`, `sample_documents`): one small invoice page as PNG, JPEG and PDF,
  what the server tests, the reliability tests and the load benchmarks send.
- Byte-exact builders (`make_png`, `make_jpeg`, `make_pdf`, `png_chunk`...): each writes the format by
  hand (PNG chunks, PDF objects and xref) so a test can place a defect exactly where it wants; JPEG goes
  through Pillow and is then edited bytewise. Used by the validation and scanning tests, the malformed
  corpus (tests/corpus/malformed/make_corpus.py), the hostile corpus (harness/hostile.py) and bench/validate.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# A4 in PDF points and at 300 dpi.
A4_PT = (595, 842)
A4_300DPI = (2480, 3508)

SAMPLE_LINES = (
    "INVOICE 2024-0042",
    "Bill to: Example Trading Company",
    "Invoice date: 12 March 2024",
    "Amount due: 1250.00 EUR",
    "Payment terms: thirty days net",
    "Thank you for your business",
)


def page_image(
    size: tuple[int, int] = A4_300DPI, lines: Sequence[str] = SAMPLE_LINES, mode: str = "L", seed: int = 0
) -> Image.Image:
    """A document-like page: big legible text lines, a ruled table and a coloured logo block."""
    return _page_image(size, tuple(lines), mode, seed).copy()


@lru_cache(maxsize=16)
def _page_image(size: tuple[int, int], lines: tuple[str, ...], mode: str, seed: int) -> Image.Image:
    width, height = size
    img = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(img)
    font_px = max(10, width // 40)
    font = ImageFont.load_default(font_px)
    margin = width // 12
    y = height // 12
    for line in lines:
        draw.text((margin, y), line, fill=(0, 0, 0), font=font)
        y += int(font_px * 1.8)
    # A ruled table: most documents have one, and it gives the edges deskew/sharpness measure.
    rng = np.random.default_rng(seed)
    top = y + font_px
    rows, cols = 8, 4
    cell_h, cell_w = font_px * 1.6, (width - 2 * margin) / cols
    for r in range(rows + 1):
        draw.line(
            [(margin, top + r * cell_h), (width - margin, top + r * cell_h)], fill=(0, 0, 0), width=max(1, width // 800)
        )
    for c in range(cols + 1):
        x = margin + c * cell_w
        draw.line([(x, top), (x, top + rows * cell_h)], fill=(0, 0, 0), width=max(1, width // 800))
    for r in range(rows):
        for c in range(cols):
            value = f"{rng.integers(10, 9999)}"
            draw.text(
                (margin + c * cell_w + font_px // 3, top + r * cell_h + font_px // 5),
                value,
                fill=(40, 40, 40),
                font=font,
            )
    # A coloured logo block in the top-right corner.
    draw.rectangle(
        [(width - margin - width // 6, height // 24), (width - margin, height // 24 + width // 12)], fill=(200, 30, 30)
    )
    return img.convert(mode) if mode != "RGB" else img


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


# --- JPEG -----------------------------------------------------------------------------------


def jpeg(img: Image.Image | None = None, quality: int = 85) -> bytes:
    return encode(img if img is not None else page_image(mode="RGB"), "JPEG", quality=quality)


def jpeg_exif_rotated(img: Image.Image | None = None, orientation: int = 6) -> bytes:
    """A JPEG stored sideways with an EXIF orientation that puts it upright again (as phones write them)."""
    upright = img if img is not None else page_image(mode="RGB")
    # exif_transpose applies the inverse of these to display the page upright.
    stored = {
        3: upright.transpose(Image.Transpose.ROTATE_180),
        6: upright.transpose(Image.Transpose.ROTATE_90),
        8: upright.transpose(Image.Transpose.ROTATE_270),
    }[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=85, exif=exif)


def jpeg_cmyk(img: Image.Image | None = None) -> bytes:
    return encode((img if img is not None else page_image(mode="RGB")).convert("CMYK"), "JPEG", quality=90)


def jpeg_grey(img: Image.Image | None = None) -> bytes:
    return encode((img if img is not None else page_image(mode="L")).convert("L"), "JPEG", quality=85)


# --- PNG ------------------------------------------------------------------------------------


def png(img: Image.Image | None = None) -> bytes:
    return encode(img if img is not None else page_image(mode="L"), "PNG")


def png_rgb(img: Image.Image | None = None) -> bytes:
    return encode(img if img is not None else page_image(mode="RGB"), "PNG")


def png_16bit(img: Image.Image | None = None) -> bytes:
    grey = np.asarray((img if img is not None else page_image(mode="L")).convert("L"), dtype=np.uint16)
    return encode(Image.fromarray(grey * 257), "PNG")  # full 16-bit range, mode I;16


def png_palette_alpha(img: Image.Image | None = None) -> bytes:
    """A palette PNG whose paper is fully transparent (must become white, not black)."""
    page = (img if img is not None else page_image(mode="RGB")).convert("RGB")
    rgba = page.convert("RGBA")
    alpha = np.where(np.asarray(page.convert("L")) > 250, 0, 255).astype(np.uint8)
    rgba.putalpha(Image.fromarray(alpha))
    pal = rgba.quantize(16)  # FASTOCTREE keeps the alpha in the palette (written as tRNS)
    return encode(pal, "PNG")


# --- PDF ------------------------------------------------------------------------------------


class _PdfWriter:
    """The smallest honest PDF writer: numbered objects, a correct xref table, a trailer."""

    def __init__(self) -> None:
        self.objects: list[bytes] = []

    def add(self, body: bytes) -> int:
        self.objects.append(body)
        return len(self.objects)

    def stream(self, data: bytes, extra: bytes = b"", compress: bool = True) -> int:
        if compress:
            data = zlib.compress(data)
            extra += b" /Filter /FlateDecode"
        return self.add(b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream")

    def build(self, page_ids: list[int], pages_id: int) -> bytes:
        catalog = self.add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
        kids = b" ".join(b"%d 0 R" % p for p in page_ids)
        self.objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self.objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
        out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(self.objects) + 1,
            catalog,
            xref,
        )
        return bytes(out)


def _text_ops(lines: Sequence[str], size: tuple[int, int]) -> bytes:
    ops = [b"BT /F1 18 Tf 60 %d Td 26 TL" % (size[1] - 80)]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(b"(%s) Tj T*" % escaped.encode("latin-1"))
    ops.append(b"ET")
    return b"\n".join(ops)


def _table_ops(size: tuple[int, int], rows: int = 8) -> bytes:
    ops = [b"0.8 w"]
    top = size[1] - 300
    for r in range(rows + 1):
        ops.append(b"60 %d m %d %d l S" % (top - r * 22, size[0] - 60, top - r * 22))
    for c in range(5):
        x = 60 + c * (size[0] - 120) // 4
        ops.append(b"%d %d m %d %d l S" % (x, top, x, top - rows * 22))
    ops.append(b"0.8 0.1 0.1 rg %d %d 90 45 re f" % (size[0] - 160, size[1] - 80))
    return b"\n".join(ops)


def pdf(
    pages: int = 1,
    lines: Sequence[str] = SAMPLE_LINES,
    text_layer: bool = True,
    size: tuple[int, int] = A4_PT,
    rotate: int = 0,
) -> bytes:
    """A vector PDF. With text_layer=False the page carries only drawings (no extractable text).

    `rotate` sets the pages' /Rotate (degrees clockwise), as scanners and printers write landscape pages.
    """
    w = _PdfWriter()
    pages_id = w.add(b"")  # filled in by build()
    font = w.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    page_ids = []
    for n in range(pages):
        body = _table_ops(size)
        if text_layer:
            body = _text_ops([*lines, f"Page {n + 1} of {pages}"], size) + b"\n" + body
        content = w.stream(body)
        page_ids.append(
            w.add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Rotate %d "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_id, size[0], size[1], rotate, font, content)
            )
        )
    return w.build(page_ids, pages_id)


def pdf_scanned(img: Image.Image | None = None, pages: int = 1, dpi: int = 150) -> bytes:
    """A scanner's PDF: each page is one full-page JPEG image and there is no text layer."""
    page = (img if img is not None else page_image(size=(A4_PT[0] * dpi // 72, A4_PT[1] * dpi // 72))).convert("L")
    data = encode(page, "JPEG", quality=80)
    w = _PdfWriter()
    pages_id = w.add(b"")
    image = w.stream(
        data,
        b" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8"
        b" /Filter /DCTDecode" % page.size,
        compress=False,
    )
    content = w.stream(b"q %d 0 0 %d 0 0 cm /Im0 Do Q" % A4_PT)
    page_ids = [
        w.add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Resources << /XObject << /Im0 %d 0 R >> >> "
            b"/Contents %d 0 R >>" % (pages_id, A4_PT[0], A4_PT[1], image, content)
        )
        for _ in range(pages)
    ]
    return w.build(page_ids, pages_id)


@lru_cache(maxsize=4)
def pdf_vector_heavy(paths: int = 200_000, size: tuple[int, int] = A4_PT) -> bytes:
    """A page of many tiny filled paths: cheap to send, expensive to render (a rendering bomb)."""
    rng = np.random.default_rng(1)
    xs = rng.uniform(0, size[0], paths)
    ys = rng.uniform(0, size[1], paths)
    body = b"\n".join(
        b"%.1f %.1f m %.1f %.1f l %.1f %.1f l f" % (x, y, x + 3, y, x, y + 3) for x, y in zip(xs, ys, strict=True)
    )
    w = _PdfWriter()
    pages_id = w.add(b"")
    content = w.stream(body)
    page = w.add(
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R >>" % (pages_id, *size, content)
    )
    return w.build([page], pages_id)


def pdf_encrypted(user_password: str = "", lines: Sequence[str] = SAMPLE_LINES) -> bytes:
    """A born-digital PDF encrypted with RC4 by fpdf2 (a real /Encrypt dictionary, not a stub).

    With the default empty user password it opens without one, as banks issue statements (only the
    owner password, restricting printing or editing, is set); with a user password it needs that to open.
    """
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    for line in lines:
        doc.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    doc.set_encryption("owner-secret", user_password=user_password, encryption_method=EncryptionMethod.RC4)
    return bytes(doc.output())


# --- Sample documents: one small invoice page ---------------------------------------------------


def invoice_page(width: int = 620, height: int = 877, lines: int = 30, seed: int = 0) -> Image.Image:
    """A small RGB invoice page: a boxed title and `lines` item lines (the seed changes the numbers)."""
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((40, 40, width - 40, 110), outline="black", width=3)
    draw.text((60, 60), f"INVOICE No. {1000 + seed}", fill="black")
    for i in range(lines):
        y = 140 + i * 22
        if y > height - 60:
            break
        draw.text((60, y), f"Item {i + seed}   Description of goods   {i * 7 + seed}.00 EUR", fill="black")
    return img


def pdf_raster(img: Image.Image | None = None) -> bytes:
    """The page as Pillow writes a PDF: one RGB raster image at 72 dpi, no text layer."""
    return encode((img if img is not None else invoice_page()).convert("RGB"), "PDF", resolution=72.0)


def sample_documents(seed: int = 0) -> dict[str, bytes]:
    """{"png": ..., "jpeg": ..., "pdf": ...} of one invoice page."""
    img = invoice_page(seed=seed)
    return {"png": png(img), "jpeg": jpeg(img), "pdf": pdf_raster(img)}


# --- Byte-exact builders ------------------------------------------------------------------------

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# Matched by DocTriage.Test.Marker in deploy/clamav/db/doctriage.ndb.
TEST_MARKER = b"DOCTRIAGE-MALWARE-TEST-SIGNATURE-7F3A"
PNG_SIG = b"\x89PNG\r\n\x1a\n"


def png_chunk(ctype: bytes, data: bytes, crc: int | None = None) -> bytes:
    value = zlib.crc32(ctype + data) if crc is None else crc
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", value)


def ihdr(width: int, height: int, depth: int = 8, colour: int = 2, interlace: int = 0) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))


def make_png(
    width: int = 4,
    height: int = 3,
    *,
    pixels: bytes | None = None,
    extra: bytes = b"",
    idat_size: int = 1 << 16,
    level: int = 6,
) -> bytes:
    """RGB 8-bit PNG; `extra` (ready-made chunks) goes between IHDR and IDAT."""
    row = width * 3
    if pixels is None:
        pixels = bytes((x * 7 + y * 13) & 0xFF for y in range(height) for x in range(row))
    raw = b"".join(b"\0" + pixels[y * row : (y + 1) * row] for y in range(height))
    data = zlib.compress(raw, level)
    idats = b"".join(png_chunk(b"IDAT", data[i : i + idat_size]) for i in range(0, len(data), idat_size))
    return PNG_SIG + ihdr(width, height) + extra + idats + png_chunk(b"IEND", b"")


def make_jpeg(width: int = 16, height: int = 12, *, quality: int = 85, noise: bool = False) -> bytes:
    if noise:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (200, 120, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def jpeg_with_comment(comment: bytes, width: int = 16, height: int = 12) -> bytes:
    """A JPEG with a COM segment right after SOI."""
    base = make_jpeg(width, height)
    return base[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + base[2:]


def jpeg_sof_dims(data: bytes, width: int, height: int) -> bytes:
    """The JPEG with the dimensions of its frame header (SOF0/1/2) rewritten, nothing else."""
    at = re.search(rb"\xff[\xc0\xc1\xc2]", data)
    assert at is not None, "no frame header"
    return data[: at.start() + 5] + struct.pack(">HH", height, width) + data[at.start() + 9 :]


def make_pdf(
    *,
    pages: int = 1,
    content: bytes = b"BT /F1 12 Tf 72 720 Td (Invoice 42) Tj ET",
    catalog_extra: bytes = b"",
    page_extra: bytes = b"",
    trailer_extra: bytes = b"",
    extra_objects: tuple[bytes, ...] = (),
    version: bytes = b"1.7",
    xref_shift: int = 0,
) -> bytes:
    """A born-digital PDF with a classic xref table; object numbers start at 1.

    Objects: 1 catalog, 2 page tree, 3..3+pages-1 pages (each with `page_extra`), then one content
    stream per page, then `extra_objects` (numbered after those: 5, 6... for one page).
    """
    first_content = 3 + pages
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (3 + i) for i in range(pages)) + b"] /Count %d >>" % pages,
    ]
    for i in range(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R " % (first_content + i)
            + page_extra
            + b">>"
        )
    for _ in range(pages):
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.extend(extra_objects)
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra + b">>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % (xref + xref_shift)
    return bytes(out)


def pdf_with_stream(data: bytes) -> bytes:
    """A one-page PDF carrying `data` raw in an extra (image-like) stream object."""
    return make_pdf(
        extra_objects=(
            b"<< /Type /XObject /Subtype /Image /Length %d >>\nstream\n" % len(data) + data + b"\nendstream",
        )
    )


def pdf_with_attachment(payload: bytes, name: bytes = b"factur-x.xml") -> bytes:
    """A one-page PDF with `payload` as a Flate-compressed embedded file (how e-invoices carry their XML)."""
    body = zlib.compress(payload)
    stream = b"<< /Type /EmbeddedFile /Filter /FlateDecode /Length %d >>\nstream\n" % len(body) + body + b"\nendstream"
    filespec = b"<< /Type /Filespec /F (%s) /UF (%s) /EF << /F 5 0 R >> >>" % (name, name)
    return make_pdf(  # objects 1-4: catalog, pages, page, content; 5 the file, 6 its filespec
        catalog_extra=b"/Names << /EmbeddedFiles << /Names [(%s) 6 0 R] >> >> " % name, extra_objects=(stream, filespec)
    )


def minimal_zip(name: bytes = b"a.txt", payload: bytes = b"hello") -> bytes:
    """A stored (uncompressed) one-file ZIP archive."""
    crc = zlib.crc32(payload)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, crc, len(payload), len(payload), len(name), 0)
    local += name + payload
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        0,
        0,
        0,
        crc,
        len(payload),
        len(payload),
        len(name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    central += name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end
