"""SIGTERM under load: every request the server accepted is answered; the rest are refused cleanly; exit 0."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from pathlib import Path

import grpc
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc

from harness.process import SidecarProcess

CLIENTS = 12


def test_sigterm_under_load_loses_no_accepted_request(models_root: Path, documents: dict[str, bytes]) -> None:
    process = SidecarProcess(
        {
            "DOCTRIAGE_MODELS__ROOT": str(models_root),
            "DOCTRIAGE_SERVER__GRACE_PERIOD_S": "20",
            "DOCTRIAGE_SCANNER__ENABLED": "false",
            "DOCTRIAGE_OCR__ENABLED": "false",  # keeps the test short; shutdown does not depend on it
        }
    )
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    stop = threading.Event()
    requests = [classifier_pb2.ClassifyRequest(content=documents[kind]) for kind in ("png", "jpeg", "pdf")]

    def client(index: int) -> None:
        with grpc.insecure_channel(process.address) as channel:
            stub = classifier_pb2_grpc.ClassifierStub(channel)
            n = 0
            while not stop.is_set():
                try:
                    stub.Classify(requests[(index + n) % 3], timeout=30)
                    outcome = "OK"
                except grpc.RpcError as exc:
                    outcome = exc.code().name
                n += 1
                with lock:
                    outcomes[outcome] += 1
                if outcome == "UNAVAILABLE":  # the server has stopped accepting: this client is done
                    return
                if outcome == "RESOURCE_EXHAUSTED":  # shed at admission (more clients than the limit)
                    time.sleep(0.02)

    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while outcomes["OK"] < 2 * CLIENTS and time.monotonic() < deadline:
            time.sleep(0.05)  # under load: answers flowing, requests in flight
        with lock:
            before = outcomes["OK"]
        process.proc.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        stop.set()
        for t in threads:
            t.join(60)
    finally:
        stop.set()
        process.kill()

    answered_by_server = [
        line for line in process.lines if line.get("event") == "classify" and line.get("outcome") == "ok"
    ]
    print(f"before SIGTERM: {before} answers; outcomes: {dict(outcomes)}; server answered {len(answered_by_server)}")
    assert before > 0 and outcomes["OK"] >= before
    # Nothing accepted was cancelled or failed: accepted → OK; not accepted → UNAVAILABLE (or shed at admission).
    assert set(outcomes) <= {"OK", "UNAVAILABLE", "RESOURCE_EXHAUSTED"}, outcomes
    # Every answer the server produced reached its client, and no client got an answer the server did not log.
    assert len(answered_by_server) == outcomes["OK"]
    events = [line.get("event") for line in process.lines]
    assert events.index("draining") < events.index("stopped")
    assert [line["drained"] for line in process.lines if line.get("event") == "stopped"] == [True]
