"""Per-page decode + normalize on the real documents of ../shared/real-docs: naive vs ours, by format.

    python -m bench.preprocess.real [--repeat 3] [--out bench/preprocess/results_real.json]

Real files vary (phone photos, scans, born-digital PDFs of every size), so this
complements run.py's fixed A4-at-300-dpi pages. Unit: CPU ms of the calling
thread, one core. The documents stay outside the repository; only timings are
committed (file names are listed for reproducibility).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # before the imports: OpenMP reads it when it loads

from bench.preprocess.run import SPEC, naive, ours, summary
from sidecar.domain import DocKind
from sidecar.pipeline.normalize import normalize_page

ROOT = Path(__file__).resolve().parents[2]
REAL_DOCS = ROOT.parent / "shared" / "real-docs" / "files"
KINDS = {".pdf": DocKind.PDF, ".jpg": DocKind.JPEG, ".jpeg": DocKind.JPEG, ".png": DocKind.PNG}


def cpu_ms(fn: Callable[[], object]) -> float:
    started = time.thread_time()
    fn()
    return (time.thread_time() - started) * 1000


def ocr_bench(limit: int) -> dict[str, object]:
    """OCR time per page on the real documents that need it (no text layer), as the sidecar would run it."""
    from sidecar.domain import Inspection
    from sidecar.pipeline.ocr import OcrEngine, find_tessdata, needs_ocr

    engine = OcrEngine(find_tessdata(), workers=1, cache_entries=0)
    cpu, chars, conf, timed_out = [], [], [], 0
    try:
        for path in sorted(p for p in REAL_DOCS.rglob("*") if p.suffix.lower() in KINDS):
            if len(cpu) >= limit:
                break
            kind = KINDS[path.suffix.lower()]
            content = path.read_bytes()
            if not needs_ocr(ours(content, kind)):
                continue
            started = time.thread_time()
            result = engine.extract_text(content, Inspection(kind=kind, digest="", size=len(content)))
            cpu.append((time.thread_time() - started) * 1000)
            chars.append(result.char_count)
            conf.append(result.confidence)
            timed_out += result.timed_out
    finally:
        engine.close()
    return {
        "unit": "CPU ms per page: decode at ~300 dpi + recognize (eng, default 5 s page limit)",
        "pages": len(cpu),
        "cpu_ms": summary(cpu),
        "timed_out": timed_out,
        "chars_p50": statistics.median(chars),
        "confidence_p50": statistics.median(conf),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ocr-docs", type=int, default=40, help="OCR the first N documents without a text layer")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results_real.json"))
    args = parser.parse_args()
    if not REAL_DOCS.is_dir():
        sys.exit(f"{REAL_DOCS} is absent")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    per_kind: dict[str, dict[str, list[float]]] = {}
    files: dict[str, list[str]] = {}
    for path in sorted(p for p in REAL_DOCS.rglob("*") if p.suffix.lower() in KINDS):
        kind = KINDS[path.suffix.lower()]
        content = path.read_bytes()
        normalize_page(ours(content, kind), SPEC)  # warm
        side = per_kind.setdefault(kind.value, {"naive": [], "ours": []})
        files.setdefault(kind.value, []).append(path.name)
        # One sample per document: the median of its runs (documents, not runs, are the population).
        side["naive"].append(
            statistics.median(
                cpu_ms(lambda c=content, k=kind: normalize_page(naive(c, k), SPEC)) for _ in range(args.repeat)
            )
        )
        side["ours"].append(
            statistics.median(
                cpu_ms(lambda c=content, k=kind: normalize_page(ours(c, k), SPEC)) for _ in range(args.repeat)
            )
        )
    ocr = ocr_bench(args.ocr_docs) if args.ocr_docs else {}
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
        "unit": "CPU ms per document (first page), decode + normalize to 256x192 grey, one core",
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "results": {k: {side: summary(v) for side, v in sides.items()} for k, sides in per_kind.items()},
        "files": files,
        "ocr": ocr,
    }
    for kind, sides in report["results"].items():  # type: ignore[attr-defined]
        print(kind, json.dumps(sides))
    print("ocr", json.dumps(ocr))
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
