"""Throughput of validation + digest: compiled hot path vs its Python twin vs SHA-256 alone.

    python -m bench.validate.bench_validate            # writes results.json and results.md here

One run measures every case on the same machine: PDF (one large image stream), PNG (noise,
64 KiB IDAT chunks), JPEG (noise, quality 95) at ~1 MB and ~10 MB, plus an object-heavy PDF
(thousands of small objects, the tokenizer's worst case). Each timing is the median of
several runs after a warm-up, in CPU time of the calling thread (time.thread_time: the machine
is shared, and wall time would count other processes' slices; hashlib and the walk both run on
the calling thread). "walk" = inspect_bytes - digest alone (the structural pass).
Targets (issue 4): compiled total <= 1.5x digest alone on 10 MB; compiled walk >= 20x the twin's.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import ssl
import statistics
import subprocess
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from harness.documents import make_jpeg, make_pdf, make_png, pdf_with_stream
from sidecar import _hotpath_py
from sidecar._ext import _hotpath as compiled

ROOT = Path(__file__).resolve().parents[2]

HERE = Path(__file__).resolve().parent
MB = 1_000_000


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    fn()
    samples = []
    for _ in range(runs):
        start = time.thread_time()
        fn()
        samples.append(time.thread_time() - start)
    return statistics.median(samples)


def documents() -> dict[str, bytes]:
    rng = os.urandom
    docs: dict[str, bytes] = {}
    for label, size in (("1MB", 1 * MB), ("10MB", 10 * MB)):
        docs[f"pdf-{label}"] = pdf_with_stream(rng(size - 600))
        side = int((size / 3) ** 0.5)
        docs[f"png-{label}"] = make_png(side, side, pixels=rng(side * side * 3), level=1)
        side = int((size / 1.17) ** 0.5)
        docs[f"jpeg-{label}"] = make_jpeg(side, side, quality=95, noise=True)
    text = b"<< /Type /Annot /Subtype /Text /Rect [10 10 20 20] /Contents (note %d with some words) >>"
    count = 1 * MB // len(text)
    docs["pdf-objects-1MB"] = make_pdf(extra_objects=tuple(text % i for i in range(count)))
    return docs


def machine() -> dict[str, str]:
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "sha_ni": str(" sha_ni" in flags),
        "pclmulqdq": str(" pclmulqdq" in flags),
        "python": platform.python_version(),
        "openssl": ssl.OPENSSL_VERSION,
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "kernel": platform.release(),
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "timing": "median CPU time (time.thread_time) per call",
        "crc_folding": str(compiled.crc_folding_enabled()),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip(),
    }


def main() -> None:
    info = machine()
    rows = []
    for name, data in documents().items():
        assert compiled.inspect_bytes(data) == _hotpath_py.inspect_bytes(data), name
        result = compiled.inspect_bytes(data)
        assert result.reason is None, (name, result)
        big = len(data) > 5 * MB
        sha = median_seconds(lambda d=data: hashlib.sha256(d).hexdigest(), 21 if big else 101)
        fast = median_seconds(lambda d=data: compiled.inspect_bytes(d), 21 if big else 101)
        slow = median_seconds(lambda d=data: _hotpath_py.inspect_bytes(d), 5 if big else 15)
        walk_c = max(fast - sha, 1e-7)
        walk_py = max(slow - sha, 1e-7)
        rows.append(
            {
                "document": name,
                "bytes": len(data),
                "digest_ms": round(sha * 1e3, 3),
                "compiled_ms": round(fast * 1e3, 3),
                "python_ms": round(slow * 1e3, 3),
                "compiled_mb_s": round(len(data) / fast / 1e6, 1),
                "python_mb_s": round(len(data) / slow / 1e6, 1),
                "digest_mb_s": round(len(data) / sha / 1e6, 1),
                "compiled_over_digest": round(fast / sha, 3),
                "python_over_compiled_total": round(slow / fast, 2),
                "walk_compiled_ms": round(walk_c * 1e3, 3),
                "walk_python_ms": round(walk_py * 1e3, 3),
                "walk_speedup": round(walk_py / walk_c, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    info["load_average_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    (HERE / "results.json").write_text(json.dumps({"machine": info, "results": rows}, indent=2) + "\n")
    lines = [
        "# bench/validate results",
        "",
        "Produced by `python -m bench.validate.bench_validate` (one run, all cases). Machine: "
        + ", ".join(f"{k}={v}" for k, v in info.items())
        + ".",
        "",
        "| document | bytes | digest alone ms | compiled ms | python twin ms | compiled / digest |"
        " walk compiled ms | walk python ms | walk speedup |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['document']} | {r['bytes']} | {r['digest_ms']} | {r['compiled_ms']} | {r['python_ms']} |"
            f" {r['compiled_over_digest']}x | {r['walk_compiled_ms']} | {r['walk_python_ms']} | {r['walk_speedup']}x |"
        )
    (HERE / "results.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
