"""Hostile requests, not hostile documents: oversized request metadata is refused with a reason and
the server goes on; model names that try to leave the model root find nothing. (Keys never in logs,
roles, TLS and mTLS: tests/integration/test_gateway_auth.py.)"""

from __future__ import annotations

import grpc
import pytest
from doctriage.v1 import admin_pb2, admin_pb2_grpc, classifier_pb2, classifier_pb2_grpc

from harness.grpc_errors import reason_of


@pytest.mark.parametrize(
    "metadata",
    [
        {f"k{i}": "v" for i in range(65)},  # more entries than allowed
        {"note": "x" * 20_000},  # more bytes than allowed
    ],
    ids=["entries", "bytes"],
)
def test_oversized_metadata_is_refused_and_the_server_goes_on(
    channel: grpc.Channel, documents: dict[str, bytes], metadata: dict[str, str]
) -> None:
    stub = classifier_pb2_grpc.ClassifierStub(channel)
    request = classifier_pb2.ClassifyRequest(content=documents["png"], filename="a.png", metadata=metadata)
    with pytest.raises(grpc.RpcError) as refused:
        stub.Classify(request, timeout=30)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(refused.value) == "INVALID_REQUEST" and "limit" in refused.value.details()
    fine = classifier_pb2.ClassifyRequest(content=documents["png"], filename="a.png", metadata={"channel": "web"})
    assert stub.Classify(fine, timeout=30).label


@pytest.mark.parametrize(
    ("name", "version"),
    [("../../etc", "passwd"), ("doc-classifier", "../../../tmp"), ("doc-classifier/../..", "2.3"), ("/etc", "2.3")],
)
def test_model_names_cannot_leave_the_model_root(channel: grpc.Channel, name: str, version: str) -> None:
    admin = admin_pb2_grpc.AdminStub(channel)
    with pytest.raises(grpc.RpcError) as refused:
        admin.LoadModel(admin_pb2.LoadModelRequest(name=name, version=version), timeout=30)
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND, refused.value.details()
    listed = {(m.name, m.version) for m in admin.ListModels(admin_pb2.ListModelsRequest(), timeout=30).models}
    assert (name, version) not in listed
