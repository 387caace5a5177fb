"""NVIDIA Triton Inference Server through PyTriton, doing the work of bench/compare/work.py. Runs in
its own virtualenv (nvidia-pytriton pins numpy < 2; bench/compare/triton.py makes it) with the
repository on PYTHONPATH:

    var/pytriton-venv/bin/python -m bench.compare.triton_server --port-file F

One model, `doctriage`: input `document` (BYTES, one per request), outputs `label` (BYTES) and
`confidence` (FP32). Triton's dynamic batcher (max batch 8, no queue delay) hands batches to two
instances of the Python function (one per core), each decoding and normalizing its documents and
running the model once on the stacked batch. Triton's HTTP port is written to --port-file once the
model is ready."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

MODEL = "doctriage"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    from pytriton.decorators import batch
    from pytriton.model_config import DynamicBatcher, ModelConfig, Tensor
    from pytriton.triton import Triton, TritonConfig

    from bench.compare.work import Work
    from sidecar.errors import DocTriageError

    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--instances", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    work = Work()

    def make_infer() -> Any:
        @batch  # type: ignore[misc]
        def infer(document: np.ndarray) -> dict[str, np.ndarray]:
            contents = [bytes(row[0]) for row in document]
            try:
                predictions = work.classify_batch(contents)
                labels = [p.label for p in predictions]
                confidence = [p.confidence for p in predictions]
            except DocTriageError:  # one refused document: answer each on its own
                labels, confidence = [], []
                for content in contents:
                    try:
                        p = work.classify(content)
                        labels.append(p.label)
                        confidence.append(p.confidence)
                    except DocTriageError:
                        labels.append("REFUSED")
                        confidence.append(-1.0)
            return {
                "label": np.array([[label.encode()] for label in labels], dtype=np.object_),
                "confidence": np.array([[c] for c in confidence], dtype=np.float32),
            }

        return infer

    http_port = free_port()
    config = TritonConfig(http_port=http_port, grpc_port=free_port(), metrics_port=free_port())
    with Triton(config=config) as triton:
        triton.bind(
            model_name=MODEL,
            infer_func=[make_infer() for _ in range(args.instances)],
            inputs=[Tensor(name="document", dtype=bytes, shape=(1,))],
            outputs=[
                Tensor(name="label", dtype=bytes, shape=(1,)),
                Tensor(name="confidence", dtype=np.float32, shape=(1,)),
            ],
            config=ModelConfig(max_batch_size=8, batcher=DynamicBatcher(max_queue_delay_microseconds=0)),
            strict=False,
        )
        triton.run()  # starts Triton and loads the model, without blocking
        tmp = args.port_file.with_suffix(".tmp")
        tmp.write_text(str(http_port))
        tmp.replace(args.port_file)
        # SIGTERM (bench/compare/procs.py) leaves the `with`, which stops Triton.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while triton.is_alive():
            time.sleep(1.0)


if __name__ == "__main__":
    main()
