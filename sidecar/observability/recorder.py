"""Record one finished document: metrics, drift windows, cost. Called once per answered document.

The data plane calls, after a document got its answer and before returning it:

    from sidecar.observability import recorder
    recorder.record_result(result, features, cpu_seconds=..., gpu_seconds=..., fallback_reason=...)

- `features`: the document's `DriftFeatures` (or a mapping feature → number); None when
  not computed (cache hits): drift then only sees the confidence.
- `cpu_seconds` / `gpu_seconds`: measured for this document; when None, the wall times of
  the stages in `result.timings` stand in (the "model" stage counts as GPU time when the
  version runs on CUDA, else as CPU time; waiting stages such as "scan" count as neither).
- `fallback_reason`: why the answer did not come from the routed model (breaker_open,
  model_error, timeout, ...); when None and the source is not MODEL/CACHE, the source
  name is the reason. Fallbacks are counted here only — do not increment
  `doctriage_fallbacks_total` elsewhere.

It sets `result.estimated_cost` and returns it. Refused documents are counted by the
gateway (`doctriage_errors_total{reason}`), not here. The server installs one
`Recorder` at start; without one (unit tests of stages) only the plain metrics move.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sidecar.config import Settings
from sidecar.domain import ClassifyResult, Source
from sidecar.observability import metrics as m
from sidecar.observability.cost import CostTracker
from sidecar.observability.drift import DriftMonitor, DriftReport, parse_reference

# Set by the gateway for the duration of an RPC: the `rpc` label of stage latencies.
current_rpc: contextvars.ContextVar[str] = contextvars.ContextVar("doctriage_rpc", default="Classify")

# Stages that wait rather than compute: left out of the CPU-seconds stand-in.
_WAITING_STAGES = frozenset({"total", "scan", "queue_wait", "batch_wait", "cache"})
_NOT_FALLBACK = frozenset({Source.MODEL, Source.CACHE})
# Documents kept for GetStats' latency quantiles.
_LATENCY_WINDOW = 10_000
# Drift gauges are recomputed at most this often (seconds) from the request path.
_DRIFT_EXPORT_INTERVAL_S = 1.0


class HasNumericFeatures(Protocol):
    def numeric(self) -> dict[str, float]: ...


ReferenceLookup = Callable[[str, str], Mapping[str, Any] | None]


def _model_key(name: str, version: str) -> str:
    return f"{name}/{version}"


class Recorder:
    def __init__(
        self,
        settings: Settings,
        reference_for: ReferenceLookup | None = None,
        on_gpu: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.cost = CostTracker(settings.cost)
        self._reference_for = reference_for
        # Whether a model version runs on CUDA: its "model" stage is then priced as GPU time.
        self._on_gpu = on_gpu
        self._monitors: dict[str, DriftMonitor] = {}
        self._latencies: deque[float] = deque(maxlen=_LATENCY_WINDOW)
        self._lock = threading.Lock()
        self._drift_exported = 0.0
        # REQUEST_DURATION's child per (rpc, stage): ~8 stages a document, and labels() costs a lock
        # and a validation each time.
        self._durations: dict[tuple[str, str], Any] = {}
        m.COST_BUDGET_DAILY.set(settings.cost.daily_budget)

    # -- per document -------------------------------------------------------

    def record_result(
        self,
        result: ClassifyResult,
        features: HasNumericFeatures | Mapping[str, float] | None = None,
        *,
        cpu_seconds: float | None = None,
        gpu_seconds: float | None = None,
        fallback_reason: str | None = None,
    ) -> float:
        p = result.prediction
        model = _model_key(p.model_name, p.model_version)
        rpc = current_rpc.get()
        durations = self._durations
        for stage, seconds in result.timings.items():
            # Unary RPCs get stage="total" from the gateway (errors included); streams from here.
            if stage != "total" or rpc == "ClassifyStream":
                child = durations.get((rpc, stage))
                if child is None:
                    child = durations[(rpc, stage)] = m.REQUEST_DURATION.labels(rpc=rpc, stage=stage)
                child.observe(seconds)
        if "total" in result.timings:
            self._latencies.append(result.timings["total"])
        if "scan" in result.timings:
            m.SCANNER_DURATION.observe(result.timings["scan"])
        m.CONFIDENCE.labels(model=model).observe(p.confidence)
        m.PREDICTIONS.labels(
            model=model, label=p.label, decision=result.decision.kind.value, source=p.source.value
        ).inc()
        if p.source not in _NOT_FALLBACK:
            m.FALLBACKS.labels(reason=fallback_reason or p.source.value.lower()).inc()

        if gpu_seconds is None:
            on_gpu = self._on_gpu
            gpu = on_gpu is not None and p.source is not Source.CACHE and on_gpu(p.model_name, p.model_version)
            gpu_seconds = result.timings.get("model", 0.0) if gpu else 0.0
        if cpu_seconds is None:
            waiting = _WAITING_STAGES | ({"model"} if gpu_seconds else set())
            cpu_seconds = sum(v for k, v in result.timings.items() if k not in waiting)
        cost = self.cost.estimate(cpu_seconds, gpu_seconds)
        self.cost.add(cost)
        result.estimated_cost = cost
        m.CPU_SECONDS.inc(max(0.0, cpu_seconds))
        m.PREDICTION_COST.observe(cost)
        m.COST.inc(cost)
        m.COST_TODAY.set(self.cost.today)

        if self.settings.drift.enabled:
            values: dict[str, float] = {}
            if isinstance(features, Mapping):
                values = dict(features)
            elif features is not None:
                values = features.numeric()
            monitor = self._monitor(p.model_name, p.model_version)
            monitor.observe(values, p.confidence)
            now = time.monotonic()
            if now - self._drift_exported >= _DRIFT_EXPORT_INTERVAL_S:
                self._drift_exported = now
                self.export_drift()
        return cost

    # -- drift --------------------------------------------------------------

    def _monitor(self, name: str, version: str) -> DriftMonitor:
        key = _model_key(name, version)
        monitor = self._monitors.get(key)
        if monitor is None:
            with self._lock:
                monitor = self._monitors.get(key)
                if monitor is None:
                    raw = self._reference_for(name, version) if self._reference_for else None
                    drift = self.settings.drift
                    monitor = DriftMonitor(
                        key, parse_reference(raw), window_size=drift.window_size, epsilon=drift.epsilon
                    )
                    self._monitors[key] = monitor
        return monitor

    def drift_report(self, model: str | None = None) -> DriftReport | None:
        """The report of `model` ("name/version"); default: the default version, else the busiest."""
        if model is None:
            s = self.settings.models
            model = _model_key(s.name, s.default_version)
            if model not in self._monitors and self._monitors:
                model = max(self._monitors.values(), key=lambda mon: mon.report().window_count).model
        monitor = self._monitors.get(model)
        return monitor.report() if monitor is not None else None

    def export_drift(self) -> DriftReport | None:
        """Set the drift gauges from the default model's windows."""
        report = self.drift_report()
        if report is None:
            return None
        for f in report.features:
            m.DRIFT_KL.labels(feature=f.feature).set(f.kl_divergence)
            m.DRIFT_PSI.labels(feature=f.feature).set(f.psi)
        m.DRIFT_WINDOW_COUNT.set(report.window_count)
        m.CONFIDENCE_MEAN.labels(window="current").set(report.mean_confidence)
        m.CONFIDENCE_MEAN.labels(window="reference").set(report.reference_mean_confidence)
        m.CONFIDENCE_MEAN.labels(window="previous").set(report.previous_window_mean_confidence)
        return report

    # -- stats --------------------------------------------------------------

    def latency_quantiles(self, *qs: float) -> list[float]:
        values = sorted(self._latencies)
        if not values:
            return [0.0 for _ in qs]
        return [values[min(len(values) - 1, int(q * len(values)))] for q in qs]
