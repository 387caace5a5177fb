"""Every fallback reached by a real fault, and the breaker opening and closing, against a real server."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pytest
from doctriage.v1 import admin_pb2, classifier_pb2

from harness.documents import pdf, sample_documents
from harness.engine import metric, model_tree, request, running, stubs
from harness.grpc_errors import reason_of
from harness.tiny_model import write_tiny_model

INVOICE_LINES = (
    "ACME Supplies GmbH",
    "INVOICE No. 2024-0118    Date: 12.03.2024",
    "Bill to: Example Ltd",
    "Subtotal 1.200,00 EUR  VAT 228,00 EUR",
    "Total due 1.428,00 EUR",
)


def unload(admin: object, name: str, version: str) -> None:
    info = admin.UnloadModel(admin_pb2.UnloadModelRequest(name=name, version=version))  # type: ignore[attr-defined]
    assert info.state == admin_pb2.UNLOADED


def test_the_whole_fallback_chain(tmp_path: Path) -> None:
    root = model_tree(tmp_path / "models", v24=False)
    split = {"weights": {"2.3": 1.0}}
    with running(root, traffic=split) as server, stubs(server) as (classifier, admin):
        png = sample_documents(seed=21)["png"]
        seen = classifier.Classify(request(png, "png"), timeout=30)  # fills the cache for the last fallback
        assert seen.source == classifier_pb2.MODEL
        unavailable = metric("doctriage_fallbacks_total", reason="model_unavailable")

        # 1. the routed version is unloaded → the lite model answers
        unload(admin, "doc-classifier", "2.3")
        fresh = sample_documents(seed=22)["png"]
        lite = classifier.Classify(request(fresh, "png"), timeout=30)
        assert lite.source == classifier_pb2.FALLBACK_MODEL and lite.model_name == "doc-classifier-lite"
        assert metric("doctriage_fallbacks_total", reason="model_unavailable") == unavailable + 1

        # 2. the lite model is gone too → rule-based classification from the PDF's text layer
        unload(admin, "doc-classifier-lite", "1.0")
        text_pdf = pdf(lines=INVOICE_LINES)
        by_rules = classifier.Classify(request(text_pdf, "pdf"), timeout=30)
        assert by_rules.source == classifier_pb2.RULES and by_rules.label == "invoice"
        assert by_rules.decision == classifier_pb2.ACCEPTED_AFTER_RULES
        assert by_rules.rule_findings and all(f.passed for f in by_rules.rule_findings)

        # 3. no text to classify from, but this digest was answered before → the cached prediction
        cached = classifier.Classify(request(png, "png"), timeout=30)
        assert cached.source == classifier_pb2.CACHE and cached.label == seen.label
        assert cached.model_version == "2.3"

        # 4. nothing at all → DEGRADED, routed to review, never an error
        unseen = sample_documents(seed=23)["jpeg"]
        degraded = classifier.Classify(request(unseen, "jpeg"), timeout=30)
        assert degraded.source == classifier_pb2.DEGRADED and degraded.decision == classifier_pb2.HUMAN_REVIEW
        assert degraded.review_id and "DEGRADED" in degraded.decision_reasons

        # a bad document is still refused as such while the models are down
        with pytest.raises(grpc.RpcError) as err:
            classifier.Classify(request(b"%PDF-1.7 garbage", "pdf"), timeout=30)
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT

        # reloading brings the model back
        admin.LoadModel(admin_pb2.LoadModelRequest(name="doc-classifier", version="2.3"))
        back = classifier.Classify(request(sample_documents(seed=24)["png"], "png"), timeout=30)
        assert back.source == classifier_pb2.MODEL


def test_a_corrupted_model_fails_its_load_and_leaves_serving_versions_alone(tmp_path: Path) -> None:
    root = model_tree(tmp_path / "models", v24=False, lite=False)
    broken = write_tiny_model(root, "doc-classifier", "9.9", seed=9)
    (broken / "model.onnx").write_bytes(b"\x08\x07 this is not an onnx graph" * 50)
    traffic = {"weights": {"2.3": 1.0}, "fallback_name": ""}
    with running(root, traffic=traffic) as server, stubs(server) as (classifier, admin):
        with pytest.raises(grpc.RpcError) as err:
            admin.LoadModel(admin_pb2.LoadModelRequest(name="doc-classifier", version="9.9"))
        assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert reason_of(err.value) == "FAILED_PRECONDITION"
        states = {(m.name, m.version): m for m in admin.ListModels(admin_pb2.ListModelsRequest()).models}
        assert states[("doc-classifier", "9.9")].state == admin_pb2.FAILED
        assert states[("doc-classifier", "9.9")].error
        assert states[("doc-classifier", "2.3")].state == admin_pb2.READY
        ok = classifier.Classify(request(sample_documents(seed=31)["png"], "png"), timeout=30)
        assert ok.source == classifier_pb2.MODEL and ok.model_version == "2.3"
        # a broken file dropped over a serving version: its reload fails, the old session keeps serving
        (root / "doc-classifier" / "2.3" / "model.onnx").write_bytes(b"garbage")
        with pytest.raises(grpc.RpcError):
            admin.LoadModel(admin_pb2.LoadModelRequest(name="doc-classifier", version="2.3"))
        again = classifier.Classify(request(sample_documents(seed=32)["png"], "png"), timeout=30)
        assert again.source == classifier_pb2.MODEL and again.model_version == "2.3"


def test_breaker_opens_on_model_errors_and_closes_after_recovery(tmp_path: Path) -> None:
    # 2.3 passes its warm-up but fails in ONNX Runtime on every real page (white pixels).
    root = model_tree(tmp_path / "models", v24=False, fails_on_white=True)
    settings = {
        "traffic": {"weights": {"2.3": 1.0}},
        "breaker": {"failure_threshold": 3, "reset_timeout_s": 0.5},
        "cache": {"enabled": False},
    }
    with running(root, **settings) as server, stubs(server) as (classifier, admin):
        state = "doctriage_circuit_breaker_state"
        errors = metric("doctriage_fallbacks_total", reason="model_error")
        opened = metric("doctriage_fallbacks_total", reason="breaker_open")
        for i in range(3):
            r = classifier.Classify(request(sample_documents(seed=40 + i)["png"], "png"), timeout=30)
            assert r.source == classifier_pb2.FALLBACK_MODEL
        assert metric("doctriage_fallbacks_total", reason="model_error") == errors + 3
        assert metric(state, model="doc-classifier/2.3") == 2  # OPEN
        r = classifier.Classify(request(sample_documents(seed=43)["png"], "png"), timeout=30)
        assert r.source == classifier_pb2.FALLBACK_MODEL
        assert metric("doctriage_fallbacks_total", reason="breaker_open") == opened + 1  # refused without a call

        # the operator ships a fixed 2.3; after the reset timeout one probe goes through and closes it
        write_tiny_model(root, "doc-classifier", "2.3", seed=1)
        admin.LoadModel(admin_pb2.LoadModelRequest(name="doc-classifier", version="2.3"))
        time.sleep(0.6)
        r = classifier.Classify(request(sample_documents(seed=44)["png"], "png"), timeout=30)
        assert r.source == classifier_pb2.MODEL and r.model_version == "2.3"
        assert metric(state, model="doc-classifier/2.3") == 0  # CLOSED


def test_a_model_call_over_its_timeout_falls_back_and_opens_the_breaker(tmp_path: Path) -> None:
    root = model_tree(tmp_path / "models", v24=False, lite=False)
    settings = {
        "traffic": {"weights": {"2.3": 1.0}, "fallback_name": ""},
        # No real call finishes in 0.1 ms: every one is abandoned.
        "breaker": {"failure_threshold": 2, "call_timeout_s": 0.0001},
        "cache": {"enabled": False},
    }
    with running(root, **settings) as server, stubs(server) as (classifier, _):
        timeouts = metric("doctriage_fallbacks_total", reason="timeout")
        opened = metric("doctriage_fallbacks_total", reason="breaker_open")
        answers = [
            classifier.Classify(request(sample_documents(seed=60 + i)["png"], "png"), timeout=30) for i in range(3)
        ]
        assert all(a.source == classifier_pb2.DEGRADED and a.review_id for a in answers)
        assert metric("doctriage_fallbacks_total", reason="timeout") == timeouts + 2
        assert metric("doctriage_fallbacks_total", reason="breaker_open") == opened + 1
