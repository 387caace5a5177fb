"""Real labelled documents: ../shared/real-train (315) and ../shared/real-docs (87), read in place,
never copied. Both sets train doc-classifier 2.4's text head by K-fold cross-fitting grouped by source
repository (fusion.train_v24), so every real document also gets an honest out-of-fold score.

Each document is read through the sidecar's analysis core (sidecar/pipeline/analysis.py: decode →
normalize, the PDF text layer, else the serving OCR, as serving reads it), and re-shot as simulated
phone photos (`photos`) with the degradation pipeline the synthetic data uses, so the photo slice
learns from, and is measured on, real layouts.

Everything here returns None when the folders are absent, so callers skip cleanly.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from doctriage_train import LABELS
from doctriage_train.dataset import PHOTO_SIZES, SPEC, analyse, read_text, serving_ocr_signature, serving_stages
from doctriage_train.degrade import encode, photo, render_pdf
from doctriage_train.generator import seed_of
from sidecar.pipeline.ocr import needs_ocr

LABEL_MAP = {"id_card": "identity_document"}
SETS = ("real-train", "real-docs")
# Long side the clean page is drawn at before it is photographed (as the synthetic pages are).
PHOTO_SOURCE_LONG = 1800


def default_roots() -> list[Path]:
    """The real-document folders found: $DOCTRIAGE_REAL_DOCS (os.pathsep-separated), else
    ../shared/real-train and ../shared/real-docs beside the checkout (or the working directory)."""
    env = os.environ.get("DOCTRIAGE_REAL_DOCS")
    if env:
        return [Path(p) for p in env.split(os.pathsep) if (Path(p) / "MANIFEST.tsv").is_file()]
    here = Path(__file__).resolve()
    for shared in (here.parents[2].parent / "shared", Path.cwd().parent / "shared"):
        found = [shared / s for s in SETS if (shared / s / "MANIFEST.tsv").is_file()]
        if found:
            return found
    return []


@dataclass
class RealDocs:
    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.int64]
    text: list[str]  # PDF text layer ("" when none)
    ocr: list[str]  # the sidecar's OCR when the page has no text layer ("" when unavailable)
    files: list[str]
    kinds: list[str]
    failed: list[str]
    repos: list[str] = field(default_factory=list)  # source repository: the cross-fitting group
    sets: list[str] = field(default_factory=list)  # real-train | real-docs
    page_count: list[int] = field(default_factory=list)
    aspect: list[float | None] = field(default_factory=list)  # page height / width (business rules)
    origin: npt.NDArray[np.intp] | None = None  # photos: index of the clean document re-shot

    def served_text(self) -> list[str]:
        """What serving reads: OCR where the page has no usable text layer, else the text layer."""
        return [o or t for t, o in zip(self.text, self.ocr, strict=True)]

    def groups(self) -> npt.NDArray[np.int64]:
        """One integer per source repository."""
        names = {r: i for i, r in enumerate(sorted(set(self.repos)))}
        return np.array([names[r] for r in self.repos], np.int64)


def group_folds(
    groups: npt.NDArray[np.int64], y: npt.NDArray[np.int64], k: int, seed: int = 0
) -> npt.NDArray[np.int64]:
    """Fold of each document: whole repositories to one fold, folds balanced by size and by label
    (greedy: the largest repositories first, each to the fold that has the fewest of its main label)."""
    rng = np.random.default_rng(seed)
    uniq = rng.permutation(np.unique(groups))
    sizes = {g: int((groups == g).sum()) for g in uniq}
    order = sorted(uniq, key=lambda g: -sizes[g])  # stable: ties keep the shuffled order
    per_label = np.zeros((k, int(y.max()) + 1 if len(y) else 1), np.int64)
    fold_of: dict[int, int] = {}
    for g in order:
        members = groups == g
        counts = np.bincount(y[members], minlength=per_label.shape[1])
        main = int(np.argmax(counts))
        load = per_label[:, main] * 1000 + per_label.sum(axis=1)
        f = int(np.argmin(load))
        fold_of[int(g)] = f
        per_label[f] += counts
    return np.array([fold_of[int(g)] for g in groups], np.int64)


def _rows(roots: list[Path]) -> list[tuple[str, str, Path, str]]:
    out = []
    for root in roots:
        with (root / "MANIFEST.tsv").open(newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                out.append((row["label"], row.get("repo", ""), root / "files" / row["file"], root.name))
    return out


def _read(task: tuple[str, bytes, bool, str | None]) -> dict[str, Any] | None:
    """One upload through the sidecar's stages; `ocr`: the cached OCR text, or None to read it now."""
    name, content, with_ocr, cached = task
    try:
        analysis = analyse(content, stages=serving_stages())
        tensor = analysis.tensor(SPEC)
        page = analysis.page
        assert page is not None
    except Exception:  # noqa: BLE001 - a file the sidecar would refuse is reported, not fatal
        return None
    ocr = ""
    if with_ocr and needs_ocr(page):
        ocr = cached if cached is not None else read_text(analysis)
    w, h = page.source_width, page.source_height
    return {
        "name": name,
        "tensor": tensor,
        "text": page.text or "",
        "ocr": ocr,
        "needs_ocr": with_ocr and needs_ocr(page),
        "page_count": page.page_count,
        "aspect": h / w if w and h else None,
    }


class _OcrCache:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict[str, str] = json.loads(path.read_text()) if path and path.is_file() else {}
        self.engine = serving_ocr_signature()

    def key(self, content: bytes) -> str:
        return f"{hashlib.sha256(content).hexdigest()}:{self.engine}"  # a changed OCR reads again

    def save(self) -> None:
        if self.path is not None and self.data:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.data))


def _run_all(
    items: list[tuple[str, bytes]], with_ocr: bool, cache: _OcrCache, workers: int
) -> list[dict[str, Any] | None]:
    tasks = [(n, c, with_ocr, cache.data.get(cache.key(c))) for n, c in items]
    if workers > 1 and len(tasks) > 1:
        with get_context("fork").Pool(workers) as pool:
            results = pool.map(_read, tasks, chunksize=1)
    else:
        results = [_read(t) for t in tasks]
    for (_, content), r in zip(items, results, strict=True):
        if r is not None and r["needs_ocr"]:
            cache.data[cache.key(content)] = r["ocr"]
    return results


def load(
    roots: list[Path] | Path | None = None,
    with_ocr: bool = False,
    ocr_cache: Path | None = None,
    workers: int = 1,
) -> RealDocs | None:
    """Every real document through the sidecar's preprocessing; OCR results (the sidecar's OcrEngine,
    as serving runs it) are cached by content digest and OCR settings in `ocr_cache` (a JSON file):
    seconds a page."""
    if isinstance(roots, Path):
        roots = [roots]
    roots = default_roots() if roots is None else roots
    if not roots:
        return None
    cache = _OcrCache(ocr_cache if with_ocr else None)
    rows, items, failed = [], [], []
    for label, repo, path, set_name in _rows(roots):
        label = LABEL_MAP.get(label, label)
        if label not in LABELS or not path.is_file():
            failed.append(str(path))
            continue
        rows.append((label, repo, path, set_name))
        items.append((str(path), path.read_bytes()))
    results = _run_all(items, with_ocr, cache, workers)
    cache.save()
    docs = RealDocs(np.zeros(0, np.float32), np.zeros(0, np.int64), [], [], [], [], failed)
    xs, ys = [], []
    for (label, repo, path, set_name), r in zip(rows, results, strict=True):
        if r is None:
            docs.failed.append(str(path))
            continue
        xs.append(r["tensor"])
        ys.append(LABELS.index(label))
        docs.text.append(r["text"])
        docs.ocr.append(r["ocr"])
        docs.files.append(f"{set_name}/{path.parent.name}/{path.name}")
        docs.kinds.append(path.suffix.lower().lstrip("."))
        docs.repos.append(repo or path.name)
        docs.sets.append(set_name)
        docs.page_count.append(int(r["page_count"]))
        docs.aspect.append(r["aspect"])
    if not xs:
        return None
    docs.x, docs.y = np.stack(xs), np.array(ys, np.int64)
    return docs


def _clean_page(content: bytes) -> npt.NDArray[np.uint8] | None:
    """The document's first page as a grey image, long side about PHOTO_SOURCE_LONG (smaller images kept)."""
    from PIL import Image, ImageOps

    try:
        if content[:5] == b"%PDF-":
            return render_pdf(content, PHOTO_SOURCE_LONG)
        with Image.open(io.BytesIO(content)) as opened:
            grey = ImageOps.exif_transpose(opened).convert("L")
            scale = PHOTO_SOURCE_LONG / max(grey.size)
            if scale < 1:
                grey = grey.resize((max(8, round(grey.width * scale)), max(8, round(grey.height * scale))))
            return np.asarray(grey, np.uint8).copy()
    except Exception:  # noqa: BLE001 - unreadable here: no photo of it
        return None


def shoot(content: bytes, key: str, shot: int) -> bytes | None:
    """A simulated phone photo of a real document (JPEG bytes), deterministic by (key, shot)."""
    page = _clean_page(content)
    if page is None:
        return None
    r = random.Random(seed_of("real-photo", key, shot))
    img = photo(page, r, target_long=r.choices(PHOTO_SIZES, weights=[30, 25, 30, 15])[0])
    return encode(img, r, "jpeg")


def _shoot(task: tuple[str, bytes, str, int]) -> tuple[str, bytes | None]:
    name, content, key, shot = task
    return name, shoot(content, key, shot)


def photos(
    docs: RealDocs,
    shots: int = 1,
    with_ocr: bool = True,
    ocr_cache: Path | None = None,
    workers: int = 1,
) -> RealDocs | None:
    """`shots` simulated phone photos of every document in `docs`, read as serving reads an upload
    (the photo's own OCR: no text layer survives a camera)."""
    roots = {s: r for r in default_roots() for s in [r.name]}
    tasks = []
    for i, f in enumerate(docs.files):
        set_name, rel = f.split("/", 1)
        content = (roots[set_name] / "files" / rel).read_bytes() if set_name in roots else b""
        for s in range(shots):
            tasks.append((str(i), content, hashlib.sha256(content).hexdigest(), s))
    if workers > 1:
        with get_context("fork").Pool(workers) as pool:
            shot = pool.map(_shoot, tasks, chunksize=2)
    else:
        shot = [_shoot(t) for t in tasks]
    made = [(n, c) for n, c in shot if c is not None]
    cache = _OcrCache(ocr_cache if with_ocr else None)
    results = _run_all(made, with_ocr, cache, workers)
    cache.save()
    out = RealDocs(np.zeros(0, np.float32), np.zeros(0, np.int64), [], [], [], [], [])
    xs, ys, origin = [], [], []
    for (n, _), r in zip(made, results, strict=True):
        i = int(n)
        if r is None:
            out.failed.append(docs.files[i])
            continue
        xs.append(r["tensor"])
        ys.append(int(docs.y[i]))
        origin.append(i)
        out.text.append(r["text"])
        out.ocr.append(r["ocr"])
        out.files.append(docs.files[i])
        out.kinds.append("jpeg")
        out.repos.append(docs.repos[i])
        out.sets.append(docs.sets[i])
        out.page_count.append(int(r["page_count"]))
        out.aspect.append(r["aspect"])
    if not xs:
        return None
    out.x, out.y, out.origin = np.stack(xs), np.array(ys, np.int64), np.array(origin, np.intp)
    return out
