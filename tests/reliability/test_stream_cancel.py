"""A client cancels a ClassifyStream in the middle: what it was answered stands, the server lets go of
everything else (nothing left in flight or queued, no leaked slot), and serves the next caller."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc

from harness.documents import sample_documents
from harness.engine import running


def test_a_stream_cancelled_midway_leaves_nothing_behind(models_root: Path) -> None:
    docs = [sample_documents(seed=200 + i)["png"] for i in range(40)]

    def requests() -> Iterator[classifier_pb2.ClassifyRequest]:
        for i, content in enumerate(docs):
            yield classifier_pb2.ClassifyRequest(content=content, filename=f"p{i}.png", client_ref=str(i))

    with running(models_root, cache={"enabled": False}) as server:
        assert server.server is not None
        dataplane, gateway = server.server.dataplane, server.server.gateway
        with grpc.insecure_channel(server.address) as channel:
            stub = classifier_pb2_grpc.ClassifierStub(channel)
            stream = stub.ClassifyStream(requests(), timeout=60)
            answered = [next(stream) for _ in range(3)]
            stream.cancel()
            assert all(a.label and not a.HasField("error") for a in answered)
            deadline = time.monotonic() + 10
            while (dataplane.in_flight or gateway.active) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert dataplane.in_flight == 0 and gateway.active == 0
            assert dataplane.admission.running == 0 and dataplane.admission.queued == 0
            after = stub.Classify(classifier_pb2.ClassifyRequest(content=docs[0], filename="again.png"), timeout=30)
            assert after.label and not after.HasField("error")
