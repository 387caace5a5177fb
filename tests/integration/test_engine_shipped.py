"""The shipped model set (committed under models/) under the engine's default configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from doctriage.v1 import admin_pb2, classifier_pb2

from harness.documents import pdf, sample_documents
from harness.engine import request, running, stubs

MODELS = Path(__file__).resolve().parents[2] / "models"
SHIPPED = [("doc-classifier", "2.3"), ("doc-classifier", "2.4"), ("doc-classifier-lite", "1.0")]


def test_default_split_serves_the_shipped_versions_and_falls_back_to_lite() -> None:
    with running(MODELS) as server, stubs(server) as (classifier, admin):
        states = {(m.name, m.version): m.state for m in admin.ListModels(admin_pb2.ListModelsRequest()).models}
        assert all(states[key] == admin_pb2.READY for key in SHIPPED), states
        split = admin.GetTrafficSplit(admin_pb2.GetTrafficSplitRequest())
        assert {w.version: w.weight for w in split.weights} == pytest.approx({"2.3": 0.9, "2.4": 0.1})
        seen = set()
        for i in range(40):
            r = classifier.Classify(request(pdf(), "pdf", routing_key=f"k{i}"), timeout=60)
            assert r.source in (classifier_pb2.MODEL, classifier_pb2.CACHE) and r.label
            seen.add(r.model_version)
        assert seen == {"2.3", "2.4"}
        for version in ("2.3", "2.4"):
            admin.UnloadModel(admin_pb2.UnloadModelRequest(name="doc-classifier", version=version))
        lite = classifier.Classify(request(sample_documents(seed=5)["jpeg"], "jpeg"), timeout=60)
        assert lite.source == classifier_pb2.FALLBACK_MODEL and lite.model_name == "doc-classifier-lite"
