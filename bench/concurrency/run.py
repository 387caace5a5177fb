"""Throughput and latency of the real server against the number of requests in flight.

Chooses `server.max_concurrent_requests`: the smallest admission limit at which
throughput has saturated; beyond it only the queue (and p95) grows, so the sidecar
sheds the excess with RESOURCE_EXHAUSTED instead.

    python -m bench.concurrency.run            # writes bench/concurrency/results.md
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

import grpc
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc

from harness.documents import sample_documents
from harness.server import ServerThread
from harness.tiny_model import write_tiny_model
from sidecar.config import ModelSettings, Settings

SECONDS = 6.0
LEVELS = (1, 2, 4, 8, 16, 32)


def run_level(address: str, docs: list[bytes], clients: int) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    end = time.monotonic() + SECONDS

    def client(index: int) -> None:
        nonlocal errors
        with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            stub = classifier_pb2_grpc.ClassifierStub(channel)
            n = index
            while time.monotonic() < end:
                # A unique tail (accepted, flagged TRAILING_DATA) so that no answer comes from the cache.
                content = docs[n % len(docs)] + b"\n%" + f"{index}-{n}".encode()
                started = time.perf_counter()
                try:
                    stub.Classify(classifier_pb2.ClassifyRequest(content=content), timeout=30)
                    with lock:
                        latencies.append(time.perf_counter() - started)
                except grpc.RpcError:
                    with lock:
                        errors += 1
                n += clients

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    q = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, q[49], q[94], errors


def main() -> None:
    root = Path(tempfile.mkdtemp())
    write_tiny_model(root, "doc-classifier", "2.3", seed=1)
    docs = []
    for seed in range(6):
        docs.extend(sample_documents(seed).values())
    settings = Settings(
        server={"address": "127.0.0.1:0", "max_concurrent_requests": 1000},  # no shedding while measuring
        models=ModelSettings(root=root),
        auth={"enabled": False},
        rate_limit={"enabled": False},
        metrics={"port": 0},
        scanner={"enabled": False},
        ocr={"enabled": False},
    )
    server = ServerThread(settings).start()
    try:
        run_level(server.address, docs, 4)  # warm up
        rows = []
        for level in LEVELS:
            rps, p50, p95, errors = run_level(server.address, docs, level)
            rows.append((level, rps, p50, p95, errors))
            ms = f"p50 {p50 * 1e3:.1f} ms  p95 {p95 * 1e3:.1f} ms"
            print(f"{level:>3} in flight: {rps:7.1f} docs/s  {ms}  errors {errors}")
    finally:
        server.stop()
    out = ["| in flight | docs/s | p50 ms | p95 ms | errors |", "|---:|---:|---:|---:|---:|"]
    out += [f"| {lv} | {r:.1f} | {a * 1000:.1f} | {b * 1000:.1f} | {e} |" for lv, r, a, b, e in rows]
    (Path(__file__).parent / "results.md").write_text(
        "# Concurrency: throughput and latency against requests in flight\n\n"
        "`python -m bench.concurrency.run` on the 2-core development machine: the real server "
        "(gateway, data plane, tiny model, scanner and OCR off), PNG/JPEG/PDF text pages, "
        f"closed-loop clients for {SECONDS:.0f} s per level.\n\n" + "\n".join(out) + "\n"
    )


if __name__ == "__main__":
    main()
