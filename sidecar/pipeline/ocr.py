"""Stage (on demand): OCR of the first page with tesseract (tesserocr), PP-OCR (rapidocr) when it fails.

OCR costs 40 ms to ~1 s a page (1-2 s more when the fallback below reads it), 20-500x the rest of
the pipeline: it runs only when a later stage needs text and the document has no text layer
(`needs_ocr`). The engine holds one `PyTessBaseAPI` per executor worker, initialised once at
startup (loading a language model takes ~100 ms); small pages are upscaled first (`min_side`);
each page has a time limit; results are cached by content digest.

A page tesseract still reads poorly after its own second passes (mean word confidence under
`fallback_below`: phone photos, skewed, crumpled, dim) is read again by PP-OCR through rapidocr
(ocr_fallback.py), when enough of the page's time limit is left.

The tesserocr wheel bundles its own tesseract 5.5 but not the language data:
the tessdata directory comes from the settings, `$TESSDATA_PREFIX`, or the
apt package (`tesseract-ocr-eng` → /usr/share/tesseract-ocr/5/tessdata).

OCR reads the whole page, not the sheet cut out of a photo's background as the model's tensor is:
reading only the sheet costs v2.4 accuracy (docs/preprocessing.md, OCR).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from sidecar.config import OcrSettings
from sidecar.domain import Inspection, Page
from sidecar.errors import Unavailable
from sidecar.pipeline.ocr_fallback import FALLBACK_GOOD_SCORE, FALLBACK_MIN_LEFT_S, keeps_text, load_rapidocr, read_page

_TESSDATA_CANDIDATES = (
    Path("/usr/share/tesseract-ocr/5/tessdata"),
    Path("/usr/share/tesseract-ocr/4.00/tessdata"),
    Path("/usr/share/tessdata"),
)
# Pages whose text layer is shorter than this are treated as having none (scans with a stray
# page number, or a PDF printer's empty text objects).
MIN_TEXT_LAYER_CHARS = 16
# decode_document decodes at twice its target (JPEG draft, PDF render scale ≤ 4 = 288 dpi):
# this target keeps an A4 page at ~300 dpi, what tesseract is tuned for.
_OCR_TARGET = (3508 // 2, 2480 // 2)
# tesseract's thresholding_method values (tesseract >= 5.0): its default, and the local-threshold
# method a poorly read page is read again with (OcrSettings.rebinarize_below).
_OTSU, _SAUVOLA = "0", "2"
# A word read with at least this confidence counts as read (which of two reads of a page is kept).
_CONFIDENT_WORD = 50


@dataclass(frozen=True, slots=True)
class OcrResult:
    text: str
    confidence: float  # tesseract's mean word confidence, 0-100; 0 when no word was found
    seconds: float  # recognition time (0 when served from the cache)
    timed_out: bool = False
    cached: bool = False
    rotated: int = 0  # degrees counter-clockwise the page was turned before the text was read
    confident_words: int = 0  # words read with a confidence of at least _CONFIDENT_WORD
    rebinarized: bool = False  # read with local (Sauvola) thresholds: the global one read it worse
    # Whose text `text` is: "tesseract" or "rapidocr" (the fallback). confidence, confident_words,
    # rotated and rebinarized always describe tesseract's read.
    engine: str = "tesseract"
    fallback_score: float | None = None  # the fallback's mean line score (0-1) when it read the page
    # tesseract read the page poorly but too little of its time limit was left for the fallback.
    fallback_skipped: bool = False

    @property
    def char_count(self) -> int:
        return len(self.text)


def find_tessdata(configured: Path | None = None, languages: str = "eng") -> Path:
    """The first tessdata directory holding every requested language; Unavailable if none does."""
    env = os.environ.get("TESSDATA_PREFIX")
    candidates = [p for p in (configured, Path(env) if env else None) if p is not None]
    if configured is None:
        candidates += _TESSDATA_CANDIDATES
    wanted = [lang for lang in languages.split("+") if lang]
    for directory in candidates:
        if all((directory / f"{lang}.traineddata").is_file() for lang in wanted):
            return directory
    raise Unavailable(
        f"no tessdata directory with {languages} (install tesseract-ocr-{wanted[0] if wanted else 'eng'} "
        "or set TESSDATA_PREFIX)"
    )


def needs_ocr(page: Page) -> bool:
    """True when the page carries no usable text layer (images, scans, drawings)."""
    return page.text is None or len(page.text.strip()) < MIN_TEXT_LAYER_CHARS


class OcrEngine:
    """A pool of initialised tesseract instances (each with its own fallback engine); thread-safe, one
    page per instance at a time.

    Construct once at startup (`OcrEngine.from_settings(settings.ocr)`), call
    `extract_text` from executor threads, `close()` at shutdown.
    """

    def __init__(
        self,
        tessdata: Path,
        languages: str = "eng",
        workers: int = 1,
        page_timeout_s: float = 5.0,
        max_side: int = 3000,
        cache_entries: int = 1024,
        min_side: int = 1400,
        reorient_below: float = 50.0,
        rebinarize_below: float = 50.0,
        fallback: str = "rapidocr",
        fallback_below: float = 65.0,
        fallback_max_side: int = 960,
    ) -> None:
        # With OpenMP, tesseract spins one thread per core per page: ~8x slower on 2 busy cores.
        # Read once, when the OpenMP runtime starts (here, at tesserocr's first import). Set here, not
        # at module import: importing this module (for OcrResult) must not cap every OpenMP user of
        # the process - torch with a thread limit of 1 and 2 threads requested stalls for minutes.
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        try:
            import tesserocr
        except ImportError as exc:  # pragma: no cover - tesserocr is a hard dependency
            raise Unavailable("tesserocr is not installed") from exc
        self.tessdata = tessdata
        self.languages = languages
        self.page_timeout_s = page_timeout_s
        self.max_side = max_side
        self.min_side = min(min_side, max_side)
        # A landscape page read with a mean confidence below this is asked of tesseract's orientation
        # detection (osd.traineddata) and read again turned upright when that says so (0 = never).
        self.reorient_below = reorient_below if (tessdata / "osd.traineddata").is_file() else 0.0
        self.rebinarize_below = rebinarize_below
        self.version: str = tesserocr.tesseract_version().split()[1]
        self._cache: OrderedDict[tuple[str, str], OcrResult] = OrderedDict()
        self._cache_entries = cache_entries
        self._cache_lock = threading.Lock()
        if fallback not in ("none", "rapidocr"):
            raise ValueError(f"unknown OCR fallback {fallback!r}")
        self.fallback_below = fallback_below
        self.fallback_max_side = fallback_max_side
        # The fallback engine per worker (rapidocr keeps per-call arguments on the engine: never one
        # engine for two threads at once); none = tesseract alone (also when rapidocr is missing).
        loaded = load_rapidocr(workers, fallback_max_side) if fallback == "rapidocr" and fallback_below > 0 else None
        self.fallback, self.fallback_version = ("rapidocr", loaded[0]) if loaded else ("none", "")
        rapid: list[Any] = loaded[1] if loaded else [None] * workers
        # Per worker: the recognizer, the orientation detector when reorienting is on, the fallback.
        self._pool: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._apis: list[Any] = []
        # tesserocr wants the directory with a trailing separator.
        path = str(tessdata).rstrip("/") + "/"
        try:
            for index in range(workers):
                api = tesserocr.PyTessBaseAPI(path=path, lang=languages, psm=tesserocr.PSM.AUTO)
                self._apis.append(api)
                if self.rebinarize_below > 0 and not api.SetVariable("thresholding_method", _OTSU):
                    raise RuntimeError("this tesseract has no thresholding_method (5.0 or later needed)")
                osd = None
                if self.reorient_below > 0:
                    osd = tesserocr.PyTessBaseAPI(path=path, lang="osd", psm=tesserocr.PSM.OSD_ONLY)
                    self._apis.append(osd)
                self._pool.put(_Worker(api, osd, rapid[index]))
        except RuntimeError as exc:
            self.close()
            raise Unavailable(f"tesseract failed to initialise {languages} from {tessdata}") from exc

    @property
    def signature(self) -> tuple[object, ...]:
        """What decides the text this engine reads, for caches of it kept beyond one engine.

        Without a fallback (off, or rapidocr missing) it names tesseract's settings alone, so the data
        digests that include it (training's) do not change with the fallback's settings."""
        tesseract: tuple[object, ...] = (
            self.version,
            self.languages,
            self.max_side,
            self.min_side,
            self.reorient_below,
            self.rebinarize_below,
        )
        if self.fallback == "none":
            return tesseract
        return (
            *tesseract,
            self.fallback,
            self.fallback_version,
            self.fallback_below,
            self.fallback_max_side,
            FALLBACK_GOOD_SCORE,
        )

    @classmethod
    def from_settings(cls, settings: OcrSettings) -> OcrEngine:
        return cls(
            tessdata=find_tessdata(settings.tessdata, settings.languages),
            languages=settings.languages,
            workers=settings.workers,
            page_timeout_s=settings.page_timeout_s,
            max_side=settings.max_side,
            cache_entries=settings.cache_entries,
            min_side=settings.min_side,
            reorient_below=settings.reorient_below,
            rebinarize_below=settings.rebinarize_below,
            fallback=settings.fallback,
            fallback_below=settings.fallback_below,
            fallback_max_side=settings.fallback_max_side,
        )

    def close(self) -> None:
        for api in self._apis:
            api.End()
        self._apis.clear()

    @contextmanager
    def _api(self) -> Iterator[_Worker]:
        # Never more callers than instances in practice (one per executor worker); a surplus waits.
        worker = self._pool.get()
        try:
            yield worker
        finally:
            self._pool.put(worker)

    def extract_text(
        self,
        content: bytes,
        inspection: Inspection,
        *,
        timeout_s: float | None = None,
        max_pixels: int = 100_000_000,
    ) -> OcrResult:
        """OCR the document's first page at ~300 dpi (decoded here: the model-size page is too small).

        Cached by (digest, languages), unless it timed out or the fallback was skipped for time.
        Raises InvalidDocument when the document cannot be decoded.
        """
        key = (inspection.digest, self.languages)
        if inspection.digest and (hit := self._cache_get(key)) is not None:
            return hit
        from sidecar.pipeline.decode import decode_document

        page = decode_document(content, inspection, _OCR_TARGET, max_pixels)
        result = self.recognize(page.image, timeout_s=timeout_s)
        if inspection.digest and not result.timed_out and not result.fallback_skipped:
            self._cache_put(key, result)
        return result

    def recognize(self, image: npt.NDArray[np.uint8], *, timeout_s: float | None = None) -> OcrResult:
        """OCR one grey (HxW) or RGB (HxWx3) page image; never cached.

        A landscape page read poorly (mean confidence under `reorient_below`) may be a portrait page
        scanned or photographed sideways: when orientation detection says so, it is read again turned
        upright, and the better-read text is kept (`rotated` says which). A page still read poorly
        (under `rebinarize_below`: tesseract's one global threshold blanks out photos with uneven
        light) is read again with local thresholds, and the read with more confident words is
        returned (`rebinarized` says which). A page read under `fallback_below` after that is read by
        the fallback when `FALLBACK_MIN_LEFT_S` of the limit is left (else `fallback_skipped`), and
        its text is returned when it reads well or more (`engine` says whose)."""
        original = image
        image = _prepare(image, self.max_side, self.min_side)
        limit = self.page_timeout_s if timeout_s is None else min(timeout_s, self.page_timeout_s)
        with self._api() as worker:
            api, osd = worker.api, worker.osd
            started = time.perf_counter()
            result = _read(api, image, limit)
            height, width = image.shape[:2]
            if osd is not None and not result.timed_out and result.confidence < self.reorient_below and width > height:
                turns = _upright_turns(osd, image)
                left = limit - (time.perf_counter() - started)
                if turns and left > 0:
                    upright = np.ascontiguousarray(np.rot90(image, turns))
                    second = _read(api, upright, left)
                    if not second.timed_out and second.confidence > result.confidence:
                        result, image = replace(second, rotated=90 * turns), upright
            left = limit - (time.perf_counter() - started)
            if not result.timed_out and result.confidence < self.rebinarize_below and left > 0:
                api.SetVariable("thresholding_method", _SAUVOLA)
                try:
                    local = _read(api, image, left)
                finally:
                    api.SetVariable("thresholding_method", _OTSU)
                if not local.timed_out and local.confident_words > result.confident_words:
                    result = replace(local, rotated=result.rotated, rebinarized=True)
            if worker.rapid is not None and result.confidence < self.fallback_below:
                if limit - (time.perf_counter() - started) < FALLBACK_MIN_LEFT_S:
                    result = replace(result, fallback_skipped=True)
                else:
                    result = self._fallback(worker.rapid, original, result)
            return replace(result, seconds=time.perf_counter() - started)

    def _fallback(self, rapid: Any, image: npt.NDArray[np.uint8], result: OcrResult) -> OcrResult:
        """The page read by rapidocr (turned as tesseract's kept read was), and which text to keep."""
        page = _prepare(image, self.fallback_max_side)
        if result.rotated:
            page = np.ascontiguousarray(np.rot90(page, result.rotated // 90))
        read = read_page(rapid, page)
        if read is None:
            return result
        text, score = read
        if keeps_text(text, score, result.text):
            return replace(result, text=text, engine=self.fallback, fallback_score=score)
        return replace(result, fallback_score=score)

    def _cache_get(self, key: tuple[str, str]) -> OcrResult | None:
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is None:
                return None
            self._cache.move_to_end(key)
        return replace(hit, cached=True, seconds=0.0)

    def _cache_put(self, key: tuple[str, str], result: OcrResult) -> None:
        if self._cache_entries <= 0:
            return
        with self._cache_lock:
            self._cache[key] = result
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_entries:
                self._cache.popitem(last=False)


@dataclass(slots=True)
class _Worker:
    """What one executor worker reads pages with; used by one caller at a time."""

    api: Any  # tesserocr.PyTessBaseAPI
    osd: Any  # its orientation detector, None when reorienting is off
    rapid: Any  # rapidocr.RapidOCR, None without the fallback


def _read(api: Any, image: npt.NDArray[np.uint8], limit: float) -> OcrResult:
    height, width = image.shape[:2]
    channels = 1 if image.ndim == 2 else image.shape[2]
    data = image.tobytes()  # tesseract keeps a pointer to it until recognition ends
    started = time.perf_counter()
    api.SetImageBytes(data, width, height, channels, width * channels)
    done = api.Recognize(timeout=max(1, int(limit * 1000)))
    if not done:
        api.Clear()
        return OcrResult(text="", confidence=0.0, seconds=time.perf_counter() - started, timed_out=True)
    text = api.GetUTF8Text().strip()
    confidence = float(api.MeanTextConf()) if text else 0.0
    confident = sum(1 for c in api.AllWordConfidences() if c >= _CONFIDENT_WORD) if text else 0
    seconds = time.perf_counter() - started
    api.Clear()
    return OcrResult(text=text, confidence=confidence, seconds=seconds, confident_words=confident)


# Orientation detection looks at the page at most this size (its cost grows with the page: ~0.1 s here).
_OSD_SIDE = 1400


def _upright_turns(osd: Any, image: npt.NDArray[np.uint8]) -> int:
    """Quarter turns counter-clockwise (np.rot90's k) that set the page upright; 0 when unsure."""
    page = Image.fromarray(image)
    page.thumbnail((_OSD_SIDE, _OSD_SIDE))
    try:
        osd.SetImage(page)
        found = osd.DetectOrientationScript()
    finally:
        osd.Clear()
    if not found:
        return 0
    return int(found["orient_deg"]) // 90 % 4


def _prepare(image: npt.NDArray[np.uint8], max_side: int, min_side: int = 0) -> npt.NDArray[np.uint8]:
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"OCR takes grey or RGB pages, not {image.shape[2]} channels")
    height, width = image.shape[:2]
    longest = max(height, width)
    target = max_side if longest > max_side else min_side if longest < min_side else 0
    if target:
        scale = target / longest
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0))
    return np.ascontiguousarray(image, dtype=np.uint8)
