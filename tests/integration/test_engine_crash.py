"""Crash safety of the review queue: SIGKILL a real `python -m sidecar serve` mid-write, lose nothing."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import grpc
from doctriage.v1 import admin_pb2, admin_pb2_grpc, classifier_pb2_grpc

from harness.documents import sample_documents
from harness.engine import model_tree, request
from harness.process import SidecarProcess


def drain(process: SidecarProcess) -> None:
    """Keep reading the server's log so that a full pipe never blocks it."""
    stream: IO[str] = process.proc.stderr  # type: ignore[assignment]

    def run() -> None:
        for _ in stream:
            pass

    threading.Thread(target=run, daemon=True).start()


def test_sigkill_mid_write_loses_no_acknowledged_review_item(tmp_path: Path) -> None:
    root = model_tree(tmp_path / "models", v24=False, lite=False)
    state = tmp_path / "state"
    env = {
        "DOCTRIAGE_MODELS__ROOT": str(root),
        "DOCTRIAGE_STATE__DIR": str(state),
        "DOCTRIAGE_REVIEW__PATH": str(state / "review.sqlite3"),
        "DOCTRIAGE_OCR__ENABLED": "false",
        "DOCTRIAGE_RATE_LIMIT__ENABLED": "false",
        "DOCTRIAGE_SCANNER__ENABLED": "false",
        "DOCTRIAGE_TRAFFIC__WEIGHTS": '{"2.3": 1.0}',
        # Nothing is ever accepted: every document is written to the review queue.
        "DOCTRIAGE_DECISION__ACCEPT": "1.0",
        "DOCTRIAGE_DECISION__REVIEW_BELOW": "1.0",
    }
    docs = [sample_documents(seed=1000 + i)["png"] for i in range(80)]
    process = SidecarProcess(env)
    drain(process)
    acknowledged: dict[str, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def client(chunk: list[bytes]) -> None:
        with grpc.insecure_channel(process.address) as channel:
            stub = classifier_pb2_grpc.ClassifierStub(channel)
            for content in chunk:
                if stop.is_set():
                    return
                try:
                    response = stub.Classify(request(content, "png"), timeout=30)
                except grpc.RpcError:
                    return  # the server died under us: that request was never acknowledged
                assert response.review_id
                with lock:
                    acknowledged[response.review_id] = response.digest

    try:
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(client, docs[i::4]) for i in range(4)]
            deadline = time.monotonic() + 60
            while len(acknowledged) < 25 and time.monotonic() < deadline:
                time.sleep(0.005)
            process.proc.kill()  # SIGKILL while the other clients' writes are in flight
            stop.set()
            for f in futures:
                f.result()
    finally:
        process.kill()
    assert len(acknowledged) >= 25

    db = sqlite3.connect(state / "review.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = dict(db.execute("SELECT id, digest FROM reviews").fetchall())
    db.close()
    for review_id, digest in acknowledged.items():
        assert rows.get(review_id) == digest, review_id
    stored = {hashlib.sha256(d).hexdigest() for d in docs}
    assert set(rows.values()) <= stored

    # A restarted sidecar serves the same queue.
    again = SidecarProcess(env)
    drain(again)
    try:
        with grpc.insecure_channel(again.address) as channel:
            admin = admin_pb2_grpc.AdminStub(channel)
            listed = admin.ListReviews(admin_pb2.ListReviewsRequest(page_size=500))
            assert {i.id for i in listed.items} >= set(acknowledged)
            item = admin.ClaimReview(admin_pb2.ClaimReviewRequest(reviewer="ann"))
            assert hashlib.sha256(item.content).hexdigest() == item.digest
    finally:
        again.kill()
