"""Units of the gateway and of observability: token bucket, roles, KL/PSI, drift windows, cost per day."""

from __future__ import annotations

import json
import math
import tomllib

import pytest

from harness.paths import ROOT
from sidecar.__main__ import main
from sidecar.config import CostSettings, RateLimitSettings, Settings
from sidecar.domain import ClassifyResult, Decision, DecisionKind, DocKind, Inspection, Prediction
from sidecar.observability.cost import CostTracker
from sidecar.observability.drift import DriftMonitor, ReferenceHistogram, kl_divergence, parse_reference, psi
from sidecar.observability.logging import redact_secrets
from sidecar.observability.recorder import Recorder
from sidecar.server.auth import required_role, verify_key
from sidecar.server.ratelimit import RateLimiter, TokenBucket


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_burst_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_acquire() == pytest.approx(0.1)
    clock.now += 1.0  # 10 tokens arrive, only 3 fit
    assert sum(bucket.try_acquire() == 0.0 for _ in range(10)) == 3
    allowed = 0
    for _ in range(1000):  # 10 s at 100 calls/s
        clock.now += 0.01
        allowed += bucket.try_acquire() == 0.0
    assert allowed == pytest.approx(100, abs=1)


def test_rate_limiter_keys_are_independent_and_overridable() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimitSettings(rate_per_s=1, burst=1), clock=clock)
    assert limiter.try_acquire("a") == 0.0 and limiter.try_acquire("a") > 0
    assert limiter.try_acquire("b") == 0.0
    assert [limiter.try_acquire("c", rate=100, burst=5) for _ in range(5)] == [0.0] * 5
    assert RateLimiter(RateLimitSettings(enabled=False)).try_acquire("x") == 0.0


@pytest.mark.parametrize(
    ("service", "rpc", "role"),
    [
        ("doctriage.v1.Classifier", "Classify", "classify"),
        ("doctriage.v1.Classifier", "ClassifyStream", "classify"),
        ("doctriage.v1.Admin", "ListReviews", "review"),
        ("doctriage.v1.Admin", "ClaimReview", "review"),
        ("doctriage.v1.Admin", "ResolveReview", "review"),
        ("doctriage.v1.Admin", "SetThresholds", "admin"),
        ("doctriage.v1.Admin", "GetDrift", "admin"),
        ("grpc.health.v1.Health", "Watch", None),
        ("grpc.reflection.v1alpha.ServerReflection", "ServerReflectionInfo", None),
    ],
)
def test_required_roles(service: str, rpc: str, role: str | None) -> None:
    assert required_role(service, rpc) == role


def test_kl_and_psi_are_zero_for_equal_and_finite_for_disjoint_distributions() -> None:
    ref = [0.25, 0.25, 0.25, 0.25]
    assert kl_divergence([10, 10, 10, 10], ref) == pytest.approx(0, abs=1e-9)
    assert psi([10, 10, 10, 10], ref) == pytest.approx(0, abs=1e-9)
    disjoint = kl_divergence([0, 0, 0, 40], [1, 0, 0, 0])
    assert math.isfinite(disjoint) and disjoint > 5
    assert psi([0, 0, 0, 40], [1, 0, 0, 0]) > 5
    # Asymmetric and ordered: a small shift gives a small value.
    assert 0 < kl_divergence([9, 11, 10, 10], ref) < 0.01


def test_drift_monitor_windows_slide_and_tumble() -> None:
    reference = parse_reference({"brightness": {"edges": [0, 100, 200, 256], "probs": [0.0, 0.2, 0.8]}})
    assert reference["brightness"].bin_of(-5) == 0 and reference["brightness"].bin_of(999) == 2
    monitor = DriftMonitor("m/1", reference, window_size=10, reference_mean_confidence=0.9)
    for _ in range(10):
        monitor.observe({"brightness": 230.0}, 0.9)
    first = monitor.report()
    assert first.window_count == 10 and first.previous_window_mean_confidence == pytest.approx(0.9)
    assert first.features[0].kl_divergence < 0.3
    for _ in range(10):
        monitor.observe({"brightness": 50.0}, 0.5)  # the window slides fully onto dark pages
    second = monitor.report()
    assert second.features[0].kl_divergence > 5 and second.mean_confidence == pytest.approx(0.5)
    assert second.previous_window_mean_confidence == pytest.approx(0.5)


def test_reference_validation_and_mean() -> None:
    with pytest.raises(ValueError, match="edges"):
        ReferenceHistogram.from_manifest({"edges": [0, 1], "probs": [0.5, 0.5]})
    with pytest.raises(ValueError, match="increase"):
        ReferenceHistogram.from_manifest({"edges": [0, 1, 1], "probs": [0.5, 0.5]})
    hist = ReferenceHistogram.from_manifest({"edges": [0, 0.5, 1], "probs": [1, 3]})
    assert hist.mean() == pytest.approx(0.25 * 0.25 + 0.75 * 0.75)
    assert parse_reference({"features": {"x": {"edges": [0, 1], "probs": [1]}}})["x"].probs == (1.0,)
    assert parse_reference(None) == {}


def test_cost_is_priced_per_second_and_resets_each_utc_day() -> None:
    clock = Clock(1_764_028_800.0)  # 2025-11-25T00:00:00Z
    tracker = CostTracker(CostSettings(cpu_second_price=0.01, gpu_second_price=1.0, daily_budget=1), clock=clock)
    cost = tracker.estimate(cpu_seconds=2.0, gpu_seconds=0.5)
    assert cost == pytest.approx(0.52)
    tracker.add(cost)
    tracker.add(cost)
    assert tracker.today == pytest.approx(1.04) and tracker.predictions_today == 2
    clock.now += 86_400
    assert tracker.today == 0.0 and tracker.total == pytest.approx(1.04)


def _result(timings: dict[str, float]) -> ClassifyResult:
    return ClassifyResult(
        request_id="r",
        client_ref="",
        inspection=Inspection(kind=DocKind.PNG, digest="0" * 64, size=10),
        prediction=Prediction("invoice", 0.9, {"invoice": 0.9}, "m", "1"),
        decision=Decision(DecisionKind.ACCEPTED),
        timings=timings,
    )


@pytest.mark.parametrize(("on_gpu", "expected"), [(False, 0.13 * 0.01), (True, 0.03 * 0.01 + 0.1 * 2.0)])
def test_recorder_prices_stage_times_and_counts_the_model_stage_as_gpu_on_cuda(on_gpu: bool, expected: float) -> None:
    settings = Settings(cost={"cpu_second_price": 0.01, "gpu_second_price": 2.0}, drift={"enabled": False})
    recorder = Recorder(settings, on_gpu=lambda name, version: on_gpu)
    result = _result({"validate": 0.01, "decode": 0.02, "model": 0.1, "scan": 0.5, "total": 0.7})
    assert recorder.record_result(result) == pytest.approx(expected)
    assert result.estimated_cost == pytest.approx(expected)
    assert recorder.cost.today == pytest.approx(expected)
    # Measured seconds, when the data plane passes them, win over the stand-in.
    assert recorder.record_result(_result({"model": 9.0}), cpu_seconds=1.0, gpu_seconds=0.0) == pytest.approx(0.01)


def test_auth_and_rate_limits_are_on_unless_turned_off_explicitly() -> None:
    settings = Settings()
    assert settings.auth.enabled and settings.rate_limit.enabled
    assert settings.rate_limit.rate_per_s == 100 and settings.rate_limit.burst >= 100


def test_hash_key_command_prints_a_key_and_its_config_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash-key", "--id", "billing", "--roles", "classify,review"]) == 0
    out = capsys.readouterr().out.splitlines()
    key, entry = out[0], "\n".join(out[1:])
    parsed = tomllib.loads(entry)["auth"]["keys"][0]
    assert parsed["id"] == "billing" and parsed["roles"] == ["classify", "review"]
    assert verify_key(key, parsed["hash"]) and key not in entry
    with pytest.raises(SystemExit):
        main(["hash-key", "--roles", "superuser"])


def test_log_redaction_drops_secrets_and_document_bytes() -> None:
    event = redact_secrets(
        None,
        "info",
        {"authorization": "Bearer x", "note": "retry with Bearer abc.def", "raw": b"%PDF-1.7", "digest": "ab12"},
    )
    assert event == {
        "authorization": "[redacted]",
        "note": "retry with [redacted]",
        "raw": "<8 bytes>",
        "digest": "ab12",
    }


def test_the_shipped_manifests_drift_reference_parses() -> None:
    manifest = ROOT / "models" / "doc-classifier" / "2.3" / "manifest.json"
    reference = parse_reference(json.loads(manifest.read_text())["drift_reference"])
    assert {"brightness", "contrast", "sharpness", "aspect", "text_length", "confidence"} <= set(reference)
    monitor = DriftMonitor("doc-classifier/2.3", reference, window_size=50)
    for _ in range(50):
        monitor.observe({"brightness": 250.0, "contrast": 30.0, "aspect": 1.41, "text_length": 800.0}, 0.97)
    report = monitor.report()
    assert all(math.isfinite(f.kl_divergence) and math.isfinite(f.psi) for f in report.features)
    assert 0.5 < report.reference_mean_confidence < 1.0
