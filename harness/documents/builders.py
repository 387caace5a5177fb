"""Byte-exact builders: each writes its format by hand (PNG chunks, PDF objects and xref, a ZIP archive)
so a test can place a defect exactly where it wants; JPEG goes through Pillow and is then edited
bytewise. Also the scanner's test signatures (`EICAR`, `TEST_MARKER`). Used by the validation and
scanning tests, the malformed corpus (tests/corpus/malformed/make_corpus.py), the hostile corpus
(harness/hostile.py) and bench/validate."""

from __future__ import annotations

import io
import os
import re
import struct
import zlib

from PIL import Image

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
