"""Real labelled documents (../shared/real-docs) for validation only: never trained on, never copied.

Everything here returns None / empty when the folder is absent, so callers skip cleanly.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from doctriage_train import LABELS
from doctriage_train.dataset import inspect, ocr_signature, preprocess, read_back
from sidecar.pipeline.ocr import needs_ocr

LABEL_MAP = {"id_card": "identity_document"}


def default_root() -> Path | None:
    env = os.environ.get("DOCTRIAGE_REAL_DOCS")
    here = Path(__file__).resolve()
    candidates = [Path(env)] if env else []
    candidates += [here.parents[2].parent / "shared" / "real-docs", Path.cwd().parent / "shared" / "real-docs"]
    for c in candidates:
        if (c / "MANIFEST.tsv").is_file():
            return c
    return None


@dataclass
class RealDocs:
    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.int64]
    text: list[str]  # PDF text layer ("" when none)
    ocr: list[str]  # the sidecar's OCR when the page has no text layer ("" when unavailable)
    files: list[str]
    kinds: list[str]
    failed: list[str]


def load(root: Path | None = None, with_ocr: bool = False, ocr_cache: Path | None = None) -> RealDocs | None:
    """Every real document through the sidecar's preprocessing; OCR results (the sidecar's OcrEngine,
    as serving runs it) are cached by content digest and OCR settings in `ocr_cache` (a JSON file):
    seconds a page."""
    root = root or default_root()
    if root is None:
        return None
    cache: dict[str, str] = json.loads(ocr_cache.read_text()) if ocr_cache and ocr_cache.is_file() else {}
    engine = ocr_signature() if with_ocr else ""
    xs, ys, texts, ocrs, files, kinds, failed = [], [], [], [], [], [], []
    with (root / "MANIFEST.tsv").open(newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            label = LABEL_MAP.get(row["label"], row["label"])
            path = root / "files" / row["file"]
            if label not in LABELS or not path.is_file():
                failed.append(row["file"])
                continue
            content = path.read_bytes()
            try:
                inspection = inspect(content)
                tensor, page = preprocess(content, inspection)
            except Exception:  # noqa: BLE001 - a file the sidecar would refuse is reported, not fatal
                failed.append(row["file"])
                continue
            xs.append(tensor)
            ys.append(LABELS.index(label))
            texts.append(page.text or "")
            if with_ocr and needs_ocr(page):
                key = f"{hashlib.sha256(content).hexdigest()}:{engine}"  # a changed OCR reads again
                if key not in cache:
                    cache[key] = read_back(content, inspection)  # the sidecar's own OCR, as serving reads it
                ocrs.append(cache[key])
            else:
                ocrs.append("")
            files.append(row["file"])
            kinds.append(path.suffix.lower().lstrip("."))
    if ocr_cache is not None and cache:
        ocr_cache.parent.mkdir(parents=True, exist_ok=True)
        ocr_cache.write_text(json.dumps(cache))
    if not xs:
        return None
    return RealDocs(np.stack(xs), np.array(ys, np.int64), texts, ocrs, files, kinds, failed)
