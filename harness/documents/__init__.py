"""Real documents for the tests and the benchmarks, made on the fly (nothing committed): the one
document factory of the project. Every name below is importable from `harness.documents`.

- Rendered pages (images.py: `page_image`, `jpeg`, `png`...; pdfs.py: `pdf`, `pdf_scanned`...): genuine
  JPEG, PNG and PDF files of a document-like A4 page (Pillow writes the images; the PDFs are written by
  hand, object by object, so no PDF-writing library is needed). Used by the decode/normalize/OCR/feature
  tests and bench/preprocess.
- Sample documents (samples.py: `invoice_page`, `sample_documents`): one small invoice page as PNG, JPEG
  and PDF, what the server tests, the reliability tests and the load benchmarks send.
- Byte-exact builders (builders.py: `make_png`, `make_jpeg`, `make_pdf`, `png_chunk`...): each writes the
  format by hand (PNG chunks, PDF objects and xref) so a test can place a defect exactly where it wants;
  JPEG goes through Pillow and is then edited bytewise. Used by the validation and scanning tests, the
  malformed corpus (tests/corpus/malformed/make_corpus.py), the hostile corpus (harness/hostile.py) and
  bench/validate.
"""

from __future__ import annotations

from harness.documents.builders import (
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
from harness.documents.images import (
    A4_300DPI,
    A4_PT,
    SAMPLE_LINES,
    encode,
    jpeg,
    jpeg_cmyk,
    jpeg_exif_rotated,
    jpeg_grey,
    page_image,
    png,
    png_16bit,
    png_palette_alpha,
    png_rgb,
)
from harness.documents.pdfs import pdf, pdf_encrypted, pdf_scanned, pdf_vector_heavy
from harness.documents.samples import invoice_page, pdf_raster, sample_documents

__all__ = [
    "A4_300DPI",
    "A4_PT",
    "EICAR",
    "PNG_SIG",
    "SAMPLE_LINES",
    "TEST_MARKER",
    "encode",
    "ihdr",
    "invoice_page",
    "jpeg",
    "jpeg_cmyk",
    "jpeg_exif_rotated",
    "jpeg_grey",
    "jpeg_sof_dims",
    "jpeg_with_comment",
    "make_jpeg",
    "make_pdf",
    "make_png",
    "minimal_zip",
    "page_image",
    "pdf",
    "pdf_encrypted",
    "pdf_raster",
    "pdf_scanned",
    "pdf_vector_heavy",
    "pdf_with_attachment",
    "pdf_with_stream",
    "png",
    "png_16bit",
    "png_chunk",
    "png_palette_alpha",
    "png_rgb",
    "sample_documents",
]
