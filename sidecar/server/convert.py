"""proto ⇄ domain, at the edge only."""

from __future__ import annotations

import time

from doctriage.v1 import classifier_pb2 as pb
from google.rpc import status_pb2

from sidecar.domain import ClassifyResult, DecisionKind, Document, Source


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
