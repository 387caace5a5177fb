"""Stage: decode the first page of an accepted document at about model resolution.

Pillow for JPEG/PNG (JPEG decoded in draft mode at reduced size), pypdfium2 for
PDF (first page rendered at the scale the model needs, text layer extracted).
Every decode failure becomes InvalidDocument(MALFORMED), never an internal error.
"""

from __future__ import annotations

import io
import threading
import warnings

import numpy as np
from PIL import Image, ImageOps

from sidecar.domain import DocKind, Inspection, Page
from sidecar.errors import InvalidDocument, Reason

# PDFium is not thread-safe: one process-wide lock around every pypdfium2 call.
PDFIUM_LOCK = threading.Lock()


def decode_document(
    content: bytes, inspection: Inspection, target: tuple[int, int], max_pixels: int
) -> Page:
    """Decode the first page so that it covers `target` (height, width) without upscaling."""
    try:
        if inspection.kind is DocKind.PDF:
            return _decode_pdf(content, target)
        return _decode_image(content, target, max_pixels)
    except InvalidDocument:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a malformed document
        raise InvalidDocument(f"cannot decode {inspection.kind.value}: {type(exc).__name__}", Reason.MALFORMED) from exc


def _decode_image(content: bytes, target: tuple[int, int], max_pixels: int) -> Page:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        Image.MAX_IMAGE_PIXELS = max_pixels
        img = Image.open(io.BytesIO(content))
        width, height = img.size
        if width <= 0 or height <= 0 or width * height > max_pixels:
            raise InvalidDocument(f"image of {width}x{height} pixels", Reason.DECOMPRESSION_BOMB)
        if img.format == "JPEG":
            # Draft mode lets libjpeg decode at 1/2, 1/4 or 1/8 scale: the biggest saving here.
            img.draft("L", (target[1] * 2, target[0] * 2))
        # EXIF orientations 5-8 rotate by 90 degrees: the page's width and height swap.
        if img.getexif().get(0x0112, 1) in (5, 6, 7, 8):
            width, height = height, width
        img = _to_grey(ImageOps.exif_transpose(img))
        return Page(image=np.asarray(img, dtype=np.uint8), source_width=width, source_height=height)


def _to_grey(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float32)
        hi = float(arr.max()) or 1.0
        return Image.fromarray((arr * (255.0 / max(hi, 255.0))).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    return img.convert("L")


def _decode_pdf(content: bytes, target: tuple[int, int]) -> Page:
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(content)
        try:
            page_count = len(pdf)
            if page_count < 1:
                raise InvalidDocument("PDF has no pages", Reason.MALFORMED)
            page = pdf[0]
            try:
                width_pt, height_pt = page.get_size()
                if width_pt <= 0 or height_pt <= 0:
                    raise InvalidDocument("PDF page has no area", Reason.MALFORMED)
                # Render at twice the model's height at most: enough for downscaling quality.
                scale = min(4.0, max(target[0] * 2 / height_pt, target[1] * 2 / width_pt))
                bitmap = page.render(scale=scale, grayscale=True)
                image = bitmap.to_numpy().copy()
                textpage = page.get_textpage()
                text = textpage.get_text_bounded()
                textpage.close()
            finally:
                page.close()
        finally:
            pdf.close()
    if image.ndim == 3:
        image = image[..., 0] if image.shape[2] == 1 else np.asarray(Image.fromarray(image).convert("L"))
    return Page(
        image=np.ascontiguousarray(image, dtype=np.uint8),
        source_width=round(width_pt / 72 * 150),
        source_height=round(height_pt / 72 * 150),
        page_count=page_count,
        text=text.strip() or None,
    )
