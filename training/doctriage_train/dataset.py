"""Build tensors from generated documents through the sidecar's analysis core (decode, normalize, OCR).

Each (label, layout, instance) yields a born-digital PDF sample plus degraded uploads (phone
photos, scans as JPEG/PNG/image-only PDF). Layouts are split into train/val/test by layout id, so
test layouts are never seen in training. Everything is deterministic by (config, seed).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from doctriage_train import LABELS
from doctriage_train.degrade import encode, on_sheet, photo, render_pdf, scan
from doctriage_train.generator import OTHER_GENRES, UNSEEN_GENRES, Generated, generate, seed_of
from sidecar.domain import DocKind, Document, InputSpec, Inspection, Page
from sidecar.hotpath import sniff_and_digest
from sidecar.pipeline.analysis import Analysis, Stages
from sidecar.pipeline.features import tracked_tuple

# crop_page: a phone photo's sheet is cut out of its background before fitting (generator 6).
SPEC = InputSpec(height=256, width=192, mean=0.5, std=0.5, autocontrast=True, crop_page=True)


@dataclass(frozen=True)
class DataConfig:
    layouts: int = 60  # per target class
    other_layouts: int = 144
    instances: int = 7  # per layout
    unseen_layouts: int = 8  # per unseen `other` genre (test only)
    seed: int = 0

    def digest(self) -> str:
        """Digest of everything that determines the data: config, generator code version, the input
        spec the tensors are normalized to, and the OCR that reads the degraded pages back (a changed
        OCR makes other data)."""
        blob = json.dumps(
            {
                **asdict(self),
                "labels": LABELS,
                "generator": GENERATOR_VERSION,
                "spec": asdict(SPEC),
                "ocr": ocr_signature(),
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()


# 2: receipt close-ups, ID cards front and back; 3: real OCR read-back; 4: each type's wider vocabulary and
# the words types share (vocab.EXTRA), letters without "Dear", photos and scans up to 1600-1700 px, every
# test photo/scan read back through the sidecar's OCR; 5: dates and times drawn from a fixed day
# (render.REFERENCE_DAY), not from the day it runs; 6: tensors with the page cut out of a photo's
# background (SPEC.crop_page).
GENERATOR_VERSION = "6"
PRESETS = {
    "full": DataConfig(),
    "tiny": DataConfig(layouts=3, other_layouts=4, instances=1, unseen_layouts=1),
}


def split_of(layout: int) -> str:
    k = (layout * 13 + 17) % 20  # a permutation of 0..19: even tiny sets get every split
    return "train" if k < 14 else "val" if k < 17 else "test"


@dataclass
class Sample:
    label: int
    layout: int
    split: str
    variant: str  # pdf | photo | scan
    fmt: str  # pdf | jpeg | png | scanpdf | raster
    genre: str
    tensor: npt.NDArray[np.float16]
    text: str  # text layer (born-digital PDFs only)
    ocr: str  # OCR of the degraded page: read back through tesseract, or simulated ("" = none)
    drift: tuple[float, ...]


def inspect(content: bytes) -> Inspection:
    """What training knows of an upload instead of validation: its type (training learns from the page of
    a document serving would refuse; calibration counts such a document as never accepted)."""
    kind, _ = sniff_and_digest(content)
    if kind is None:
        raise ValueError("unsupported content")
    return Inspection(kind=DocKind(kind), digest="", size=len(content))


def analyse(content: bytes, inspection: Inspection | None = None, stages: Stages | None = None) -> Analysis:
    """One upload through the sidecar's analysis core (sidecar/pipeline/analysis.py), as serving reads
    it; `stages`: whose OCR reads its text (default: the synthetic data's, `synthetic_stages`)."""
    return (stages or synthetic_stages()).analyse(Document(content), inspection or inspect(content))


def preprocess(content: bytes, inspection: Inspection | None = None) -> tuple[npt.NDArray[np.float32], Page]:
    """Exactly the sidecar's path: sniff → decode at model resolution → normalize."""
    analysis = analyse(content, inspection)
    tensor = analysis.tensor(SPEC)
    assert analysis.page is not None
    return tensor, analysis.page


def drift_of(inspection: Inspection, page: Page) -> tuple[float, ...]:
    """The drift features exactly as serving measures them (text length = the text layer only)."""
    return tracked_tuple(inspection, page)


_CONFUSE = {"l": "1", "o": "0", "e": "c", "i": "l", "s": "5", "a": "o", "m": "rn", "u": "v", "b": "h", "g": "q"}


# Share of training/validation photos and scans whose `ocr` is what the sidecar's own OCR reads back
# from the degraded file (real tesseract noise); the rest get simulated noise, which is ~100x cheaper
# to make. Every test photo and scan is read back: the test measures what serving does.
OCR_READBACK = 0.5
# Long side in pixels of the degraded uploads (phone photos, scans at ~75-200 dpi).
PHOTO_SIZES = (640, 960, 1280, 1600)
SCAN_SIZES = (640, 1100, 1400, 1700)
_STAGES: dict[str, Stages] = {}


def _stages(kind: str, **ocr: Any) -> Stages:
    """This process's analysis stages of one kind (no business rules: training reads pages and text)."""
    if kind not in _STAGES:
        from sidecar.config import OcrSettings, Settings
        from sidecar.pipeline.rules import RuleBook

        _STAGES[kind] = Stages(Settings(ocr=OcrSettings(workers=1, cache_entries=0, **ocr)), RuleBook({}))
    return _STAGES[kind]


def synthetic_stages() -> Stages:
    """The stages the synthetic data is read with: the serving settings (as `make serve` runs them)
    with tesseract alone.

    The serving OCR reads a page tesseract reads poorly again with PP-OCR (OcrSettings.fallback), at
    ~1.3-2.3 s a photo: over the thousands of synthetic photos and scans that would add about an hour
    to `make models`, so the synthetic data keeps tesseract's text (and its digest, `ocr_signature`).
    Real documents are read with the serving defaults, fallback included: `serving_stages`."""
    return _stages("synthetic", fallback="none")


def serving_stages() -> Stages:
    """The stages real documents are read with: the serving defaults, fallback on. A generous OCR page
    limit: the text does not depend on how busy this machine is (a loaded server can skip the fallback
    for time; training reads what serving reads when it has the time)."""
    return _stages("serving", page_timeout_s=60.0)


def _signature(stages: Stages) -> str:
    engine = stages.ocr_engine()
    return hashlib.sha256(repr(engine.signature if engine else None).encode()).hexdigest()[:16]


def read_text(analysis: Analysis) -> str:
    """The page's text as serving reads it (the text layer, else its stages' OCR); "" when there is none
    or the page cannot be read at OCR resolution (serving would refuse it: never accepted)."""
    try:
        return analysis.read_text() or ""
    except Exception:  # noqa: BLE001 - an undecodable page yields no text
        return ""


def ocr_signature() -> str:
    """What decides the synthetic data's OCR text (OcrEngine.signature), as a short key for caches."""
    return _signature(synthetic_stages())


def serving_ocr_signature() -> str:
    """What decides the real documents' OCR text, as a short key for caches."""
    return _signature(serving_stages())


def simulate_ocr(text: str, r: random.Random, quality: float) -> str:
    """What tesseract returns from a bad capture: most words lost, characters confused, junk added."""
    words = text.split()
    out = []
    for word in words:
        if r.random() > quality:
            continue
        chars = [(_CONFUSE.get(c, c) if r.random() < (1 - quality) * 0.25 else c) for c in word]
        out.append("".join(chars))
        if r.random() < 0.05:
            out.append(r.choice(["|", "—", "~", "ii", ";:", "'"]))
    return " ".join(out)


def _variants(label: str, layout: int, split: str) -> list[str]:
    if split == "test":
        return ["pdf", "photo", "scan"]
    return ["pdf", "photo" if seed_of("v", label, layout) % 100 < 55 else "scan"]


def _make(label: str, layout: int, instance: int, genre: str | None) -> list[Sample]:
    split = "test" if genre in UNSEEN_GENRES else split_of(layout)
    g: Generated = generate(label, layout, instance, genre=genre)
    out: list[Sample] = []
    # Rendered large enough for the biggest photo/scan below (real uploads are 1-12 MP, not thumbnails).
    clean_page = render_pdf(g.pdf, 1800 if label != "identity_document" else 1000) if g.pdf else g.image
    assert clean_page is not None
    full_text = ""
    for variant in _variants(label, layout, split):
        r = random.Random(seed_of("variant", label, layout, instance, variant, genre))
        if variant == "pdf":
            if g.pdf is not None:
                content, fmt = g.pdf, "pdf"
            else:
                content, fmt = encode(clean_page, r, "png"), "raster"
        else:
            src = clean_page
            if label == "identity_document" and variant == "scan" and r.random() < 0.6:
                src = on_sheet(src, r)
            if variant == "photo":
                img = photo(src, r, target_long=r.choices(PHOTO_SIZES, weights=[30, 25, 30, 15])[0])
            else:
                img = scan(src, r, target_long=r.choices(SCAN_SIZES, weights=[20, 25, 35, 20])[0])
            fmt = r.choices(["jpeg", "png", "pdf"], weights=[60, 15, 25] if variant == "scan" else [85, 10, 5])[0]
            content = encode(img, r, fmt)
            fmt = "scanpdf" if fmt == "pdf" else fmt
        inspection = inspect(content)
        analysis = analyse(content, inspection)
        tensor = analysis.tensor(SPEC)
        page = analysis.page
        assert page is not None
        text = page.text or ""
        if variant == "pdf":
            full_text = text
        ocr = ""
        if variant != "pdf":
            if split == "test" or r.random() < OCR_READBACK:
                ocr = read_text(analysis)
            elif r.random() < 0.8:
                quality = r.uniform(0.05, 0.5) if variant == "photo" else r.uniform(0.2, 0.95)
                ocr = simulate_ocr(full_text, r, quality)
        out.append(
            Sample(
                label=LABELS.index(label),
                layout=layout,
                split=split,
                variant=variant,
                fmt=fmt,
                genre=g.genre,
                tensor=tensor.astype(np.float16),
                text=text,
                ocr=ocr,
                drift=drift_of(inspection, page),
            )
        )
    return out


def _tasks(cfg: DataConfig) -> Iterator[tuple[str, int, int, str | None]]:
    for label in LABELS:
        layouts = cfg.other_layouts if label == "other" else cfg.layouts
        for layout in range(layouts):
            genre = OTHER_GENRES[layout % len(OTHER_GENRES)] if label == "other" else None
            for instance in range(cfg.instances):
                yield label, layout + 1000 * cfg.seed, instance, genre
    for gi, genre in enumerate(UNSEEN_GENRES):
        for layout in range(cfg.unseen_layouts):
            for instance in range(max(1, cfg.instances // 2)):
                yield "other", 500 + gi * 100 + layout + 1000 * cfg.seed, instance, genre


def _run(task: tuple[str, int, int, str | None]) -> list[Sample]:
    return _make(*task)


def build(cfg: DataConfig, out: Path, workers: int = 2) -> Path:
    """Generate the whole dataset into `out`/data.npz (+ meta.json); returns the npz path."""
    out.mkdir(parents=True, exist_ok=True)
    tasks = list(_tasks(cfg))
    if workers > 1:
        with get_context("fork").Pool(workers) as pool:
            results: list[list[Sample]] = pool.map(_run, tasks, chunksize=8)
    else:
        results = [_run(t) for t in tasks]
    samples = [s for batch in results for s in batch]
    path = out / "data.npz"
    np.savez(
        path,
        x=np.stack([s.tensor for s in samples]),
        y=np.array([s.label for s in samples], np.int64),
        layout=np.array([s.layout for s in samples], np.int64),
        drift=np.array([s.drift for s in samples], np.float32),
    )
    meta = {
        "config": asdict(cfg),
        "digest": cfg.digest(),
        "split": [s.split for s in samples],
        "variant": [s.variant for s in samples],
        "fmt": [s.fmt for s in samples],
        "genre": [s.genre for s in samples],
        "text": [s.text for s in samples],
        "ocr": [s.ocr for s in samples],
    }
    (out / "meta.json").write_text(json.dumps(meta))
    return path


@dataclass
class Dataset:
    x: npt.NDArray[np.float16]
    y: npt.NDArray[np.int64]
    drift: npt.NDArray[np.float32]
    split: npt.NDArray[np.str_]
    variant: npt.NDArray[np.str_]
    fmt: npt.NDArray[np.str_]
    genre: npt.NDArray[np.str_]
    text: list[str]
    ocr: list[str]
    digest: str

    @classmethod
    def load(cls, out: Path) -> Dataset:
        arrays = np.load(out / "data.npz")
        meta = json.loads((out / "meta.json").read_text())
        return cls(
            x=arrays["x"],
            y=arrays["y"],
            drift=arrays["drift"],
            split=np.array(meta["split"]),
            variant=np.array(meta["variant"]),
            fmt=np.array(meta["fmt"]),
            genre=np.array(meta["genre"]),
            text=meta["text"],
            ocr=meta["ocr"],
            digest=meta["digest"],
        )

    def where(self, split: str) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.split == split)
