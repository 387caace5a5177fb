"""Stage: decode the first page of an accepted document at about model resolution.

Pillow for JPEG/PNG (JPEG decoded in draft mode at reduced size), pypdfium2 for
PDF (first page rendered at the scale the model needs, text layer extracted).
Every decode failure becomes InvalidDocument (MALFORMED; ENCRYPTED for a PDF that needs a password),
never an internal error.

The pixels produced for the default grey mode are part of preprocessing version
"1" (models are trained on them): speed-ups here must keep them identical
(tests/unit/test_normalize_frozen.py compares against the original code).
"""

from __future__ import annotations

import io
import math
import threading
import time
import warnings
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from sidecar.domain import DocKind, Inspection, Page
from sidecar.errors import InvalidDocument, Reason

# PDFium is not thread-safe: one process-wide lock around every pypdfium2 call.
PDFIUM_LOCK = threading.Lock()

ColourMode = Literal["L", "RGB"]

# A page whose content stream holds more objects than this is refused before rendering:
# parsing is bounded by the document size, rendering is not (see DEFAULT_PDF_RENDER_TIME_LIMIT_S).
DEFAULT_PDF_MAX_OBJECTS = 100_000
# Vector-heavy pages take ~200 ms whatever the scale; a page that needs 5x that is an attack or a
# CAD drawing we cannot classify anyway, and it holds the process-wide PDFium lock while it renders.
DEFAULT_PDF_RENDER_TIME_LIMIT_S = 1.0

_EXIF_ORIENTATION = 0x0112


def decode_document(
    content: bytes,
    inspection: Inspection,
    target: tuple[int, int],
    max_pixels: int,
    *,
    mode: ColourMode = "L",
    pdf_max_objects: int = DEFAULT_PDF_MAX_OBJECTS,
    pdf_time_limit_s: float = DEFAULT_PDF_RENDER_TIME_LIMIT_S,
) -> Page:
    """Decode the first page so that it covers `target` (height, width) without upscaling.

    `mode` "L" (the default, preprocessing v1) yields an HxW grey page, "RGB" an HxWx3 one.
    `pdf_time_limit_s` caps the PDF render (pass the smaller of it and the request's time left).
    """
    try:
        if inspection.kind is DocKind.PDF:
            return _decode_pdf(content, target, max_pixels, mode, pdf_max_objects, pdf_time_limit_s)
        return _decode_image(content, target, max_pixels, mode)
    except InvalidDocument:
        raise
    except Exception as exc:  # any decoder failure is a malformed document
        raise InvalidDocument(f"cannot decode {inspection.kind.value}: {type(exc).__name__}", Reason.MALFORMED) from exc


# --- JPEG / PNG -------------------------------------------------------------------------------


def _decode_image(content: bytes, target: tuple[int, int], max_pixels: int, mode: ColourMode) -> Page:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        if max_pixels != Image.MAX_IMAGE_PIXELS:
            Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            img = Image.open(io.BytesIO(content))  # reads the header only
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InvalidDocument("image has too many pixels", Reason.DECOMPRESSION_BOMB) from exc
        width, height = img.size
        if width <= 0 or height <= 0 or width * height > max_pixels:
            raise InvalidDocument(f"image of {width}x{height} pixels", Reason.DECOMPRESSION_BOMB, limit=str(max_pixels))
        if img.format == "JPEG":
            # Draft mode lets libjpeg decode at 1/2, 1/4 or 1/8 scale: the biggest saving here.
            # (The requested size ignores EXIF rotation; preprocessing v1 is defined that way.)
            img.draft(mode, (target[1] * 2, target[0] * 2))
        orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
        # EXIF orientations 5-8 rotate by 90 degrees: the page's width and height swap.
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        # exif_transpose copies an upright image whole (~100 ms for a 300 dpi RGB page): skip it.
        upright = ImageOps.exif_transpose(img) if orientation in range(2, 9) else img
        converted = _to_grey(upright) if mode == "L" else _to_rgb(upright)
        image = np.asarray(converted, dtype=np.uint8)
    if image.size == 0:
        raise InvalidDocument("image has no pixels", Reason.MALFORMED)
    return Page(image=image, source_width=width, source_height=height)


def _flatten_alpha(img: Image.Image) -> Image.Image:
    """Composite on white paper: a transparent background must read as paper, not as black."""
    img = img.convert("RGBA")
    background = Image.new("RGBA", img.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, img)


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)


def _to_grey(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L"):
        # Same arithmetic as scaling the float32 page, through a 64 Ki lookup table: ~5x faster.
        arr = np.asarray(img).astype(np.uint16, copy=False)
        hi = float(arr.max()) or 1.0
        lut = (np.arange(65536, dtype=np.float32) * (255.0 / max(hi, 255.0))).astype(np.uint8)
        return Image.fromarray(lut[arr], "L")
    if img.mode == "I":
        arr32 = np.asarray(img, dtype=np.float32)
        hi = float(arr32.max()) or 1.0
        return Image.fromarray((arr32 * (255.0 / max(hi, 255.0))).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        # Per-pixel operations on a palette image: apply them to the 256 palette entries, then index.
        return Image.fromarray(_palette_lut(img, _grey_of_entries)[np.asarray(img)], "L")
    if _has_alpha(img):
        img = _flatten_alpha(img)
    return img.convert("L")


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        return _to_grey(img).convert("RGB")
    if _has_alpha(img):
        img = _flatten_alpha(img)
    return img.convert("RGB")


def _grey_of_entries(entries: Image.Image) -> npt.NDArray[np.uint8]:
    return np.asarray(_flatten_alpha(entries).convert("L"), dtype=np.uint8).reshape(-1)


def _palette_lut(img: Image.Image, per_pixel: Any) -> npt.NDArray[np.uint8]:
    # crop() keeps the palette and the transparency info; it pads a narrow image with index 0.
    entries = img.crop((0, 0, 256, 1))
    entries.putdata(list(range(256)))
    lut: npt.NDArray[np.uint8] = per_pixel(entries)
    return lut


# --- PDF --------------------------------------------------------------------------------------


def _decode_pdf(
    content: bytes,
    target: tuple[int, int],
    max_pixels: int,
    mode: ColourMode,
    max_objects: int,
    time_limit_s: float,
) -> Page:
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        # The clock starts once we hold the lock: waiting for another render is not this page's fault.
        deadline = time.monotonic() + time_limit_s
        try:
            pdf = pdfium.PdfDocument(content)
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
                raise InvalidDocument("the PDF needs a password to open", Reason.ENCRYPTED) from exc
            raise
        try:
            page_count = len(pdf)
            if page_count < 1:
                raise InvalidDocument("PDF has no pages", Reason.MALFORMED)
            page = pdf[0]
            try:
                width_pt, height_pt = page.get_size()
                if not (width_pt > 0 and height_pt > 0 and math.isfinite(width_pt * height_pt)):
                    raise InvalidDocument("PDF page has no area", Reason.MALFORMED)
                objects = pdfium.raw.FPDFPage_CountObjects(page)
                if objects > max_objects:
                    raise InvalidDocument(
                        f"PDF page has {objects} objects", Reason.MALFORMED, limit=str(max_objects), cause="complexity"
                    )
                # Render at twice the model's height at most: enough for downscaling quality.
                scale = min(4.0, max(target[0] * 2 / height_pt, target[1] * 2 / width_pt))
                # A page with an absurd aspect ratio must not turn into a huge bitmap.
                scale = min(scale, math.sqrt(max_pixels / (width_pt * height_pt)))
                while math.ceil(width_pt * scale) * math.ceil(height_pt * scale) > max_pixels:
                    scale *= 0.99
                image = _render_capped(pdfium, page, scale, mode, deadline, time_limit_s)
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_bounded()
                finally:
                    textpage.close()
            finally:
                page.close()
        finally:
            pdf.close()
    return Page(
        image=image,
        source_width=round(width_pt / 72 * 150),
        source_height=round(height_pt / 72 * 150),
        page_count=page_count,
        text=text.strip() or None,
    )


def _render_capped(
    pdfium: Any, page: Any, scale: float, mode: ColourMode, deadline: float, time_limit_s: float
) -> npt.NDArray[np.uint8]:
    """`page.render(scale, grayscale=True)`, made progressive so that it stops at the deadline.

    PDFium asks the pause callback every ~100 page objects; once the deadline has passed we
    abandon the render (a partial page would make the answer depend on the machine's speed).
    """
    raw = pdfium.raw
    width = math.ceil(page.get_width() * scale)
    height = math.ceil(page.get_height() * scale)
    if width < 1 or height < 1:
        raise InvalidDocument("PDF page renders to no pixels", Reason.MALFORMED)
    grey = mode == "L"
    bitmap = pdfium.PdfBitmap.new_native(
        width, height, format=raw.FPDFBitmap_Gray if grey else raw.FPDFBitmap_BGR, rev_byteorder=not grey
    )
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
    flags = raw.FPDF_ANNOT | (raw.FPDF_GRAYSCALE if grey else raw.FPDF_REVERSE_BYTE_ORDER)
    pause = raw.IFSDK_PAUSE(version=1)
    pdfium.internal.set_callback(pause, "NeedToPauseNow", lambda _pause: time.monotonic() > deadline)
    try:
        status = raw.FPDF_RenderPageBitmap_Start(bitmap, page, 0, 0, width, height, 0, flags, pause)
        while status == raw.FPDF_RENDER_TOBECONTINUED and time.monotonic() <= deadline:
            status = raw.FPDF_RenderPage_Continue(page, pause)
    finally:
        raw.FPDF_RenderPage_Close(page)
    if status == raw.FPDF_RENDER_TOBECONTINUED:
        raise InvalidDocument(
            f"PDF page did not render within {time_limit_s:g} s",
            Reason.MALFORMED,
            limit=f"{time_limit_s:g}s",
            cause="render_time",
        )
    if status != raw.FPDF_RENDER_DONE:
        raise InvalidDocument("PDF page failed to render", Reason.MALFORMED)
    image = np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True)
    bitmap.close()
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    return np.ascontiguousarray(image)
