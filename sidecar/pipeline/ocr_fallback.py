"""The OCR stage's fallback: PP-OCR through rapidocr, for a page tesseract still reads poorly.

A page tesseract reads poorly after its own second passes (mean word confidence under
`fallback_below`: phone photos, skewed, crumpled, dim) is read again by PP-OCR through rapidocr
(`OcrSettings.fallback`; bench/ocr/README.md measured it): one rapidocr engine per worker, its
bundled models named explicitly (never its download path), one ONNX Runtime thread, the page capped
at `fallback_max_side`. rapidocr cannot be interrupted, so it starts only with `FALLBACK_MIN_LEFT_S`
of the page's time limit left. Its lines are joined with newlines (PP-OCR often glues words).

`OcrEngine` (ocr.py) loads the engines (`load_rapidocr`), hands each the prepared page
(`read_page`) and keeps the fallback's text when `keeps_text` says so.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import structlog

# The fallback's models, bundled in the rapidocr wheel: named here so rapidocr never reaches its
# download code (taken only when a model_path is None).
_RAPID_MODELS = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",  # turns upside-down line crops (sideways pages)
}
# rapidocr cannot be interrupted: it starts only with this much of the page's time limit left (it
# took p50 1.3 s, p95 2.3 s per photo page at 960 px on a loaded 2-core machine, bench/ocr/README.md).
FALLBACK_MIN_LEFT_S = 1.5
# The fallback's text is kept when its mean line score (0-1) is at least this (good reads score
# 0.94-0.998, unreadable scripts and sideways pages 0.85-0.89), else the read with more characters.
FALLBACK_GOOD_SCORE = 0.90

log = structlog.get_logger(__name__)
_fallback_unavailable_logged = False


def load_rapidocr(workers: int, max_side: int) -> tuple[str, list[Any]] | None:
    """rapidocr's version and one engine per worker; None (logged once) when rapidocr cannot be imported
    or its bundled model files are missing: the engine then runs tesseract alone.

    The engines load their ONNX Runtime sessions on their first page (~0.2 s, ~170 MB each)."""
    global _fallback_unavailable_logged
    try:
        import rapidocr
        from rapidocr import RapidOCR

        models = Path(rapidocr.__file__).parent / "models"
        missing = [name for name in _RAPID_MODELS.values() if not (models / name).is_file()]
        if missing:
            raise FileNotFoundError(f"{', '.join(missing)} not in {models}")
        params: dict[str, Any] = {
            "Global.log_level": "error",  # not a warning per page without text
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,  # one thread: nothing spins
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            **{f"{step}.model_path": str(models / name) for step, name in _RAPID_MODELS.items()},
            # Both caps: the page is shrunk to max_side_len, and the detector's own resize only shrinks
            # ("max"; by default it scales the short side UP to 736 px).
            "Global.max_side_len": max_side,
            "Det.limit_type": "max",
            "Det.limit_side_len": max_side,
            "Rec.rec_batch_num": 1,  # one line at a time, and lines padded to 160 px, not 320:
            "Rec.rec_img_shape": [3, 48, 160],  # ~25 % less recognition time, the same text
            "Global.use_cls": True,
        }
        return importlib.metadata.version("rapidocr"), [RapidOCR(params=params) for _ in range(workers)]
    except Exception as exc:  # noqa: BLE001 - no fallback is no reason to refuse pages: tesseract alone
        if not _fallback_unavailable_logged:
            _fallback_unavailable_logged = True
            log.error("ocr_fallback_unavailable", fallback="rapidocr", error=f"{type(exc).__name__}: {exc}")
        return None


def read_page(rapid: Any, page: npt.NDArray[np.uint8]) -> tuple[str, float] | None:
    """(text, mean line score 0-1) of one grey or RGB page, already sized and turned upright, read by
    one rapidocr engine; None (logged) when rapidocr fails: tesseract's text stands."""
    if page.ndim == 3:
        page = np.ascontiguousarray(page[..., ::-1])  # rapidocr takes colour pages as BGR
    try:
        read = rapid(page)
    except Exception as exc:  # noqa: BLE001 - never fail a page for the fallback: tesseract's text stands
        log.warning("ocr_fallback_failed", engine="rapidocr", error=f"{type(exc).__name__}: {exc}")
        return None
    lines = [str(line).strip() for line in (read.txts or ())]
    text = "\n".join(line for line in lines if line)
    scores = [float(score) for score in (read.scores or ())]
    score = sum(scores) / len(scores) if scores else 0.0
    return text, score


def keeps_text(text: str, score: float, tesseract_text: str) -> bool:
    """Whether the fallback's text replaces tesseract's: it reads well, or it found more."""
    return bool(text) and (score >= FALLBACK_GOOD_SCORE or _chars(text) > _chars(tesseract_text))


def _chars(text: str) -> int:
    return sum(1 for c in text if not c.isspace())
