"""grpc.health.v1 transitions: model readiness, scanner reachability (or fail-open), drain; Watch."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc
from doctriage.v1 import admin_pb2, admin_pb2_grpc, classifier_pb2, classifier_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from harness.clamd import ClamdProcess
from harness.server import ServerThread
from harness.settings import make_settings
from sidecar.observability import metrics

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
CLASSIFIER, ADMIN = "doctriage.v1.Classifier", "doctriage.v1.Admin"
NOWHERE = "tcp:127.0.0.1:9"  # discard port: nothing listens, connections are refused at once


def _health(server: ServerThread) -> dict[str, int]:
    with grpc.insecure_channel(server.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return {
            s: stub.Check(health_pb2.HealthCheckRequest(service=s), timeout=10).status for s in ("", CLASSIFIER, ADMIN)
        }


def _run(settings: object) -> ServerThread:
    return ServerThread(settings).start()  # type: ignore[arg-type]


def test_scanner_down_is_not_serving_unless_fail_open(models_root: Path) -> None:
    closed = _run(make_settings(models_root, scanner={"enabled": True, "address": NOWHERE, "fail_open": False}))
    try:
        assert _health(closed) == {"": NOT_SERVING, CLASSIFIER: NOT_SERVING, ADMIN: SERVING}
    finally:
        closed.stop()
    open_ = _run(make_settings(models_root, scanner={"enabled": True, "address": NOWHERE, "fail_open": True}))
    try:
        assert _health(open_) == {"": SERVING, CLASSIFIER: SERVING, ADMIN: SERVING}
        with grpc.insecure_channel(open_.address) as channel:
            status = admin_pb2_grpc.AdminStub(channel).GetStatus(admin_pb2.GetStatusRequest(), timeout=10)
        assert status.scanner_available is False
    finally:
        open_.stop()


def test_a_reachable_scanner_serves_and_its_latency_is_measured(
    models_root: Path, documents: dict[str, bytes], clamd: ClamdProcess
) -> None:
    scanner = {"enabled": True, "address": clamd.address, "fail_open": False}
    running = _run(make_settings(models_root, scanner=scanner))
    scans = metrics.REGISTRY.get_sample_value("doctriage_scanner_duration_seconds_count") or 0.0
    try:
        assert _health(running)[CLASSIFIER] == SERVING
        with grpc.insecure_channel(running.address) as channel:
            stub = classifier_pb2_grpc.ClassifierStub(channel)
            stub.Classify(classifier_pb2.ClassifyRequest(content=documents["png"]), timeout=30)
        assert (metrics.REGISTRY.get_sample_value("doctriage_scanner_duration_seconds_count") or 0.0) > scans
        with grpc.insecure_channel(running.address) as channel:
            status = admin_pb2_grpc.AdminStub(channel).GetStatus(admin_pb2.GetStatusRequest(), timeout=10)
        assert status.scanner_available
    finally:
        running.stop()


def test_no_ready_model_is_not_serving(tmp_path: Path) -> None:
    running = _run(make_settings(tmp_path, scanner={"enabled": False}))
    try:
        assert _health(running)[CLASSIFIER] == NOT_SERVING
    finally:
        running.stop()


def test_drain_turns_a_watch_stream_not_serving(models_root: Path) -> None:
    running = _run(make_settings(models_root, scanner={"enabled": False}))
    seen: queue.Queue[int] = queue.Queue()
    channel = grpc.insecure_channel(running.address)
    stub = health_pb2_grpc.HealthStub(channel)
    watch = stub.Watch(health_pb2.HealthCheckRequest(service=CLASSIFIER), timeout=30)

    def follow() -> None:
        try:
            for update in watch:
                seen.put(update.status)
        except grpc.RpcError:
            pass

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        assert seen.get(timeout=10) == SERVING
        stopper = threading.Thread(target=running.stop)
        started = time.monotonic()
        stopper.start()
        assert seen.get(timeout=10) == NOT_SERVING
        stopper.join(30)
        # An open Watch does not hold the drain for the whole grace period (5 s here).
        assert time.monotonic() - started < 3.0
    finally:
        watch.cancel()
        channel.close()


def _wait_for(server: ServerThread, service: str, status: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while _health(server)[service] != status:
        assert time.monotonic() < deadline, f"{service} never became {status}"
        time.sleep(0.2)


def test_scanner_outage_turns_not_serving_and_back(
    models_root: Path, clamd_factory: Callable[..., ClamdProcess]
) -> None:
    daemon = clamd_factory()  # its own daemon: the shared one stays up for the other tests
    running = _run(make_settings(models_root, scanner={"enabled": True, "address": daemon.address}))
    try:
        _wait_for(running, CLASSIFIER, SERVING)
        daemon.freeze()  # hangs: PING times out
        _wait_for(running, CLASSIFIER, NOT_SERVING)
        assert _health(running)[ADMIN] == SERVING
        daemon.thaw()
        _wait_for(running, CLASSIFIER, SERVING)
    finally:
        daemon.thaw()
        running.stop()
