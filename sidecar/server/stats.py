"""Admin.GetStats and Admin.GetDrift: read from the metrics registry and the recorder.

Counts come from the Prometheus registry (since process start), so GetStats and a
scrape never disagree; latency quantiles are exact over the recorder's last 10 000
documents; drift is the default model version's windows.
"""

from __future__ import annotations

from collections import defaultdict

from doctriage.v1 import admin_pb2

from sidecar.observability import metrics as m
from sidecar.observability.recorder import Recorder


def _samples(name: str) -> list[tuple[dict[str, str], float]]:
    out: list[tuple[dict[str, str], float]] = []
    for family in m.REGISTRY.collect():
        for sample in family.samples:
            if sample.name == name:
                out.append((dict(sample.labels), float(sample.value)))
    return out


def _by(name: str, label: str) -> dict[str, int]:
    totals: dict[str, float] = defaultdict(float)
    for labels, value in _samples(name):
        totals[labels.get(label, "")] += value
    return {k: int(v) for k, v in totals.items() if v}


def collect_stats(rec: Recorder) -> admin_pb2.Stats:
    cache = _by("doctriage_cache_requests_total", "result")
    depth = _samples("doctriage_review_queue_depth")
    p50, p95, p99 = rec.latency_quantiles(0.5, 0.95, 0.99)
    by_decision = _by("doctriage_predictions_total", "decision")
    return admin_pb2.Stats(
        requests=int(sum(v for _, v in _samples("doctriage_requests_total"))),
        by_decision=by_decision,
        by_label=_by("doctriage_predictions_total", "label"),
        errors_by_reason=_by("doctriage_errors_total", "reason"),
        fallbacks_by_reason=_by("doctriage_fallbacks_total", "reason"),
        cache_hits=cache.get("hit", 0),
        cache_misses=cache.get("miss", 0),
        review_queue_depth=int(depth[0][1]) if depth else 0,
        latency_p50_seconds=p50,
        latency_p95_seconds=p95,
        latency_p99_seconds=p99,
        cost_today=rec.cost.today,
    )


def drift_report(rec: Recorder) -> admin_pb2.DriftReport:
    report = rec.export_drift()
    if report is None:
        return admin_pb2.DriftReport()
    return admin_pb2.DriftReport(
        features=[
            admin_pb2.FeatureDrift(
                feature=f.feature, kl_divergence=f.kl_divergence, psi=f.psi, window_count=f.window_count
            )
            for f in report.features
        ],
        mean_confidence=report.mean_confidence,
        reference_mean_confidence=report.reference_mean_confidence,
        previous_window_mean_confidence=report.previous_window_mean_confidence,
        model_version=report.model,
    )
