"""What the cascade (traffic.escalate_to) buys and costs, on the real documents, in one run.

    .venv/bin/python -m bench.cascade.run [--out bench/cascade/results.json]

Starts a real `python -m sidecar serve` per set-up with the shipped models and the shipped acceptance
rules (config/acceptance-rule.json), the default 90/10 split, prediction cache off, and sends every
document of ../shared/real-docs once, sequentially, through the Python client (a first sight: OCR
included):

- `cascade`: the default, review answers of 2.3 escalate to 2.4;
- `no_cascade`: traffic.escalate_to = "" (each version's own answer and rule);
- `all_2.4`: all traffic on 2.4 (what the cascade approaches, for reference).

Per set-up: accuracy, auto-accept coverage, silent failures, escalated share, and client-side
latency p50/p95/p99 by kind of upload (PDF with a text layer, image or scanned PDF). Numbers only,
never the documents or their names. The real documents also fit the shipped rules: optimistic.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from doctriage import Client
from doctriage.errors import DocTriageError

from harness.process import SidecarProcess
from sidecar.tools.evaluation import labelled_files

ROOT = Path(__file__).resolve().parents[2]

REAL_DOCS = ROOT.parent / "shared" / "real-docs" / "files"
HERE = Path(__file__).resolve().parent
SETUPS: dict[str, dict[str, str]] = {
    "cascade": {},
    "no_cascade": {"DOCTRIAGE_TRAFFIC__ESCALATE_TO": ""},
    "all_2.4": {"DOCTRIAGE_TRAFFIC__WEIGHTS": json.dumps({"2.4": 1.0})},
}
ACCEPTED = ("ACCEPTED", "ACCEPTED_AFTER_RULES")


def percentiles(ms: list[float]) -> dict[str, float]:
    if len(ms) < 2:
        return {"n": len(ms)}
    q = statistics.quantiles(ms, n=100)
    return {"p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1), "n": len(ms)}


def has_text_layer(content: bytes) -> bool:
    """Page 1 carries a usable text layer (what the sidecar reads instead of running OCR)."""
    import pypdfium2 as pdfium

    from sidecar.pipeline.ocr import MIN_TEXT_LAYER_CHARS

    if not content.startswith(b"%PDF"):
        return False
    try:
        doc = pdfium.PdfDocument(content)
        try:
            text = doc[0].get_textpage().get_text_range()
        finally:
            doc.close()
    except pdfium.PdfiumError:
        return False
    return len(text.strip()) >= MIN_TEXT_LAYER_CHARS


def run_setup(env: dict[str, str], files: list[tuple[str, Path]]) -> dict[str, Any]:
    sidecar = SidecarProcess(
        {
            "DOCTRIAGE_CACHE__ENABLED": "false",
            "DOCTRIAGE_DECISION__ACCEPTANCE_RULE_FILE": str(ROOT / "config" / "acceptance-rule.json"),
            **env,
        }
    )
    rows: list[dict[str, Any]] = []
    try:
        with Client(sidecar.address, timeout=60) as client:
            for label, path in files:
                content = path.read_bytes()
                started = time.perf_counter()
                try:
                    answer = client.classify(content, filename=path.name)
                except DocTriageError as exc:  # refused by validation: never accepted
                    rows.append({"true": label, "refused": True, "reason": type(exc).__name__})
                    continue
                ms = (time.perf_counter() - started) * 1e3
                rows.append(
                    {
                        "true": label,
                        "label": answer.label,
                        "decision": answer.decision,
                        "model": answer.model_version,
                        "escalated": any(r.startswith("ESCALATED_FROM_") for r in answer.decision_reasons),
                        "text_layer": has_text_layer(content),
                        "ms": ms,
                    }
                )
    finally:
        sidecar.kill()
    served = [r for r in rows if not r.get("refused")]
    accepted = [r for r in served if r["decision"] in ACCEPTED]
    n = len(rows)
    return {
        "documents": n,
        "refused": n - len(served),
        "accuracy": round(sum(r["label"] == r["true"] for r in served) / n, 4),
        "auto_accept_coverage": round(len(accepted) / n, 4),
        "silent_failures": sum(r["label"] != r["true"] for r in accepted),
        "silent_failure_rate": round(sum(r["label"] != r["true"] for r in accepted) / n, 4),
        "escalated_share": round(sum(r["escalated"] for r in served) / max(1, len(served)), 4),
        "answered_by": {v: sum(r["model"] == v for r in served) for v in sorted({r["model"] for r in served})},
        "latency_pdf_with_text_layer": percentiles([r["ms"] for r in served if r["text_layer"]]),
        "latency_images_and_scans": percentiles([r["ms"] for r in served if not r["text_layer"]]),
        "latency_all": percentiles([r["ms"] for r in served]),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args()
    if not REAL_DOCS.is_dir():
        print(f"{REAL_DOCS} is absent: nothing to measure", file=sys.stderr)
        return 2
    files = [(label, path) for label, path in labelled_files(REAL_DOCS)]
    results: dict[str, Any] = {name: run_setup(env, files) for name, env in SETUPS.items()}
    results["machine"] = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
