"""The PP-OCR fallback (rapidocr) of the OCR stage, with the real tesseract and the real rapidocr models."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest
import structlog
from PIL import Image, ImageFilter

from harness import documents as docs
from sidecar.config import OcrSettings
from sidecar.domain import DocKind, Inspection
from sidecar.errors import Unavailable
from sidecar.pipeline import ocr_fallback
from sidecar.pipeline.ocr import OcrEngine, find_tessdata
from sidecar.pipeline.ocr_fallback import FALLBACK_MIN_LEFT_S

pytest.importorskip("tesserocr")
pytest.importorskip("rapidocr")
try:
    TESSDATA = find_tessdata()
except Unavailable:  # pragma: no cover - `make test` installs tesseract-ocr-eng
    pytest.skip("no tessdata with eng (apt install tesseract-ocr-eng)", allow_module_level=True)

# The sample invoice's words the fallback must find on the skewed photo.
EXPECTED = {"invoice", "2024-0042", "amount", "due", "1250.00", "eur", "payment", "terms"}


@pytest.fixture(scope="module")
def engine() -> Iterator[OcrEngine]:
    """The serving configuration: tesseract, then PP-OCR for pages it reads poorly."""
    ocr = OcrEngine.from_settings(OcrSettings(workers=1, cache_entries=8, page_timeout_s=10.0))
    yield ocr
    ocr.close()


@pytest.fixture(scope="module")
def tesseract_only() -> Iterator[OcrEngine]:
    ocr = OcrEngine.from_settings(OcrSettings(workers=1, cache_entries=0, page_timeout_s=10.0, fallback="none"))
    yield ocr
    ocr.close()


def skewed_photo(mode: str = "L") -> npt.NDArray[np.uint8]:
    """The sample invoice at 800 px wide, held 12° off square, slightly blurred, grey ink, sensor noise:
    tesseract (with its reorient and local-threshold passes) finds no text line on it at all."""
    page = docs.page_image(size=(800, 1131)).convert("L")
    page = page.rotate(12, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    grey = np.asarray(page.filter(ImageFilter.GaussianBlur(1.0)), dtype=np.float64)
    grey = 255 - (255 - grey) * 0.6 + np.random.default_rng(0).normal(0, 10, grey.shape)
    if mode == "RGB":  # on yellowish paper under warm light
        grey = grey[..., None] * np.array([1.0, 0.93, 0.78])
    return np.ascontiguousarray(np.clip(grey, 0, 255).astype(np.uint8))


def words(text: str) -> set[str]:
    return {w.strip(".,:").lower() for w in text.split()}


def test_a_page_tesseract_reads_poorly_is_read_by_the_fallback(engine: OcrEngine, tesseract_only: OcrEngine) -> None:
    image = skewed_photo()
    alone = tesseract_only.recognize(image)
    assert alone.confidence < OcrSettings().fallback_below and not words(alone.text) >= EXPECTED
    result = engine.recognize(image)
    assert result.engine == "rapidocr" and not result.fallback_skipped and not result.timed_out
    assert result.fallback_score is not None and result.fallback_score >= 0.9
    assert words(result.text) >= EXPECTED, result.text
    assert "\n" in result.text  # one line per detected text line
    assert result.confidence == alone.confidence  # confidence stays tesseract's (drift, the trigger)
    assert 0 < result.seconds < 10


def test_colour_pages_are_read_by_the_fallback(engine: OcrEngine) -> None:
    image = skewed_photo("RGB")
    assert image.shape[2] == 3
    result = engine.recognize(image)
    assert result.engine == "rapidocr" and words(result.text) >= EXPECTED


def test_a_page_tesseract_reads_well_never_reaches_the_fallback(engine: OcrEngine) -> None:
    result = engine.recognize(np.asarray(docs.page_image().convert("L")))
    assert result.engine == "tesseract" and result.fallback_score is None and not result.fallback_skipped
    assert result.confidence > 80 and {"invoice", "amount", "due"} <= words(result.text)


def test_fallback_none_is_tesseract_alone(tesseract_only: OcrEngine) -> None:
    assert tesseract_only.fallback == "none"
    result = tesseract_only.recognize(skewed_photo())
    assert result.engine == "tesseract" and result.fallback_score is None and not result.fallback_skipped
    assert result.confidence < 65


def test_signature_follows_the_fallback_settings(engine: OcrEngine, tesseract_only: OcrEngine) -> None:
    # Without a fallback the signature is what it was before there was one (training data digests).
    assert tesseract_only.signature == (
        tesseract_only.version,
        "eng",
        3000,
        1400,
        50.0,
        50.0,
    )
    assert engine.fallback == "rapidocr" and engine.signature[:6] == tesseract_only.signature
    signatures = {engine.signature, tesseract_only.signature}
    for changed in ({"fallback_below": 50.0}, {"fallback_max_side": 1280}):
        other = OcrEngine.from_settings(OcrSettings(workers=1, **changed))
        try:
            signatures.add(other.signature)
        finally:
            other.close()
    assert len(signatures) == 4
    never = OcrEngine(TESSDATA, workers=1, fallback_below=0)  # a trigger that never fires: no fallback
    try:
        assert never.fallback == "none" and never.signature == tesseract_only.signature
    finally:
        never.close()


def test_too_little_time_left_skips_the_fallback_and_is_not_cached(engine: OcrEngine) -> None:
    image = skewed_photo()
    short = engine.recognize(image, timeout_s=FALLBACK_MIN_LEFT_S - 0.5)
    assert short.fallback_skipped and short.engine == "tesseract" and short.fallback_score is None
    # Through the cache: a read without the fallback is not kept, the full read is.
    content = docs.png(Image.fromarray(image))
    inspection = Inspection(kind=DocKind.PNG, digest="skewed-photo", size=len(content))
    first = engine.extract_text(content, inspection, timeout_s=FALLBACK_MIN_LEFT_S - 0.5)
    assert first.fallback_skipped and not first.cached
    second = engine.extract_text(content, inspection)
    assert not second.cached and second.engine == "rapidocr" and words(second.text) >= EXPECTED
    third = engine.extract_text(content, inspection)
    assert third.cached and third.engine == "rapidocr" and third.text == second.text


def test_without_rapidocr_tesseract_reads_alone_and_it_is_logged_once(
    monkeypatch: pytest.MonkeyPatch, tesseract_only: OcrEngine
) -> None:
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # `import rapidocr` now raises ImportError
    monkeypatch.setattr(ocr_fallback, "_fallback_unavailable_logged", False)
    engines: list[OcrEngine] = []
    try:
        with structlog.testing.capture_logs() as logs:
            for _ in range(2):
                engines.append(OcrEngine.from_settings(OcrSettings(workers=1)))
        assert [entry["event"] for entry in logs] == ["ocr_fallback_unavailable"]
        assert all(e.fallback == "none" and e.signature == tesseract_only.signature for e in engines)
        result = engines[0].recognize(skewed_photo())
        assert result.engine == "tesseract" and result.fallback_score is None and not result.fallback_skipped
    finally:
        for e in engines:
            e.close()
