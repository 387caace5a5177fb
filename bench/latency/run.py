"""Latency of one Classify call end to end against the raw ONNX Runtime call, in one run.

    .venv/bin/python -m bench.latency.run [--calls 100] [--version 2.4] [--out bench/latency/results.json]

Starts a real sidecar process (`python -m sidecar serve`, shipped default model, cache off, no cascade), sends
sequential Classify calls through the Python client for a PNG, a JPEG and a PDF page,
and times `session.run` of the same model on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from doctriage import Client

from harness.documents import sample_documents
from harness.process import SidecarProcess
from sidecar.config import load_settings
from sidecar.models.runtime import OnnxModel


def percentiles(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(samples, n=100)
    return {"p50_ms": q[49] * 1e3, "p95_ms": q[94] * 1e3, "p99_ms": q[98] * 1e3, "n": len(samples)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--version", default=None, help="model version taking all traffic (default: the default)")
    parser.add_argument("--out", default=None, help="default: results.json, results-<version>.json with --version")
    args = parser.parse_args()
    settings = load_settings()
    version = args.version or settings.models.default_version
    out = args.out or str(Path(__file__).with_name("results.json" if not args.version else f"results-{version}.json"))
    model = OnnxModel(settings.models.root / settings.models.name / version)
    tensor = np.random.default_rng(0).normal(size=(1, 1, 256, 192)).astype(np.float32)
    text = model.text_features("Invoice 2024-117  Total due 1,250.00 EUR")[None] if model.text_dim else None
    for _ in range(10):
        model.run(tensor, text)
    raw = []
    for _ in range(args.calls):
        t = time.perf_counter()
        model.run(tensor, text)
        raw.append(time.perf_counter() - t)

    docs = sample_documents()
    results: dict[str, object] = {"raw_onnxruntime_batch1": percentiles(raw)}
    # Cache off, all traffic on the one version and no cascade: every call runs that model's path
    # (bench/cascade measures the cascade).
    sidecar = SidecarProcess(
        {
            "DOCTRIAGE_CACHE__ENABLED": "false",
            "DOCTRIAGE_TRAFFIC__WEIGHTS": json.dumps({model.manifest.version: 1.0}),
            "DOCTRIAGE_TRAFFIC__ESCALATE_TO": "",
        }
    )
    try:
        with Client(sidecar.address) as client:
            for kind, content in docs.items():
                for _ in range(5):
                    client.classify(content)
                samples, server_total = [], []
                for _ in range(args.calls):
                    t = time.perf_counter()
                    r = client.classify(content)
                    samples.append(time.perf_counter() - t)
                    server_total.append(r.timings["total"])
                results[f"classify_{kind}"] = percentiles(samples)
                results[f"classify_{kind}_server_side"] = percentiles(server_total)
                for stage in ("ocr", "text_embedding"):
                    if stage in r.timings:
                        results[f"classify_{kind}_{stage}_last_call_ms"] = r.timings[stage] * 1e3
    finally:
        sidecar.kill()
    results["machine"] = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "model": model.key,
        "provider": model.provider,
    }
    Path(out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
