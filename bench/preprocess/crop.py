"""What the page crop (InputSpec.crop_page) costs in normalize_page: off vs on, in one run.

    python -m bench.preprocess.crop [--repeat 7] [--out bench/preprocess/results_crop.json]

Pages: run.py's A4-at-300-dpi fixtures (JPEG, PNG, PDF: full pages, nothing to crop), the
same sheets photographed on a dark table (a crop every time), and the real documents of
../shared/real-docs when present. Each page is decoded once (decode_document, as served);
only normalize_page is timed, off and on interleaved. Unit: CPU ms of the calling thread,
one core (the process pins itself).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # before the imports: OpenMP reads it when it loads

from bench.preprocess.real import KINDS, REAL_DOCS, cpu_ms
from bench.preprocess.run import SPEC, make, ours, summary
from sidecar.domain import Page
from sidecar.pipeline.normalize import normalize_page, page_box

CROP = dataclasses.replace(SPEC, crop_page=True)


def photographed(page: Page, seed: int) -> Page:
    """The page shrunk onto a dark, noisy 4:3 table: a phone photo taken from a distance."""
    rng = np.random.default_rng(seed)
    sheet = Image.fromarray(page.image).convert("L")
    sheet.thumbnail((700, 700))
    table = (70 + rng.normal(0, 10, (1200, 900))).clip(0, 255).astype(np.uint8)
    photo = Image.fromarray(table)
    photo.paste(sheet, (100 + int(rng.integers(0, 80)), 150 + int(rng.integers(0, 80))))
    arr = np.asarray(photo)
    return Page(image=arr, source_width=arr.shape[1], source_height=arr.shape[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results_crop.json"))
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    groups: dict[str, list[Page]] = {}
    for fmt in ("jpeg_rgb", "png_grey", "pdf_text"):
        for seed in range(5):
            kind, content = make(fmt, seed)
            page = ours(content, kind)
            groups.setdefault(f"fixture {fmt}", []).append(page)
            groups.setdefault("fixture photographed", []).append(photographed(page, seed))
    if REAL_DOCS.is_dir():
        for path in sorted(p for p in REAL_DOCS.rglob("*") if p.suffix.lower() in KINDS):
            try:
                groups.setdefault("real documents", []).append(ours(path.read_bytes(), KINDS[path.suffix.lower()]))
            except Exception:  # noqa: BLE001 - a file the sidecar refuses is not a page to time
                continue
    results: dict[str, object] = {}
    for name, pages in groups.items():
        off, on, cropped = [], [], 0
        for page in pages:
            normalize_page(page, SPEC), normalize_page(page, CROP)  # warm
            runs_off, runs_on = [], []
            for _ in range(args.repeat):
                runs_off.append(cpu_ms(lambda p=page: normalize_page(p, SPEC)))
                runs_on.append(cpu_ms(lambda p=page: normalize_page(p, CROP)))
            off.append(statistics.median(runs_off))
            on.append(statistics.median(runs_on))
            cropped += page_box(page.image) is not None
        ratio = statistics.median(b / a for a, b in zip(off, on, strict=True) if a > 0)
        results[name] = {
            "pages": len(pages),
            "cropped": cropped,
            "off": summary(off),
            "on": summary(on),
            "median_ratio_on_over_off": round(ratio, 2),
        }
        print(name, json.dumps(results[name]))
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
        "unit": "CPU ms per page, normalize_page only (page decoded beforehand), one core; median of repeats",
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "results": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
