"""OCR with the real tesseract (through tesserocr) on real generated documents."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from harness import documents as docs
from sidecar.config import OcrSettings
from sidecar.domain import DocKind, Inspection, Page
from sidecar.errors import InvalidDocument, Unavailable
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.ocr import OcrEngine, find_tessdata, needs_ocr

pytest.importorskip("tesserocr")
try:
    TESSDATA = find_tessdata()
except Unavailable:  # pragma: no cover - `make test` installs tesseract-ocr-eng
    pytest.skip("no tessdata with eng (apt install tesseract-ocr-eng)", allow_module_level=True)


@pytest.fixture(scope="module")
def engine() -> Iterator[OcrEngine]:
    ocr = OcrEngine(TESSDATA, workers=2, page_timeout_s=10.0, cache_entries=8)
    yield ocr
    ocr.close()


def inspect(content: bytes, kind: DocKind, digest: str) -> Inspection:
    return Inspection(kind=kind, digest=digest, size=len(content))


def words(text: str) -> set[str]:
    return {w.strip(".,:").lower() for w in text.split()}


@pytest.mark.parametrize(
    ("name", "kind"),
    [("jpeg", DocKind.JPEG), ("png", DocKind.PNG), ("jpeg_exif_rotated", DocKind.JPEG), ("pdf_scanned", DocKind.PDF)],
)
def test_reads_the_text_of_a_page(engine: OcrEngine, name: str, kind: DocKind) -> None:
    content = getattr(docs, name)()
    result = engine.extract_text(content, inspect(content, kind, f"digest-{name}"))
    assert not result.timed_out and not result.cached
    found = words(result.text)
    assert {"invoice", "2024-0042", "amount", "due", "1250.00", "eur"} <= found
    assert result.confidence > 80
    assert result.seconds > 0


def test_results_are_cached_by_digest(engine: OcrEngine) -> None:
    content = docs.png()
    first = engine.extract_text(content, inspect(content, DocKind.PNG, "cache-me"))
    second = engine.extract_text(content, inspect(content, DocKind.PNG, "cache-me"))
    assert second.cached and second.seconds == 0.0 and second.text == first.text
    # Without a digest nothing is cached.
    third = engine.extract_text(content, inspect(content, DocKind.PNG, ""))
    assert not third.cached


def test_blank_page_has_no_text_and_zero_confidence(engine: OcrEngine) -> None:
    result = engine.recognize(np.full((1200, 900), 255, dtype=np.uint8))
    assert result.text == "" and result.confidence == 0.0 and not result.timed_out


def test_page_time_limit_gives_up_and_the_instance_stays_usable(engine: OcrEngine) -> None:
    image = np.asarray(docs.page_image(lines=docs.SAMPLE_LINES * 6), dtype=np.uint8)
    result = engine.recognize(image, timeout_s=0.01)
    assert result.timed_out and result.text == ""
    # Layout analysis is not interruptible: the limit is honoured to within a fraction of a second.
    assert result.seconds < 1.5
    after = engine.recognize(np.asarray(docs.page_image(), dtype=np.uint8))
    assert not after.timed_out and "invoice" in words(after.text)


def test_parallel_callers_share_the_pool(engine: OcrEngine) -> None:
    image = np.asarray(docs.page_image(size=(1240, 1754)), dtype=np.uint8)
    texts: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        text = engine.recognize(image).text
        with lock:
            texts.append(text)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(texts) == 4 and all("INVOICE" in t for t in texts) and len(set(texts)) == 1


def test_rgb_images_are_accepted(engine: OcrEngine) -> None:
    result = engine.recognize(np.asarray(docs.page_image(size=(1240, 1754), mode="RGB"), dtype=np.uint8))
    assert "invoice" in words(result.text)


def test_undecodable_documents_raise_invalid_document(engine: OcrEngine) -> None:
    with pytest.raises(InvalidDocument):
        engine.extract_text(b"\x89PNG\r\n\x1a\nbroken", inspect(b"", DocKind.PNG, "broken"))


def test_needs_ocr_only_without_a_text_layer() -> None:
    for content, expected in ((docs.pdf(), False), (docs.pdf(text_layer=False), True), (docs.pdf_scanned(), True)):
        page = decode_document(content, inspect(content, DocKind.PDF, ""), (256, 192), 10**8)
        assert needs_ocr(page) is expected
    image_page = Page(image=np.zeros((2, 2), np.uint8), source_width=2, source_height=2)
    assert needs_ocr(image_page)


def test_tessdata_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(Unavailable):
        find_tessdata(tmp_path)  # an explicit directory without eng.traineddata
    (tmp_path / "eng.traineddata").write_bytes(b"")
    assert find_tessdata(tmp_path) == tmp_path
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    assert find_tessdata() == tmp_path
    monkeypatch.delenv("TESSDATA_PREFIX")
    with pytest.raises(Unavailable):
        find_tessdata(languages="xxx")


def test_small_pages_are_upscaled_before_recognition() -> None:
    # The sample page at 300 px wide (a thumbnail-sized upload): its letters are ~7 px high.
    page = np.asarray(docs.page_image().resize((300, 424)).convert("L"))
    expected = {"invoice", "amount", "due", "eur", "payment"}
    # Tesseract alone: the PP-OCR fallback (test_ocr_fallback.py) would read the small page as it is.
    as_is = OcrEngine(TESSDATA, workers=1, min_side=0, fallback="none")
    upscaled = OcrEngine(TESSDATA, workers=1, min_side=1400, fallback="none")
    try:
        assert not expected <= words(as_is.recognize(page).text)
        assert expected <= words(upscaled.recognize(page).text)
    finally:
        as_is.close()
        upscaled.close()


def test_a_sideways_page_is_read_upright() -> None:
    # A portrait page scanned a quarter turn off (no EXIF to say so): tesseract alone reads garbage.
    sideways = np.ascontiguousarray(np.rot90(np.asarray(docs.page_image().convert("L")), 1))
    expected = {"invoice", "2024-0042", "amount", "due"}
    plain = OcrEngine(TESSDATA, workers=1, reorient_below=0, fallback="none")
    reorienting = OcrEngine(TESSDATA, workers=1, reorient_below=50, fallback="none")
    try:
        first = plain.recognize(sideways)
        assert not expected <= words(first.text) and first.rotated == 0
        upright = reorienting.recognize(sideways)
        assert expected <= words(upright.text) and upright.rotated == 270 and upright.confidence > 80
        # An upright page is read once: no orientation pass, nothing turned.
        page = np.asarray(docs.page_image().convert("L"))
        assert reorienting.recognize(page).rotated == 0
    finally:
        plain.close()
        reorienting.close()


def test_a_photo_the_global_threshold_blanks_out_is_read_with_local_thresholds() -> None:
    # A phone photo from the training generator (page on a cloth background, uneven light, blur,
    # noise, 960 px): tesseract's one global (Otsu) threshold turns it into a page without text.
    for module in ("faker", "fpdf", "cv2"):
        pytest.importorskip(module)
    from doctriage_train.degrade import photo, render_pdf
    from doctriage_train.generator import generate

    statement = generate("bank_statement", 3, 0).pdf
    assert statement is not None
    image = photo(render_pdf(statement, 1800), random.Random(963), target_long=960)
    plain = OcrEngine(TESSDATA, workers=1, rebinarize_below=0, fallback="none")
    rebinarizing = OcrEngine(TESSDATA, workers=1, rebinarize_below=50, fallback="none")
    try:
        first = plain.recognize(image)
        assert first.text == "" and first.confident_words == 0 and not first.rebinarized
        second = rebinarizing.recognize(image)
        assert second.rebinarized and second.confident_words >= 10
        assert {"account", "statement"} <= words(second.text)
        # A page the global threshold reads well is read once.
        clean = rebinarizing.recognize(np.asarray(docs.page_image().convert("L")))
        assert not clean.rebinarized and clean.confidence > 80 and clean.confident_words >= 20
    finally:
        plain.close()
        rebinarizing.close()


def test_engine_from_settings() -> None:
    engine = OcrEngine.from_settings(OcrSettings(workers=1, languages="eng+deu"))
    try:
        assert engine.languages == "eng+deu" and engine.version.startswith("5.")
        assert engine.min_side == OcrSettings().min_side == 1400
        assert engine.reorient_below == OcrSettings().reorient_below == 50  # apt's tesseract-ocr-osd is there
        assert engine.rebinarize_below == OcrSettings().rebinarize_below == 50
        assert os.environ["OMP_THREAD_LIMIT"] == "1"
    finally:
        engine.close()


def test_importing_the_ocr_module_leaves_openmp_alone() -> None:
    """Regression: the OCR module capped OMP_THREAD_LIMIT at import, and torch in the same process
    (training) then stalled for minutes. Only creating an OCR engine may set it."""
    code = "import os, sidecar.pipeline.features, sidecar.pipeline.ocr; print(os.environ.get('OMP_THREAD_LIMIT'))"
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=root)
    assert out.stdout.strip() == "None"
