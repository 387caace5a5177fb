"""The sidecar as operators run it: `python -m sidecar serve`, the CLI, SIGTERM."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc
from PIL import Image

from harness.grpc_errors import reason_of
from harness.process import SidecarProcess


@pytest.fixture()
def sidecar(models_root: Path) -> Iterator[SidecarProcess]:
    process = SidecarProcess({"DOCTRIAGE_MODELS__ROOT": str(models_root), "DOCTRIAGE_SERVER__GRACE_PERIOD_S": "20"})
    yield process
    process.kill()


def test_cli_prints_label_confidence_decision(
    sidecar: SidecarProcess, documents: dict[str, bytes], tmp_path: Path
) -> None:
    good, bad = tmp_path / "page.pdf", tmp_path / "notes.txt"
    good.write_bytes(documents["pdf"])
    bad.write_text("hello")
    cli = [sys.executable, "-m", "doctriage.cli", "--address", sidecar.address, "classify"]
    one = subprocess.run([*cli, str(good)], capture_output=True, text=True, timeout=60, check=False)
    assert one.returncode == 0, one.stderr
    path, label, confidence, decision = one.stdout.strip().split("\t")
    assert path == str(good) and label and 0 < float(confidence) <= 1 and decision in ("ACCEPTED", "HUMAN_REVIEW")
    both = subprocess.run([*cli, str(good), str(bad)], capture_output=True, text=True, timeout=60, check=False)
    assert both.returncode == 1
    rows = [line.split("\t") for line in both.stdout.strip().splitlines()]
    assert [r[0] for r in rows] == [str(good), str(bad)]
    assert rows[1][1:3] == ["ERROR", "UNSUPPORTED_TYPE"]


def _slow_png() -> bytes:
    # Few bytes, many pixels: uploads at once, then takes a while to decode (so it is in flight).
    buf = io.BytesIO()
    Image.new("L", (7000, 9000), 255).save(buf, "PNG")
    return buf.getvalue()


def test_sigterm_drains_in_flight_requests_and_exits_zero(sidecar: SidecarProcess) -> None:
    content = _slow_png()
    outcomes: list[str] = []
    started = threading.Barrier(9)

    def call() -> None:
        with grpc.insecure_channel(sidecar.address, options=[("grpc.max_send_message_length", 64 << 20)]) as ch:
            stub = classifier_pb2_grpc.ClassifierStub(ch)
            future = stub.Classify.future(classifier_pb2.ClassifyRequest(content=content), timeout=60)
            started.wait()
            try:
                future.result()
                outcomes.append("ok")
            except grpc.RpcError as exc:
                outcomes.append(f"{exc.code().name}:{reason_of(exc)}")

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(0.3)  # let the server receive all eight (each is a few kB)
    sidecar.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(60)
    assert sidecar.wait(60) == 0
    # Every request sent before SIGTERM was accepted and completes.
    assert outcomes == ["ok"] * 8
    events = [line.get("event") for line in sidecar.lines]
    assert "draining" in events and events[-1] == "stopped"
    assert [line["drained"] for line in sidecar.lines if line.get("event") == "stopped"] == [True]
