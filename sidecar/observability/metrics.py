"""Every Prometheus metric of the sidecar, defined once, here.

How to record: the data plane calls its `Recorder.record_result(result)`
(sidecar/observability/recorder.py) once per answered document; the gateway interceptor
records `requests_total` / `request_duration_seconds{stage="total"}` / `in_flight_requests` /
`rate_limited_total` and `errors_total` for a refused one. Other components (batcher, cache, breaker,
review queue, scanner, shadow runner) import the metric they own from this module and
update it directly, e.g. `metrics.CACHE_REQUESTS.labels(result="hit").inc()`.

Rules: base units (seconds, not ms), `_total` on counters, `_seconds` on durations,
bounded label values only — never request ids, digests or file names as labels.
Label values used below:

- rpc: the gRPC method name ("Classify", "ClassifyStream", "GetStatus", ...)
- stage: "total" for the whole request, else a pipeline stage ("validate", "scan",
  "decode", "normalize", "model", "decide", ...)
- code: the gRPC status code name ("OK", "INVALID_ARGUMENT", ...)
- model: "<name>/<version>", e.g. "doc-classifier/2.3"
- label: a model label (bounded by the manifest), decision: DecisionKind, source: Source
- reason: a `sidecar.errors.Reason` value (errors) or a fallback reason
- feature: a drift feature name (brightness, contrast, sharpness, aspect, text_length, confidence)

All metrics live in `REGISTRY` (not the process-global default registry) so tests read
them without interference; `start_exporter` serves it over HTTP.
"""

from __future__ import annotations

import threading
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

REGISTRY = CollectorRegistry(auto_describe=True)

# 1 ms … 5 s (and 10 s for the tail): p50/p95/p99 derivable with histogram_quantile.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.35, 0.5, 0.75, 1, 2.5, 5, 10)
# Finer at the top, where thresholds (0.60, 0.75, 0.85, 0.95) are chosen.
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 1.0)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
QUEUE_WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
# Currency units per prediction (configured prices × measured seconds): ~1e-7 … 1e-2.
COST_BUCKETS = (1e-7, 1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 3e-3, 1e-2, 1e-1)


# -- requests (gateway) ------------------------------------------------------

REQUEST_DURATION = Histogram(
    "doctriage_request_duration_seconds",
    "Request latency by RPC and pipeline stage (stage=total: the whole request).",
    ["rpc", "stage"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
REQUESTS = Counter(
    "doctriage_requests_total",
    "Finished requests (stream messages count one each) by RPC and gRPC status code.",
    ["rpc", "code"],
    registry=REGISTRY,
)
IN_FLIGHT = Gauge(
    "doctriage_in_flight_requests",
    "Requests (documents) being processed right now.",
    registry=REGISTRY,
)
QUEUED = Gauge(
    "doctriage_queued_requests",
    "Admitted requests waiting for a pipeline slot (sidecar/dataplane/admission.py).",
    registry=REGISTRY,
)
QUEUE_WAIT = Histogram(
    "doctriage_queue_wait_seconds",
    "How long admitted requests waited for a pipeline slot.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
SHED = Counter(
    "doctriage_shed_total",
    "Requests refused by admission (RESOURCE_EXHAUSTED OVERLOADED) or whose deadline passed in the queue, by cause: "
    "queue_full, deadline (the expected wait leaves too little of it), delay_target (server.queue_delay_target_s), "
    "deadline_in_queue.",
    ["cause"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "doctriage_rate_limited_total",
    "Requests or stream messages refused by the per-key rate limit.",
    registry=REGISTRY,
)
AUTH_FAILURES = Counter(
    "doctriage_auth_failures_total",
    "Refused calls by outcome (unauthenticated, permission_denied).",
    ["outcome"],
    registry=REGISTRY,
)

# -- predictions ---------------------------------------------------------------

CONFIDENCE = Histogram(
    "doctriage_confidence",
    "Calibrated confidence of the returned label, per model version.",
    ["model"],
    buckets=CONFIDENCE_BUCKETS,
    registry=REGISTRY,
)
PREDICTIONS = Counter(
    "doctriage_predictions_total",
    "Answered documents by model version, label, decision and source.",
    ["model", "label", "decision", "source"],
    registry=REGISTRY,
)
ERRORS = Counter(
    "doctriage_errors_total",
    "Refused or failed documents by reason (sidecar.errors.Reason).",
    ["reason"],
    registry=REGISTRY,
)
FALLBACKS = Counter(
    "doctriage_fallbacks_total",
    "Answers that did not come from the routed model, by reason.",
    ["reason"],
    registry=REGISTRY,
)
CACHE_REQUESTS = Counter(
    "doctriage_cache_requests_total",
    "Prediction cache look-ups by result (hit, miss).",
    ["result"],
    registry=REGISTRY,
)
ESCALATIONS = Counter(
    "doctriage_escalations_total",
    "Answers the routed model sent to review, asked again of the cascade's version (traffic.escalate_to), "
    "by outcome (accepted, review, error).",
    ["from_model", "to_model", "outcome"],
    registry=REGISTRY,
)
SHADOW_PREDICTIONS = Counter(
    "doctriage_shadow_predictions_total",
    "Shadow predictions by candidate model and agreement with the served answer (agree, disagree, error).",
    ["model", "agreement"],
    registry=REGISTRY,
)

# -- engine ---------------------------------------------------------------------

REVIEW_QUEUE_DEPTH = Gauge(
    "doctriage_review_queue_depth",
    "Review items not yet resolved (pending + claimed).",
    registry=REGISTRY,
)
REVIEW_WRITE_BATCH = Histogram(
    "doctriage_review_write_batch_size",
    "Review and audit items written to the review queue together, in one transaction (group commit).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
    registry=REGISTRY,
)

# -- risk control (sidecar/risk: acceptance rule, audits) --------------------------
# bound: "estimate" (point), "lower"/"upper" (two-sided 95 % Clopper–Pearson), "upper_one_sided"
# ((1 - delta) one-sided; the alert compares it with doctriage_risk_target_silent_failure_rate).

AUDIT_SILENT_FAILURE_RATE = Gauge(
    "doctriage_audit_silent_failure_rate",
    "Silent-failure rate (wrong and automatically accepted, over all documents) estimated from resolved audits.",
    ["bound"],
    registry=REGISTRY,
)
AUDIT_RESOLVED = Counter(
    "doctriage_audit_resolved_total",
    "Resolved audit items (accepted documents sampled for review) by outcome (correct, wrong).",
    ["outcome"],
    registry=REGISTRY,
)
AUDIT_SAMPLED = Counter(
    "doctriage_audit_sampled_total",
    "Automatically accepted documents also sent to the review queue as audit.",
    registry=REGISTRY,
)
RISK_TARGET = Gauge(
    "doctriage_risk_target_silent_failure_rate",
    "Target silent-failure rate alpha of the active acceptance rule (absent: no rule).",
    registry=REGISTRY,
)
BATCH_SIZE = Histogram(
    "doctriage_batch_size",
    "Documents per inference batch, per model version.",
    ["model"],
    buckets=BATCH_SIZE_BUCKETS,
    registry=REGISTRY,
)
BATCH_QUEUE_WAIT = Histogram(
    "doctriage_batch_queue_wait_seconds",
    "Time a document waited in the batcher's queue, per model version.",
    ["model"],
    buckets=QUEUE_WAIT_BUCKETS,
    registry=REGISTRY,
)
SCANNER_DURATION = Histogram(
    "doctriage_scanner_duration_seconds",
    "Malware scan latency (clamd INSTREAM round trip).",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
CIRCUIT_BREAKER_STATE = Gauge(
    "doctriage_circuit_breaker_state",
    "Circuit breaker per model version: 0 closed, 1 half-open, 2 open.",
    ["model"],
    registry=REGISTRY,
)
MODEL_INFO = Gauge(
    "doctriage_model_info",
    "1 for each known model version, with its provider and state as labels.",
    ["name", "version", "provider", "state"],
    registry=REGISTRY,
)

# -- cost -------------------------------------------------------------------------

PREDICTION_COST = Histogram(
    "doctriage_prediction_cost",
    "Estimated cost of one prediction (configured currency), from measured CPU/GPU seconds.",
    buckets=COST_BUCKETS,
    registry=REGISTRY,
)
COST = Counter(
    "doctriage_cost_total",
    "Estimated cost of all predictions since start (configured currency).",
    registry=REGISTRY,
)
COST_TODAY = Gauge(
    "doctriage_cost_today",
    "Estimated cost of today's predictions (UTC day, configured currency).",
    registry=REGISTRY,
)
COST_BUDGET_DAILY = Gauge(
    "doctriage_cost_budget_daily",
    "Configured daily budget (configured currency).",
    registry=REGISTRY,
)
CPU_SECONDS = Counter(
    "doctriage_cpu_seconds_total",
    "CPU seconds measured for answered documents.",
    registry=REGISTRY,
)

# -- drift ------------------------------------------------------------------------

DRIFT_KL = Gauge(
    "doctriage_drift_kl",
    "KL divergence (current window ‖ manifest reference) per drift feature.",
    ["feature"],
    registry=REGISTRY,
)
DRIFT_PSI = Gauge(
    "doctriage_drift_psi",
    "Population stability index (current window vs manifest reference) per drift feature.",
    ["feature"],
    registry=REGISTRY,
)
DRIFT_WINDOW_COUNT = Gauge(
    "doctriage_drift_window_count",
    "Observations in the current drift window.",
    registry=REGISTRY,
)
CONFIDENCE_MEAN = Gauge(
    "doctriage_confidence_mean",
    "Mean top confidence: current window, manifest reference, previous full window.",
    ["window"],
    registry=REGISTRY,
)

# -- process -----------------------------------------------------------------------

SERVING = Gauge(
    "doctriage_serving",
    "1 while the sidecar reports SERVING, 0 otherwise (draining, no model ready, scanner down).",
    registry=REGISTRY,
)
START_TIME = Gauge(
    "doctriage_start_time_seconds",
    "Unix time the sidecar started.",
    registry=REGISTRY,
)


_exporter_lock = threading.Lock()
_exporter: tuple[Any, int] | None = None


def start_exporter(address: str = "127.0.0.1", port: int = 9464) -> int:
    """Serve REGISTRY at http://address:port/metrics (port 0: ephemeral); returns the port.

    One exporter per process: a second call returns the first one's port.
    """
    global _exporter
    with _exporter_lock:
        if _exporter is None:
            server, _thread = start_http_server(port, addr=address, registry=REGISTRY)
            _exporter = (server, server.server_port)
        return int(_exporter[1])
