"""Dynamic batching on and off: throughput and latency at 1, 8 and 32 concurrent clients.

    .venv/bin/python -m bench.batching.run [--seconds 4] [--rounds 3] [--out bench/batching/results.json]

For each batcher configuration it starts a real sidecar process (`python -m sidecar serve`),
then drives each with 1, 8 and 32 concurrent Classify callers (grpc.aio, one channel) for
`--seconds` each after a 1 s warm-up, configurations in rotation for `--rounds` rounds
(medians reported, every run kept), cycling through 48 distinct documents (PNG, JPEG, PDF
pages) with the cache off, so every request decodes and runs the model. Thresholds are set
so nothing is written to the review queue: the numbers are the pipeline and the batcher.
The mean batch size comes from the server's own `doctriage_batch_size` histogram.

Model: models/doc-classifier/2.3 when it exists, else a stand-in CNN built here with the
serving contract (3 strided convolutions + linear, ~1-2 ms per page on one core).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import onnx
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc
from onnx import TensorProto, helper, numpy_helper

from harness.documents import sample_documents
from harness.process import SidecarProcess
from harness.tiny_model import LABELS

ROOT = Path(__file__).resolve().parents[2]

CONFIGS: dict[str, dict[str, str]] = {
    "off": {"DOCTRIAGE_BATCHING__ENABLED": "false"},
    # max_delay 0: never wait for companions, batch whatever queued while the previous batch ran.
    "on_b8_d0": {"DOCTRIAGE_BATCHING__MAX_BATCH_SIZE": "8", "DOCTRIAGE_BATCHING__MAX_DELAY_S": "0"},
    "on_b8_d2ms": {"DOCTRIAGE_BATCHING__MAX_BATCH_SIZE": "8", "DOCTRIAGE_BATCHING__MAX_DELAY_S": "0.002"},
    "on_b32_d10ms": {"DOCTRIAGE_BATCHING__MAX_BATCH_SIZE": "32", "DOCTRIAGE_BATCHING__MAX_DELAY_S": "0.010"},
}
CONCURRENCY = (1, 8, 32)
MIME = {"png": "image/png", "jpeg": "image/jpeg", "pdf": "application/pdf"}


def standin_model(root: Path) -> Path:
    """A small CNN with the serving contract (image [N,1,256,192] → logits, embedding)."""
    rng = np.random.default_rng(0)
    target = root / "doc-classifier" / "2.3"
    target.mkdir(parents=True, exist_ok=True)
    inits, nodes, channels, x = [], [], 1, "image"
    for i, out in enumerate((16, 32, 64)):
        w = rng.normal(0, (2 / (9 * channels)) ** 0.5, (out, channels, 3, 3)).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(np.zeros(out, np.float32), f"b{i}")]
        nodes += [
            helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], strides=[2, 2], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", [f"c{i}"], [f"r{i}"]),
        ]
        x, channels = f"r{i}", out
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["embedding"]))
    inits += [
        numpy_helper.from_array(rng.normal(0, 0.1, (64, len(LABELS))).astype(np.float32), "wf"),
        numpy_helper.from_array(np.zeros(len(LABELS), np.float32), "bf"),
    ]
    nodes.append(helper.make_node("Gemm", ["embedding", "wf", "bf"], ["logits"]))
    graph = helper.make_graph(
        nodes,
        "standin",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 256, 192])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", len(LABELS)]),
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 64]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, target / "model.onnx")
    manifest = {
        "name": "doc-classifier",
        "version": "2.3",
        "labels": LABELS,
        "inputs": {"image": {"height": 256, "width": 192, "mean": 0.5, "std": 0.5, "preprocessing_version": "1"}},
        "calibration": {"method": "temperature", "temperature": 1.0},
    }
    (target / "manifest.json").write_text(json.dumps(manifest))
    return root


def documents() -> list[tuple[bytes, str]]:
    return [(content, MIME[kind]) for seed in range(16) for kind, content in sample_documents(seed).items()]


def scrape_batches(port: int) -> tuple[float, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    total = count = 0.0
    for line in text.splitlines():
        if line.startswith("doctriage_batch_size_sum"):
            total += float(line.split()[-1])
        elif line.startswith("doctriage_batch_size_count"):
            count += float(line.split()[-1])
    return total, count


async def drive(address: str, docs: list[tuple[bytes, str]], clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    async with grpc.aio.insecure_channel(address) as channel:
        stub = classifier_pb2_grpc.ClassifierStub(channel)
        stop_at = 0.0
        measuring = False

        async def worker(offset: int) -> None:
            i = offset
            while time.perf_counter() < stop_at:
                content, mime = docs[i % len(docs)]
                i += clients
                started = time.perf_counter()
                try:
                    await stub.Classify(classifier_pb2.ClassifyRequest(content=content, mime_type=mime), timeout=30)
                except grpc.aio.AioRpcError as exc:
                    if measuring:
                        errors[exc.code().name] = errors.get(exc.code().name, 0) + 1
                    continue
                if measuring:
                    latencies.append(time.perf_counter() - started)

        stop_at = time.perf_counter() + 1.0  # warm-up
        await asyncio.gather(*(worker(k) for k in range(clients)))
        measuring = True
        began = time.perf_counter()
        stop_at = began + seconds
        await asyncio.gather(*(worker(k) for k in range(clients)))
        elapsed = time.perf_counter() - began
    q = statistics.quantiles(latencies, n=100)
    return {
        "clients": clients,
        "requests": len(latencies),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[49] * 1e3, 2),
        "p95_ms": round(q[94] * 1e3, 2),
        "p99_ms": round(q[98] * 1e3, 2),
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.json")))
    args = parser.parse_args()
    shipped = ROOT / "models" / "doc-classifier" / "2.3"
    models_root = ROOT / "models" if shipped.is_dir() else standin_model(Path(tempfile.mkdtemp()))
    docs = documents()
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "model": "models/doc-classifier/2.3" if shipped.is_dir() else "stand-in CNN (bench/batching/run.py)",
        "seconds_per_point": args.seconds,
        "documents": "48 distinct pages: PNG, JPEG, PDF (620x877), cache off",
        "configs": {},
    }
    base_env = {
        "DOCTRIAGE_MODELS__ROOT": str(models_root),
        "DOCTRIAGE_TRAFFIC__WEIGHTS": '{"2.3": 1.0}',
        "DOCTRIAGE_TRAFFIC__FALLBACK_NAME": "",
        "DOCTRIAGE_CACHE__ENABLED": "false",
        "DOCTRIAGE_OCR__ENABLED": "false",
        "DOCTRIAGE_SCANNER__ENABLED": "false",
        "DOCTRIAGE_RATE_LIMIT__ENABLED": "false",
        # Admit all 32 callers: this measures the batcher, not admission control (which sheds
        # beyond 4 per core by default, see bench/concurrency).
        "DOCTRIAGE_SERVER__MAX_CONCURRENT_REQUESTS": "64",
        "DOCTRIAGE_DECISION__ACCEPT": "0.0",
        "DOCTRIAGE_DECISION__REVIEW_BELOW": "0.0",
    }
    # All servers up at once (idle ones cost nothing); points run in rotation, several rounds,
    # so that noise from whatever else the machine runs falls on every configuration alike.
    servers: dict[str, tuple[SidecarProcess, int]] = {}
    try:
        for name, env in CONFIGS.items():
            sidecar = SidecarProcess({**base_env, **env})
            stream = sidecar.proc.stderr
            # Keep reading its log: a full pipe would block the server.
            threading.Thread(target=lambda s=stream: [None for _ in s], daemon=True).start()
            serving = next(r for r in sidecar.lines if r.get("event") == "serving")
            servers[name] = (sidecar, int(serving.get("metrics_port") or 0))  # type: ignore[call-overload]
        raw: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for _round in range(args.rounds):
            for clients in CONCURRENCY:
                for name, (sidecar, metrics_port) in servers.items():
                    before = scrape_batches(metrics_port) if metrics_port else (0.0, 0.0)
                    point = asyncio.run(drive(sidecar.address, docs, clients, args.seconds))
                    after = scrape_batches(metrics_port) if metrics_port else (0.0, 0.0)
                    batches = after[1] - before[1]
                    point["mean_batch_size"] = round((after[0] - before[0]) / batches, 2) if batches else None
                    point["load_average_1m"] = round(os.getloadavg()[0], 2)
                    raw.setdefault((name, clients), []).append(point)
                    print(name, point, flush=True)
    finally:
        for sidecar, _ in servers.values():
            sidecar.kill()
    for name, env in CONFIGS.items():
        points = []
        for clients in CONCURRENCY:
            runs = raw[(name, clients)]
            points.append(
                {
                    "clients": clients,
                    "throughput_rps": round(statistics.median(r["throughput_rps"] for r in runs), 1),
                    "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 1),
                    "p95_ms": round(statistics.median(r["p95_ms"] for r in runs), 1),
                    "mean_batch_size": statistics.median(r["mean_batch_size"] or 0 for r in runs),
                    "runs": runs,
                }
            )
        results["configs"][name] = {"env": env, "points": points}
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
