"""Review-queue writes on the request path: one transaction per item in the CPU executor (the data
plane before group commit) against the review desk's group commit (sidecar/dataplane/review.py).

Each of N concurrent writers sends distinct documents (≈100 KB each, so every item is a real insert
with its fsync: WAL, synchronous=FULL) for a fixed time, on the real disk under var/ (not tmpfs).
Per configuration: items written per second, the latency a caller waits for its review id (p50, p95),
the mean items per transaction, and the seconds a CPU worker was held per item (the old path holds one
of the `server.workers` threads through every fsync; the desk writes on its own thread).

    .venv/bin/python -m bench.review.run        # ~1 minute; writes bench/review/results.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness.documents import make_png, png_chunk
from harness.paths import ROOT
from sidecar.config import ReviewSettings, Settings
from sidecar.dataplane.request import Request
from sidecar.dataplane.review import ReviewDesk
from sidecar.domain import Decision, DecisionKind, Document, Prediction
from sidecar.observability.metrics import REGISTRY
from sidecar.pipeline.analysis import Stages
from sidecar.pipeline.rules import RuleBook

HERE = Path(__file__).parent
PREDICTION = Prediction("invoice", 0.7, {"invoice": 0.7, "receipt": 0.3}, "doc-classifier", "2.3")
DECISION = Decision(DecisionKind.HUMAN_REVIEW, ("LOW_CONFIDENCE",))
PADDING = os.urandom(100_000)


class Documents:
    """Distinct validated documents on demand (a PNG with a unique pixel row, padded to ~100 KB)."""

    made = 0  # across runs: every document of the bench is new to every database

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self.stages = Stages(Settings(data_dir=ROOT), RuleBook({}), ocr=False)
        self.executor = executor

    def make(self, count: int) -> list[Request]:
        """`count` validated requests, made before the clock starts (validation is not what is measured)."""
        made = []
        for _ in range(count):
            Documents.made += 1
            n = Documents.made
            # A private ancillary chunk carries the padding: ~100 KB, as a scanned page would weigh.
            png = make_png(64, 64, pixels=bytes([n % 251, (n // 251) % 251, n // 63001]) * 4096)
            png = png[:-12] + png_chunk(b"prVt", PADDING) + png[-12:]
            analysis = self.stages.analyse(Document(png, f"{n}.png"))
            analysis.validate()
            made.append(Request(analysis, self.executor))
        return made


def old_path(desk: ReviewDesk, executor: ThreadPoolExecutor) -> Any:
    """The data plane before group commit (a8aeae7): the reviewer's label, one enqueue transaction and the
    queue-depth recount, in the CPU executor (Request.run), per request."""

    async def to_review(req: Request) -> tuple[str, float]:
        held = 0.0

        def queue() -> str:
            nonlocal held
            started = time.perf_counter()
            try:
                desk.store.resolution(req.inspection.digest)
                review_id, created = desk.store.enqueue(
                    digest=req.inspection.digest, content=req.doc.content, content_type="png",
                    predicted_label=PREDICTION.label, confidence=PREDICTION.confidence, scores=PREDICTION.scores,
                    model_name=PREDICTION.model_name, model_version=PREDICTION.model_version, source="MODEL",
                    reason="LOW_CONFIDENCE",
                )  # fmt: skip
                if created:  # the gauge, recounted on every new item with the query of the time
                    with desk.store._lock:
                        desk.store._db.execute("SELECT count(*) FROM reviews WHERE status != 'RESOLVED'").fetchone()
                return review_id
            finally:
                held = time.perf_counter() - started

        review_id = await req.run("review", queue)
        return review_id, held

    return to_review


def new_path(desk: ReviewDesk) -> Any:
    async def to_review(req: Request) -> tuple[str, float]:
        _, decision = await desk.to_review(req, PREDICTION, DECISION)
        return decision.review_id, 0.0  # written on the desk's own thread

    return to_review


def _batches() -> tuple[float, float]:
    name = "doctriage_review_write_batch_size"
    return REGISTRY.get_sample_value(f"{name}_count") or 0.0, REGISTRY.get_sample_value(f"{name}_sum") or 0.0


async def measure(path_name: str, writers: int, seconds: float, workdir: Path) -> dict[str, Any]:
    executor = ThreadPoolExecutor(2, thread_name_prefix="cpu")
    db = Path(tempfile.mkdtemp(dir=workdir)) / "review.sqlite3"  # a fresh database per run
    desk = ReviewDesk(ReviewSettings(path=db), executor, None, 0.0)
    # More than any configuration writes in `seconds` here (~1 000 items/s at most).
    pending = Documents(executor).make(int(1500 * seconds))
    call = old_path(desk, executor) if path_name == "per_item" else new_path(desk)
    latencies: list[float] = []
    held: list[float] = []
    batches_before = _batches()
    until = time.monotonic() + seconds

    async def writer() -> None:
        while time.monotonic() < until and pending:
            req = pending.pop()
            started = time.perf_counter()
            review_id, worker_s = await call(req)
            assert review_id
            latencies.append(time.perf_counter() - started)
            held.append(worker_s)

    started = time.monotonic()
    await asyncio.gather(*(writer() for _ in range(writers)))
    elapsed = time.monotonic() - started
    desk.close()
    executor.shutdown()
    count, total = (a - b for a, b in zip(_batches(), batches_before, strict=True))
    latencies.sort()
    return {
        "path": path_name,
        "writers": writers,
        "items": len(latencies),
        "items_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1e3 * latencies[len(latencies) // 2], 2),
        "p95_ms": round(1e3 * latencies[int(0.95 * len(latencies))], 2),
        "items_per_transaction": round(total / count, 2) if count else 1.0,
        "cpu_worker_ms_per_item": round(1e3 * statistics.fmean(held), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--writers", default="1,8,32")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-review-", dir=ROOT / "var"))  # the real disk, not tmpfs
    runs = []
    try:
        for _ in range(args.rounds):
            for writers in map(int, args.writers.split(",")):
                for path_name in ("per_item", "group_commit"):  # interleaved: the machine is shared
                    row = asyncio.run(measure(path_name, writers, args.seconds, workdir))
                    print(json.dumps(row), flush=True)
                    runs.append(row)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    args.out.write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "cores": os.cpu_count(),
                "load_average_at_end": os.getloadavg(),
                "seconds_per_run": args.seconds,
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
