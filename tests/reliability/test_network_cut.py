"""The network between a client and the sidecar fails, for real (a TCP proxy on loopback, cut): the
client sees UNAVAILABLE, the server lets go of the request, and once the network is back the retry is
answered with what the server did the first time: a document it queued for review while the answer
was lost is queued once, however often it is sent."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import grpc
from doctriage.v1 import admin_pb2, admin_pb2_grpc, classifier_pb2, classifier_pb2_grpc

from harness.documents import sample_documents
from harness.engine import running
from harness.proxy import Proxy

T = TypeVar("T")


def retried(call: Callable[[], T], attempts: int = 5) -> T:
    """What a client does with UNAVAILABLE (retryable): try again, here on a fresh connection."""
    for _ in range(attempts - 1):
        try:
            return call()
        except grpc.RpcError as exc:
            if exc.code() is not grpc.StatusCode.UNAVAILABLE:
                raise
            time.sleep(0.2)
    return call()


def test_a_cut_network_fails_the_call_and_the_retry_is_answered_once(models_root: Path) -> None:
    decision = {"accept": 1.0, "review_below": 1.0}  # every answer goes to the review queue
    with running(models_root, decision=decision, cache={"enabled": False}) as server:
        assert server.server is not None
        dataplane = server.server.dataplane
        proxy = Proxy(server.address)
        request = classifier_pb2.ClassifyRequest(content=sample_documents(seed=300)["png"], filename="p.png")
        with grpc.insecure_channel(proxy.address) as channel:
            stub = classifier_pb2_grpc.ClassifierStub(channel)
            stub.Classify(classifier_pb2.ClassifyRequest(content=sample_documents(seed=301)["png"]), timeout=30)
            # The server answers (and queues the document for review), the answer never arrives.
            proxy.hold()
            future = stub.Classify.future(request, timeout=60)
            deadline = time.monotonic() + 30
            while dataplane.desk.store.depth() < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert dataplane.desk.store.depth() == 2
            proxy.cut()
            proxy.release()
            try:
                future.result()
                first = "OK"
            except grpc.RpcError as exc:
                first = exc.code().name
            assert first == "UNAVAILABLE"
            # While the network is down, a call fails within its deadline.
            proxy.down()
            try:
                stub.Classify(request, timeout=1.0)
                down = "OK"
            except grpc.RpcError as exc:
                down = exc.code().name
            assert down in ("UNAVAILABLE", "DEADLINE_EXCEEDED")
            proxy.up()
            assert dataplane.in_flight == 0
            # The retry is answered with the item queued the first time: nothing lost, nothing twice.
            answer = retried(lambda: stub.Classify(request, timeout=60, wait_for_ready=True))
            assert answer.review_id and dataplane.desk.store.depth() == 2
            admin = admin_pb2_grpc.AdminStub(channel)
            listed = admin.ListReviews(admin_pb2.ListReviewsRequest(), timeout=30)
            assert listed.total == 2 and answer.review_id in {i.id for i in listed.items}
