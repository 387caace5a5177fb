"""Request ids: the caller's when valid, else a UUIDv7; in the response, the trailers and every log line."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import structlog
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc

from harness.server import ServerThread
from harness.settings import make_settings


@pytest.fixture(scope="module")
def server(models_root: Path) -> Iterator[ServerThread]:
    """Its own server: the shared one's cache must not see these documents first."""
    running = ServerThread(make_settings(models_root)).start()
    yield running
    running.stop()


def _trailing_id(call: grpc.Call) -> str:
    return dict(call.trailing_metadata() or ())["x-request-id"]


def test_a_valid_caller_id_is_kept_and_bound_into_the_log_lines(
    server: ServerThread, documents: dict[str, bytes]
) -> None:
    with grpc.insecure_channel(server.address) as channel:
        stub = classifier_pb2_grpc.ClassifierStub(channel)
        with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            response, call = stub.Classify.with_call(
                classifier_pb2.ClassifyRequest(content=documents["png"]),
                metadata=(("x-request-id", "order-42.attempt-1"),),
                timeout=30,
            )
    assert response.request_id == "order-42.attempt-1" == _trailing_id(call)
    canonical = [line for line in logs if line["event"] == "classify"]
    assert canonical and all(line["request_id"] == "order-42.attempt-1" for line in canonical)


def test_missing_or_invalid_ids_are_replaced_by_sortable_uuid7(
    server: ServerThread, documents: dict[str, bytes]
) -> None:
    ids = []
    with grpc.insecure_channel(server.address) as channel:
        stub = classifier_pb2_grpc.ClassifierStub(channel)
        for metadata in ((), (("x-request-id", "has spaces; and /slashes"),), (("x-request-id", "x" * 500),), ()):
            response, call = stub.Classify.with_call(
                classifier_pb2.ClassifyRequest(content=documents["jpeg"]), metadata=metadata, timeout=30
            )
            assert response.request_id == _trailing_id(call)
            ids.append(response.request_id)
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_stream_items_carry_the_stream_id_with_their_index(server: ServerThread, documents: dict[str, bytes]) -> None:
    requests = [classifier_pb2.ClassifyRequest(content=documents["png"], client_ref=str(i)) for i in range(3)]
    with grpc.insecure_channel(server.address) as channel:
        stub = classifier_pb2_grpc.ClassifierStub(channel)
        call = stub.ClassifyStream(iter(requests), metadata=(("x-request-id", "batch-7"),), timeout=60)
        responses = list(call)
        assert _trailing_id(call) == "batch-7"
    assert sorted(r.request_id for r in responses) == ["batch-7.0", "batch-7.1", "batch-7.2"]


def test_refused_calls_carry_the_request_id_in_their_trailers(server: ServerThread) -> None:
    with grpc.insecure_channel(server.address) as channel:
        stub = classifier_pb2_grpc.ClassifierStub(channel)
        try:
            stub.Classify(
                classifier_pb2.ClassifyRequest(content=b"not a document"),
                metadata=(("x-request-id", "refused-1"),),
                timeout=30,
            )
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert dict(exc.trailing_metadata() or ())["x-request-id"] == "refused-1"  # type: ignore[attr-defined]
        else:
            raise AssertionError("a text file was accepted")
