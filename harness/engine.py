"""Helpers of the inference-engine integration tests: model trees, servers, stubs, metrics."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from doctriage.v1 import admin_pb2, admin_pb2_grpc, classifier_pb2, classifier_pb2_grpc

from harness.server import ServerThread
from harness.settings import make_settings
from harness.tiny_model import write_tiny_model
from sidecar.observability.metrics import REGISTRY

MIME = {"png": "image/png", "jpeg": "image/jpeg", "pdf": "application/pdf"}


def model_tree(root: Path, *, lite: bool = True, v24: bool = True, **v23: Any) -> Path:
    """doc-classifier 2.3 (kwargs: write_tiny_model options), 2.4 (text input) and the lite fallback."""
    write_tiny_model(root, "doc-classifier", "2.3", seed=1, **v23)
    if v24:
        write_tiny_model(root, "doc-classifier", "2.4", seed=2, text_dim=64)
    if lite:
        write_tiny_model(root, "doc-classifier-lite", "1.0", seed=5)
    return root


@contextmanager
def running(models_root: Path, **sections: Any) -> Iterator[ServerThread]:
    sections.setdefault("ocr", {"enabled": False})
    sections.setdefault("rate_limit", {"enabled": False})
    server = ServerThread(make_settings(models_root, **sections)).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def stubs(server: ServerThread) -> Iterator[tuple[Any, Any]]:
    with grpc.insecure_channel(server.address) as channel:
        yield classifier_pb2_grpc.ClassifierStub(channel), admin_pb2_grpc.AdminStub(channel)


def request(content: bytes, kind: str, routing_key: str = "", **metadata: str) -> classifier_pb2.ClassifyRequest:
    return classifier_pb2.ClassifyRequest(
        content=content, mime_type=MIME[kind], filename=f"doc.{kind}", routing_key=routing_key, metadata=metadata
    )


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def thresholds(accept: float, review_below: float, **per_label: tuple[float, float]) -> admin_pb2.Thresholds:
    return admin_pb2.Thresholds(
        default=admin_pb2.LabelThresholds(accept=accept, review_below=review_below),
        per_label={k: admin_pb2.LabelThresholds(accept=a, review_below=r) for k, (a, r) in per_label.items()},
        provenance="test",
    )
