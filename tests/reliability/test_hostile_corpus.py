"""The generated hostile corpus (harness/hostile.py: 200+ malformed and adversarial files)
through a real sidecar process with a real clamd: every file gets its specific reason (or answer and
flag), none takes long (work per request is bounded), none crashes the process, and a second pass
over the whole corpus does not grow its memory."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from harness.clamd import ClamdProcess
from harness.grpc_errors import reason_of
from harness.hostile import ANY, Case, cases
from harness.process import SidecarProcess


@pytest.fixture(scope="module")
def sidecar(models_root: Path, clamd: ClamdProcess) -> Iterator[SidecarProcess]:
    env = {
        "DOCTRIAGE_MODELS__ROOT": str(models_root),
        "DOCTRIAGE_SCANNER__ENABLED": "true",
        "DOCTRIAGE_SCANNER__ADDRESS": clamd.address,
        "DOCTRIAGE_CACHE__ENABLED": "false",
    }
    process = SidecarProcess(env)
    yield process
    process.kill()


def send(stub: classifier_pb2_grpc.ClassifierStub, case: Case) -> tuple[str | None, list[str], float]:
    started = time.monotonic()
    try:
        response = stub.Classify(classifier_pb2.ClassifyRequest(content=case.content, filename=case.name), timeout=60)
    except grpc.RpcError as exc:
        assert exc.code() is grpc.StatusCode.INVALID_ARGUMENT, (case.name, exc.code(), exc.details())
        return reason_of(exc), [], time.monotonic() - started
    return None, list(response.flags), time.monotonic() - started


@pytest.mark.timeout(600)
def test_every_hostile_file_gets_its_reason_quickly_and_the_process_survives(sidecar: SidecarProcess) -> None:
    corpus = cases()
    assert len(corpus) >= 200
    wrong, slowest = [], ("", 0.0)
    with grpc.insecure_channel(sidecar.address) as channel:
        stub = classifier_pb2_grpc.ClassifierStub(channel)
        for case in corpus:
            got, flags, seconds = send(stub, case)
            ok = (got == case.reason and all(f in flags for f in case.flags)) or (
                case.reason == ANY and got in (None, "MALFORMED")
            )
            if not ok:
                wrong.append((case.name, case.reason, got, flags))
            slowest = max(slowest, (case.name, seconds), key=lambda x: x[1])
        assert not wrong, wrong
        assert slowest[1] < 5.0, slowest
        warm = sidecar.rss_mib()
        for case in corpus:  # again: the same work must not need more memory
            send(stub, case)
        grown = sidecar.rss_mib() - warm
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert sidecar.proc.poll() is None and health.status == health_pb2.HealthCheckResponse.SERVING
    assert grown < 0.1 * warm + 20, (warm, grown)
