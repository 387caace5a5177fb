"""Drift features: each one moves the way the document changes."""

from __future__ import annotations

import time

import numpy as np
from PIL import Image, ImageFilter

from harness import documents as docs
from sidecar.domain import DocKind, Inspection, Page
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.features import DriftFeatures, compute_features, laplacian_variance
from sidecar.pipeline.ocr import OcrResult


def features_of(content: bytes, kind: DocKind, ocr: OcrResult | None = None) -> DriftFeatures:
    inspection = Inspection(kind=kind, digest="", size=len(content))
    return compute_features(inspection, decode_document(content, inspection, (256, 192), 10**8), ocr)


def image_page(img: Image.Image) -> Page:
    arr = np.asarray(img, dtype=np.uint8)
    return Page(image=arr, source_width=arr.shape[1], source_height=arr.shape[0])


def test_pdf_with_text_layer() -> None:
    content = docs.pdf(pages=3)
    f = features_of(content, DocKind.PDF)
    assert f.kind == "pdf" and f.size_bytes == len(content) and f.page_count == 3
    assert f.has_text_layer and f.text_length > 100
    assert (f.width, f.height) == (1240, 1754) and abs(f.aspect - 1754 / 1240) < 1e-3
    assert f.ocr_confidence is None and f.ocr_seconds is None


def test_image_without_ocr_has_no_text() -> None:
    f = features_of(docs.jpeg(), DocKind.JPEG)
    assert not f.has_text_layer and f.text_length == 0 and f.ocr_confidence is None
    assert (f.width, f.height) == docs.A4_300DPI and f.page_count == 1


def test_ocr_result_fills_its_own_fields_and_text_length_stays_the_text_layer() -> None:
    # text_length is a drift feature whose training reference is the text layer: OCR must not move it.
    ocr = OcrResult(text="INVOICE 2024-0042 Amount due", confidence=91.0, seconds=0.3)
    f = features_of(docs.png(), DocKind.PNG, ocr)
    assert f.text_length == 0 and f.ocr_length == len(ocr.text)
    assert f.ocr_confidence == 91.0 and f.ocr_seconds == 0.3
    timed_out = OcrResult(text="", confidence=0.0, seconds=5.0, timed_out=True)
    assert features_of(docs.png(), DocKind.PNG, timed_out).ocr_confidence is None


def test_image_statistics_do_not_depend_on_the_format() -> None:
    # Same page as a draft-decoded JPEG (877 px) and a full-size PNG (3508 px).
    jpeg = features_of(docs.jpeg_grey(), DocKind.JPEG)
    png = features_of(docs.png(), DocKind.PNG)
    assert abs(jpeg.brightness - png.brightness) < 2
    assert abs(jpeg.contrast - png.contrast) < 3
    assert abs(jpeg.ink_ratio - png.ink_ratio) < 0.01
    assert 0.5 < jpeg.sharpness / png.sharpness < 2


def test_brightness_contrast_and_sharpness_track_the_capture() -> None:
    page = docs.page_image(size=(1240, 1754))
    inspection = Inspection(kind=DocKind.PNG, digest="", size=1)
    clean = compute_features(inspection, image_page(page))
    dark = compute_features(inspection, image_page(Image.eval(page, lambda v: v // 2)))
    blurred = compute_features(inspection, image_page(page.filter(ImageFilter.GaussianBlur(6))))
    assert dark.brightness < clean.brightness - 100
    assert dark.contrast < clean.contrast * 0.6
    assert blurred.sharpness < clean.sharpness * 0.2
    assert 0 < clean.ink_ratio < 0.2


def test_laplacian_variance_of_flat_and_edgy_images() -> None:
    assert laplacian_variance(np.full((50, 50), 128, np.float32)) == 0.0
    checker = (np.indices((50, 50)).sum(axis=0) % 2 * 255).astype(np.float32)
    assert laplacian_variance(checker) > 1e5
    assert laplacian_variance(np.zeros((2, 2), np.float32)) == 0.0


def test_numeric_view_and_dict() -> None:
    f = features_of(docs.pdf(), DocKind.PDF)
    numeric = f.numeric()
    assert {"size_bytes", "page_count", "aspect", "brightness", "contrast", "sharpness", "text_length"} <= set(numeric)
    assert "kind" not in numeric and "has_text_layer" not in numeric and "ocr_confidence" not in numeric
    assert f.as_dict()["kind"] == "pdf"


def test_features_are_cheap() -> None:
    content = docs.png()
    inspection = Inspection(kind=DocKind.PNG, digest="", size=len(content))
    page = decode_document(content, inspection, (256, 192), 10**8)  # full 2480x3508: the worst case
    compute_features(inspection, page)
    started = time.perf_counter()
    for _ in range(5):
        compute_features(inspection, page)
    assert (time.perf_counter() - started) / 5 < 0.05


def test_tracked_tuple_matches_the_drift_monitor_names_and_values() -> None:
    from sidecar.models.calibration import DRIFT_FEATURES
    from sidecar.pipeline.features import TRACKED, tracked_tuple

    assert tuple(DRIFT_FEATURES) == TRACKED
    content = docs.pdf()
    inspection = Inspection(kind=DocKind.PDF, digest="", size=len(content))
    page = decode_document(content, inspection, (256, 192), 10**8)
    values = tracked_tuple(inspection, page)
    numeric = compute_features(inspection, page).numeric()
    assert values == tuple(numeric[name] for name in TRACKED)
    assert tracked_tuple(inspection, page, text="")[4] == 0.0
