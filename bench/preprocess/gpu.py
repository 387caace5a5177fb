"""GPU vs CPU normalize (+ tiny-model inference) throughput and p95 at batch 1 and 32. Needs CUDA.

    python -m bench.preprocess.gpu [--out bench/preprocess/gpu_results.json]

Not run yet: no GPU machine was lent to the preprocessing work. Decoding stays on
the CPU either way; this measures what moves to the GPU (resize + normalize +
model call through IOBinding) against the CPU path in the same run, and records
the card's name and the parity it observed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from harness import documents as docs
from sidecar.domain import DocKind, InputSpec, Inspection, Page
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.gpu import gpu_status
from sidecar.pipeline.normalize import normalize_page, to_batch


def pages() -> list[Page]:
    out = []
    for make, kind in ((docs.jpeg, DocKind.JPEG), (docs.png, DocKind.PNG), (docs.pdf_scanned, DocKind.PDF)):
        content = make()
        out.append(decode_document(content, Inspection(kind=kind, digest="", size=len(content)), (256, 192), 10**8))
    return out


def stats(samples: list[float], batch: int) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = statistics.quantiles(ordered, n=20, method="inclusive")[18]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(p95 * 1000, 3),
        "pages_per_s": round(batch / statistics.median(ordered), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("gpu_results.json"))
    args = parser.parse_args()
    status = gpu_status()
    if not status.available:
        sys.exit(f"no GPU: {status.reason}")
    import cupy as cp
    import onnxruntime as ort

    from bench.preprocess.iobinding import IoBindingRunner
    from harness.tiny_model import write_tiny_model
    from sidecar.pipeline.gpu.cuda import CudaPreprocessor

    spec = InputSpec()
    sample = pages()
    model = write_tiny_model(Path(tempfile.mkdtemp())) / "model.onnx"
    cpu_session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    gpu_runner = None
    if "CUDAExecutionProvider" in ort.get_available_providers():
        session = ort.InferenceSession(str(model), providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
        if session.get_providers()[0] == "CUDAExecutionProvider":
            gpu_runner = IoBindingRunner(session)
    pre = CudaPreprocessor()
    report: dict[str, object] = {"device": status.device, "onnxruntime_cuda": gpu_runner is not None}
    worst = 0.0
    for batch in (1, 32):
        batch_pages = [sample[i % len(sample)] for i in range(batch)]
        cpu_t, gpu_t = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            cpu_batch = to_batch([normalize_page(p, spec) for p in batch_pages])
            cpu_logits = cpu_session.run(["logits"], {"image": cpu_batch})[0]
            cpu_t.append(time.perf_counter() - started)
            started = time.perf_counter()
            dev = pre.normalize_batch(batch_pages, spec)
            if gpu_runner is not None:
                gpu_logits = gpu_runner.run(dev, stream=pre.stream)["logits"]
            else:
                pre.synchronize()
                gpu_logits = cpu_session.run(["logits"], {"image": cp.asnumpy(dev)})[0]
            gpu_t.append(time.perf_counter() - started)
            worst = max(worst, float(np.abs(cp.asnumpy(dev) - cpu_batch).max()))
            assert (gpu_logits.argmax(1) == cpu_logits.argmax(1)).all()
        report[f"batch_{batch}"] = {"cpu": stats(cpu_t, batch), "gpu": stats(gpu_t, batch)}
        print(batch, json.dumps(report[f"batch_{batch}"]), flush=True)
    report["parity_max_abs"] = worst
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
