"""Metrics scrape, Admin.GetStatus/GetStats/GetDrift, and drift on clean vs degraded traffic (real server)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from doctriage.v1 import admin_pb2, admin_pb2_grpc, classifier_pb2, classifier_pb2_grpc
from PIL import Image, ImageFilter
from prometheus_client.parser import text_string_to_metric_families

from harness import documents as docs
from harness.gateway import bearer
from harness.server import ServerThread
from harness.settings import make_settings
from harness.tiny_model import write_tiny_model
from sidecar.domain import DocKind, Inspection, Page
from sidecar.models.calibration import histogram
from sidecar.observability import metrics
from sidecar.pipeline.features import compute_features
from sidecar.server.auth import hash_key

ADMIN, THROTTLED = "dtk_obs_admin_key_0000000000", "dtk_obs_throttled_key_000000"
WINDOW = 30
EDGES = {
    "brightness": np.linspace(0, 256, 9),
    "contrast": np.array([0.0, 15.0, 25.0, 55.0, 80.0, 128.0]),
    "aspect": np.array([0.0, 0.5, 0.9, 1.1, 1.3, 1.5, 2.0, 10.0]),
}


def clean_page(seed: int) -> Image.Image:
    # Half the default size: quicker to encode and decode, the same statistics.
    return docs.invoice_page(width=310, height=440, lines=4 + seed % 12, seed=seed)


def degraded_page(seed: int) -> Image.Image:
    """A dim, washed-out, blurred phone photo of a page, taken sideways."""
    img = clean_page(seed).convert("L").rotate(90, expand=True)
    arr = np.asarray(img, np.float32) * 0.35 + 40 + np.random.default_rng(seed).normal(0, 6, img.size[::-1])
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(3))


def _features(img: Image.Image) -> dict[str, float]:
    grey = np.asarray(img.convert("L").resize((192, 256)))
    inspection = Inspection(kind=DocKind.PNG, digest="0" * 64, size=1, width=img.width, height=img.height)
    page = Page(image=grey, source_width=img.width, source_height=img.height)
    return compute_features(inspection, page).numeric()


@pytest.fixture(scope="module")
def drift_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with a synthetic `drift_reference` built from clean pages through the feature code."""
    root = tmp_path_factory.mktemp("drift-models")
    write_tiny_model(root, "doc-classifier", "2.3", seed=1)
    write_tiny_model(root, "doc-classifier", "2.4", seed=2)  # the shadow
    manifest_path = root / "doc-classifier" / "2.3" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    rows = [_features(clean_page(seed)) for seed in range(100, 160)]
    reference = {name: histogram([r[name] for r in rows], edges) for name, edges in EDGES.items()}
    reference["confidence"] = histogram([0.5], np.linspace(0, 1, 11))
    manifest["drift_reference"] = {"features": reference}  # the shipped manifests' form
    manifest_path.write_text(json.dumps(manifest))
    return root


@pytest.fixture(scope="module")
def observed(drift_models: Path) -> Iterator[ServerThread]:
    keys = [
        {"id": "ops", "hash": hash_key(ADMIN), "roles": ["admin", "classify", "review"]},
        {"id": "throttled", "hash": hash_key(THROTTLED), "roles": ["classify"], "rate_per_s": 0.1, "burst": 1},
    ]
    settings = make_settings(
        drift_models,
        auth={"enabled": True, "keys": keys},
        rate_limit={"enabled": True},
        scanner={"enabled": False},
        ocr={"enabled": False},  # drift is about image statistics here; OCR would only add time
        drift={"window_size": WINDOW, "sample_rate": 1.0},  # every document: the drift figures below
        cost={"daily_budget": 42.0},
        # Every document also runs on 2.4 in shadow; no fallback model, so a fault degrades.
        traffic={"weights": {"2.3": 1.0}, "shadow_version": "2.4", "shadow_share": 1.0, "fallback_name": ""},
    )
    running = ServerThread(settings).start()
    yield running
    running.stop()


def _scrape(server: ServerThread) -> dict[str, float]:
    """Sum of every sample per sample name (e.g. doctriage_requests_total, ..._count)."""
    assert server.server is not None and server.server.metrics_port
    with urllib.request.urlopen(f"http://127.0.0.1:{server.server.metrics_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        sums.setdefault(family.name, 0.0)  # exposed even with no children yet
        for sample in family.samples:
            sums[sample.name] = sums.get(sample.name, 0.0) + sample.value
    return sums


def _classify(channel: grpc.Channel, content: bytes, key: str = ADMIN) -> classifier_pb2.ClassifyResponse:
    return classifier_pb2_grpc.ClassifierStub(channel).Classify(
        classifier_pb2.ClassifyRequest(content=content), metadata=bearer(key), timeout=30
    )


def _admin(channel: grpc.Channel) -> admin_pb2_grpc.AdminStub:
    return admin_pb2_grpc.AdminStub(channel)


def test_every_metric_is_exposed_and_traffic_moves_them(observed: ServerThread) -> None:
    before = _scrape(observed)
    png = docs.png(clean_page(1))
    with grpc.insecure_channel(observed.address) as channel:
        for seed in range(3):
            _classify(channel, docs.jpeg(clean_page(seed)))
        _classify(channel, png)
        _classify(channel, png)  # the second one can come from the cache
        stream = classifier_pb2_grpc.ClassifierStub(channel).ClassifyStream(
            iter([classifier_pb2.ClassifyRequest(content=png, client_ref=str(i)) for i in range(2)]),
            metadata=bearer(ADMIN),
            timeout=30,
        )
        assert len(list(stream)) == 2
        with pytest.raises(grpc.RpcError):
            _classify(channel, b"just some text, not a document")
        _classify(channel, png, THROTTLED)
        with pytest.raises(grpc.RpcError) as info:
            _classify(channel, png, THROTTLED)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        _admin(channel).GetStatus(admin_pb2.GetStatusRequest(), metadata=bearer(ADMIN), timeout=10)
        _admin(channel).GetDrift(admin_pb2.GetDriftRequest(), metadata=bearer(ADMIN), timeout=10)
        # A real fault: the served version disappears; the answer degrades instead of failing.
        admin = _admin(channel)
        version = {"name": "doc-classifier", "version": "2.3"}
        admin.UnloadModel(admin_pb2.UnloadModelRequest(**version), metadata=bearer(ADMIN), timeout=30)
        try:
            degraded = _classify(channel, docs.jpeg(clean_page(99)))
            assert degraded.source != classifier_pb2.MODEL
        finally:
            admin.LoadModel(admin_pb2.LoadModelRequest(**version), metadata=bearer(ADMIN), timeout=60)
    deadline = time.monotonic() + 5
    while True:  # shadow runs finish after their answers
        after = _scrape(observed)
        if after.get("doctriage_shadow_predictions_total", 0) > before.get("doctriage_shadow_predictions_total", 0):
            break
        assert time.monotonic() < deadline, "no shadow prediction recorded"
        time.sleep(0.1)

    defined = {
        f.name for f in text_string_to_metric_families(_exposition()) if f.name.startswith("doctriage_")
    }  # every metric of metrics.py
    assert defined <= set(after), defined - set(after)

    def moved(name: str) -> bool:
        return after.get(name, 0.0) > before.get(name, 0.0)

    must_move = [
        "doctriage_request_duration_seconds_count",
        "doctriage_requests_total",
        "doctriage_confidence_count",
        "doctriage_predictions_total",
        "doctriage_errors_total",
        "doctriage_rate_limited_total",
        "doctriage_prediction_cost_count",
        "doctriage_cost_total",
        "doctriage_cpu_seconds_total",
        "doctriage_cache_requests_total",
        "doctriage_batch_size_count",
        "doctriage_batch_queue_wait_seconds_count",
        "doctriage_shadow_predictions_total",
        "doctriage_fallbacks_total",
    ]
    assert [n for n in must_move if not moved(n)] == []
    # Gauges: present with a value after traffic.
    assert after["doctriage_cost_today"] > 0
    assert after["doctriage_cost_budget_daily"] == 42.0
    assert after["doctriage_model_info"] >= 1
    assert after["doctriage_serving"] == 1
    assert after["doctriage_in_flight_requests"] == 0
    assert "doctriage_drift_kl" in after and "doctriage_drift_psi" in after
    assert after["doctriage_confidence_mean"] > 0
    assert after["doctriage_review_queue_depth"] > 0  # the tiny model's answers go to review
    assert "doctriage_circuit_breaker_state" in after and "doctriage_drift_window_count" in after


def _exposition() -> str:
    from prometheus_client import generate_latest

    return generate_latest(metrics.REGISTRY).decode()


def test_admin_status_and_stats(observed: ServerThread) -> None:
    with grpc.insecure_channel(observed.address) as channel:
        _classify(channel, docs.png(clean_page(7)))
        admin = _admin(channel)
        status = admin.GetStatus(admin_pb2.GetStatusRequest(), metadata=bearer(ADMIN), timeout=10)
        stats = admin.GetStats(admin_pb2.GetStatsRequest(), metadata=bearer(ADMIN), timeout=10)
    assert status.version and status.uptime_seconds > 0 and len(status.config_digest) == 64
    assert status.device == "cpu" and status.serving and status.hotpath in ("compiled", "python")
    assert status.normalizer == "numpy"  # no GPU in CI: models.device = "auto" chose numpy at start-up
    assert any(m.name == "doc-classifier" and m.version == "2.3" for m in status.models)
    assert stats.requests >= 1 and sum(stats.by_decision.values()) >= 1 and sum(stats.by_label.values()) >= 1
    assert 0 < stats.latency_p50_seconds <= stats.latency_p95_seconds <= stats.latency_p99_seconds
    assert stats.cost_today > 0


def _drift(channel: grpc.Channel) -> admin_pb2.DriftReport:
    return _admin(channel).GetDrift(admin_pb2.GetDriftRequest(), metadata=bearer(ADMIN), timeout=10)


def test_drift_features_are_computed_for_the_sampled_share_and_confidence_for_every_document(
    drift_models: Path,
) -> None:
    settings = make_settings(
        drift_models,
        ocr={"enabled": False},
        drift={"window_size": WINDOW, "sample_rate": 0.5},
        traffic={"weights": {"2.3": 1.0}, "fallback_name": ""},
    )
    running = ServerThread(settings).start()
    try:
        with grpc.insecure_channel(running.address) as channel:
            stub = classifier_pb2_grpc.ClassifierStub(channel)
            for seed in range(8):
                stub.Classify(classifier_pb2.ClassifyRequest(content=docs.png(clean_page(900 + seed))), timeout=30)
            report = admin_pb2_grpc.AdminStub(channel).GetDrift(admin_pb2.GetDriftRequest(), timeout=10)
    finally:
        running.stop()
    windows = {f.feature: f.window_count for f in report.features}
    assert windows["brightness"] == 4 and windows["aspect"] == 4  # every 2nd document
    assert windows["confidence"] == 8  # every document


def test_drift_stays_low_on_clean_pages_and_rises_on_degraded_ones(observed: ServerThread) -> None:
    with grpc.insecure_channel(observed.address) as channel:
        for seed in range(WINDOW):  # a full window of clean pages (seeds the reference never saw)
            page = clean_page(500 + seed)
            _classify(channel, docs.png(page) if seed % 2 else docs.jpeg(page))
        clean = {f.feature: f for f in _drift(channel).features}
        for seed in range(WINDOW):
            _classify(channel, docs.jpeg(degraded_page(seed).convert("RGB")))
        degraded_report = _drift(channel)
    degraded = {f.feature: f for f in degraded_report.features}
    print({k: (round(clean[k].kl_divergence, 3), round(degraded[k].kl_divergence, 3)) for k in clean})
    assert degraded_report.model_version == "doc-classifier/2.3"
    for name in ("brightness", "contrast", "aspect"):
        assert clean[name].window_count == WINDOW
        assert clean[name].kl_divergence < 0.1, (name, clean[name])
        assert degraded[name].kl_divergence > 1.0, (name, degraded[name])
        assert degraded[name].psi > 1.0
    # One full window has passed: the previous-window mean exists; the reference mean is the manifest's.
    assert degraded_report.previous_window_mean_confidence > 0
    assert degraded_report.reference_mean_confidence == pytest.approx(0.55)
    gauges = _scrape(observed)
    assert gauges["doctriage_drift_kl"] > 3.0  # brightness + contrast + aspect, exported by GetDrift
