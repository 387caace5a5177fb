"""Stage: drift features of one document, computed on the way from what earlier stages produced.

Cheap by design (2-4 ms a page; ~11 ms for a full-size 300 dpi PNG): every number comes from the inspection, the
decoded page (reduced to a fixed-size thumbnail first, so image statistics do not
depend on the format's decode resolution), the text layer, and the OCR result when
OCR ran anyway. Drift windows (observability/drift.py) compare their
distributions with the reference distributions in the model's manifest; training
computes the reference through this same function.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from sidecar.domain import Inspection, Page
from sidecar.pipeline.ocr import OcrResult

# Image statistics are measured on the page scaled to fit this box (height, width): fixed,
# so that a 300 dpi PNG and a draft-decoded JPEG of the same page give the same numbers.
THUMBNAIL = (256, 192)
# Grey level below which a pixel counts as ink.
_INK_LEVEL = 128


@dataclass(frozen=True, slots=True)
class DriftFeatures:
    size_bytes: int
    kind: str  # "pdf" | "jpeg" | "png"
    page_count: int
    width: int  # of the source page, in pixels (PDF: at 150 dpi)
    height: int
    aspect: float  # height / width
    brightness: float  # mean grey level, 0-255
    contrast: float  # standard deviation of the grey levels
    sharpness: float  # variance of the Laplacian on the thumbnail (blurred captures score low)
    ink_ratio: float  # fraction of pixels darker than mid-grey
    # Characters of the text layer (0 when none): what the drift reference measures, whichever path
    # (OCR or not) this request took. What OCR read is `ocr_length`.
    text_length: int
    has_text_layer: bool
    ocr_length: int | None = None  # characters OCR read, only when it ran
    ocr_confidence: float | None = None  # 0-100, only when OCR ran
    ocr_seconds: float | None = None

    def as_dict(self) -> dict[str, float | int | str | bool | None]:
        return asdict(self)

    def numeric(self) -> dict[str, float]:
        """The features drift windows track (numbers only; None left out)."""
        return {
            k: float(v)
            for k, v in asdict(self).items()
            if isinstance(v, int | float) and not isinstance(v, bool) and v is not None
        }


def compute_features(inspection: Inspection, page: Page, ocr: OcrResult | None = None) -> DriftFeatures:
    thumb = thumbnail(page.image)
    pixels = thumb.astype(np.float32)
    text_layer = page.text or ""
    text_length = len(text_layer.strip())
    width, height = page.source_width, page.source_height
    return DriftFeatures(
        size_bytes=inspection.size,
        kind=inspection.kind.value,
        page_count=max(page.page_count, inspection.page_count),
        width=width,
        height=height,
        aspect=round(height / width, 4) if width > 0 else 0.0,
        brightness=float(pixels.mean()),
        contrast=float(pixels.std()),
        sharpness=laplacian_variance(pixels),
        ink_ratio=float((thumb < _INK_LEVEL).mean()),
        text_length=text_length,
        has_text_layer=bool(text_layer.strip()),
        ocr_length=None if ocr is None else ocr.char_count,
        ocr_confidence=None if ocr is None or ocr.timed_out else ocr.confidence,
        ocr_seconds=None if ocr is None else ocr.seconds,
    )


# The features drift windows track, in the order of sidecar.models.calibration.DRIFT_FEATURES.
TRACKED = ("brightness", "contrast", "sharpness", "aspect", "text_length")


def tracked_tuple(inspection: Inspection, page: Page, text: str | None = None) -> tuple[float, ...]:
    """TRACKED as a tuple, for training's drift reference: the same numbers serving observes.

    `text` overrides the page's text layer (training passes the page text it used).
    """
    if text is not None:
        page = Page(page.image, page.source_width, page.source_height, page.page_count, text)
    f = compute_features(inspection, page)
    return tuple(float(getattr(f, name)) for name in TRACKED)


def thumbnail(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The page in grey, scaled to fit THUMBNAIL (never upscaled), as uint8."""
    img = Image.fromarray(image)
    if img.mode != "L":
        img = img.convert("L")
    h, w = image.shape[:2]
    scale = min(THUMBNAIL[0] / h, THUMBNAIL[1] / w, 1.0)
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        img = img.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(img, dtype=np.uint8)


def laplacian_variance(pixels: npt.NDArray[np.float32]) -> float:
    """Variance of the 4-neighbour Laplacian: the classic focus measure (Pech-Pacheco et al.)."""
    if pixels.shape[0] < 3 or pixels.shape[1] < 3:
        return 0.0
    lap = pixels[:-2, 1:-1] + pixels[2:, 1:-1] + pixels[1:-1, :-2] + pixels[1:-1, 2:] - 4.0 * pixels[1:-1, 1:-1]
    return float(lap.var())
