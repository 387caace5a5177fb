"""Rendered pages as PDFs, written by hand object by object (no PDF-writing library needed): a vector
page with or without a text layer (`pdf`), a scanner's image-only PDF (`pdf_scanned`), a rendering
bomb (`pdf_vector_heavy`), and an RC4-encrypted PDF (`pdf_encrypted`, by fpdf2)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image

from harness.documents.images import A4_PT, SAMPLE_LINES, encode, page_image


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
