"""proto ⇄ domain, at the edge only: the Classifier's documents and answers, the Admin service's
thresholds, acceptance rules, traffic split, models and review items."""

from __future__ import annotations

import time

from doctriage.v1 import admin_pb2
from doctriage.v1 import classifier_pb2 as pb
from google.rpc import status_pb2

from sidecar.decision.decide import Band, Thresholds
from sidecar.decision.policy import Provenance
from sidecar.domain import ClassifyResult, DecisionKind, Document, Source
from sidecar.errors import InvalidRequest
from sidecar.inference.registry import ModelEntry, ModelState
from sidecar.inference.routing import TrafficSplit
from sidecar.review.items import ReviewItem, ReviewStatus
from sidecar.risk.rule import AcceptanceRule


def document_from_proto(request: pb.ClassifyRequest, request_id: str, time_left: float | None) -> Document:
    return Document(
        content=request.content,
        filename=request.filename,
        declared_mime=request.mime_type,
        routing_key=request.routing_key,
        metadata=dict(request.metadata),
        client_ref=request.client_ref,
        request_id=request_id,
        deadline=None if time_left is None else time.monotonic() + time_left,
    )


_DECISIONS = {
    DecisionKind.ACCEPTED: pb.ACCEPTED,
    DecisionKind.ACCEPTED_AFTER_RULES: pb.ACCEPTED_AFTER_RULES,
    DecisionKind.HUMAN_REVIEW: pb.HUMAN_REVIEW,
    DecisionKind.REJECTED: pb.REJECTED,
}
_SOURCES = {
    Source.MODEL: pb.MODEL,
    Source.CACHE: pb.CACHE,
    Source.FALLBACK_MODEL: pb.FALLBACK_MODEL,
    Source.RULES: pb.RULES,
    Source.DEGRADED: pb.DEGRADED,
}


def response_from_result(result: ClassifyResult) -> pb.ClassifyResponse:
    p, d = result.prediction, result.decision
    return pb.ClassifyResponse(
        request_id=result.request_id,
        client_ref=result.client_ref,
        label=p.label,
        confidence=p.confidence,
        scores=[pb.ClassScore(label=k, score=v) for k, v in sorted(p.scores.items(), key=lambda kv: -kv[1])],
        decision=_DECISIONS[d.kind],
        model_name=p.model_name,
        model_version=p.model_version,
        source=_SOURCES[p.source],
        review_id=d.review_id,
        rule_findings=[pb.RuleFinding(rule=f.rule, passed=f.passed, detail=f.detail) for f in d.findings],
        timings=result.timings,
        digest=result.inspection.digest,
        estimated_cost=result.estimated_cost,
        decision_reasons=list(d.reasons),
        ood_score=p.ood_score,
        flags=list(result.flags),
        content_type=result.inspection.kind.value,
    )


def error_response(request_id: str, client_ref: str, status: status_pb2.Status) -> pb.ClassifyResponse:
    return pb.ClassifyResponse(request_id=request_id, client_ref=client_ref, decision=pb.REJECTED, error=status)


# -- Admin ------------------------------------------------------------------------

_STATES = {
    ModelState.LOADING: admin_pb2.LOADING,
    ModelState.READY: admin_pb2.READY,
    ModelState.FAILED: admin_pb2.FAILED,
    ModelState.UNLOADED: admin_pb2.UNLOADED,
}
_REVIEW_STATUS = {
    ReviewStatus.PENDING: admin_pb2.PENDING,
    ReviewStatus.CLAIMED: admin_pb2.CLAIMED,
    ReviewStatus.RESOLVED: admin_pb2.RESOLVED,
}
REVIEW_STATUS_IN = {v: k for k, v in _REVIEW_STATUS.items()}


def model_info(entry: ModelEntry) -> admin_pb2.ModelInfo:
    model = entry.model
    return admin_pb2.ModelInfo(
        name=entry.name,
        version=entry.version,
        state=_STATES[entry.state],
        provider=model.provider if model else "",
        preprocessing_version=model.manifest.preprocessing_version if model else "",
        labels=list(model.manifest.labels) if model else [],
        error=entry.error,
        path=str(entry.path),
    )


def thresholds_to_proto(t: Thresholds) -> admin_pb2.Thresholds:
    msg = admin_pb2.Thresholds(
        default=admin_pb2.LabelThresholds(accept=t.accept, review_below=t.review_below),
        per_label={
            k: admin_pb2.LabelThresholds(accept=b.accept, review_below=b.review_below) for k, b in t.per_label.items()
        },
        model_version=t.model_version,
        provenance=t.provenance,
    )
    if t.rule is not None:
        msg.rule.CopyFrom(rule_to_proto(t.rule))
    if t.audit_rate is not None:
        msg.audit_rate = t.audit_rate
    return msg


def thresholds_from_proto(p: admin_pb2.Thresholds, current: Thresholds) -> Thresholds:
    accept, review_below = current.accept, current.review_below
    if p.HasField("default"):
        accept, review_below = p.default.accept, p.default.review_below
    try:
        rule = rule_from_proto(p.rule) if p.HasField("rule") else None
    except ValueError as exc:
        raise InvalidRequest(f"acceptance rule: {exc}") from None
    return Thresholds(
        accept=accept,
        review_below=review_below,
        per_label={k: Band(v.accept, v.review_below) for k, v in p.per_label.items()},
        model_version=p.model_version,
        provenance=p.provenance,
        rule=rule,
        audit_rate=p.audit_rate if p.HasField("audit_rate") else None,
    )


def split_to_proto(s: TrafficSplit) -> admin_pb2.TrafficSplit:
    return admin_pb2.TrafficSplit(
        model_name=s.model_name,
        weights=[admin_pb2.VersionWeight(version=v, weight=w) for v, w in s.weights.items()],
        shadow_version=s.shadow_version,
        shadow_share=s.shadow_share,
    )


def review_to_proto(item: ReviewItem) -> admin_pb2.ReviewItem:
    return admin_pb2.ReviewItem(
        id=item.id,
        digest=item.digest,
        predicted_label=item.predicted_label,
        confidence=item.confidence,
        reason=item.reason,
        status=_REVIEW_STATUS[item.status],
        claimed_by=item.claimed_by,
        true_label=item.true_label,
        created_at=item.created_at,
        model_version=item.model_version,
        audit=item.audit,
        content_type=item.content_type,
        content=item.content,
    )


def provenance_to_proto(p: Provenance) -> admin_pb2.ThresholdsOrigin:
    return admin_pb2.ThresholdsOrigin(
        model_version=p.model_version, bands=p.bands.value, rule=p.rule.value if p.rule is not None else ""
    )


# -- acceptance rules -----------------------------------------------------------------

_SCALARS = (
    "proven",
    "confidence_threshold",
    "require_agreement",
    "require_rules",
    "alpha",
    "delta",
    "n",
    "silent_failures",
    "accepted",
    "risk_upper",
    "coverage",
    "method",
    "hypotheses",
    "model_version",
    "created",
    "data_digest",
    "note",
    "second_model",
)


def rule_to_proto(rule: AcceptanceRule) -> admin_pb2.AcceptanceRule:
    d = rule.to_dict()
    msg = admin_pb2.AcceptanceRule(
        per_label=d["per_label"], excluded_labels=d["excluded_labels"], **{k: d[k] for k in _SCALARS}
    )
    if d["ood_threshold"] is not None:
        msg.ood_threshold = d["ood_threshold"]
    return msg


def rule_from_proto(msg: admin_pb2.AcceptanceRule) -> AcceptanceRule:
    """Validated; raises ValueError on a bad rule."""
    raw: dict[str, object] = {k: getattr(msg, k) for k in _SCALARS}
    raw["per_label"] = dict(msg.per_label)
    raw["excluded_labels"] = list(msg.excluded_labels) or ["other"]
    raw["ood_threshold"] = msg.ood_threshold if msg.HasField("ood_threshold") else None
    return AcceptanceRule.from_dict(raw)
