"""The Admin service: status, stats and drift, thresholds, traffic split, models, review queue.

Thin: proto ⇄ domain, then `Control` (sidecar/dataplane/control.py), where validation,
persistence and the audit line live; stats and drift are read from the metrics registry and the
recorder (stats.py).
"""

from __future__ import annotations

import time

import grpc
from doctriage.v1 import admin_pb2, admin_pb2_grpc

from sidecar import __version__, hotpath
from sidecar.dataplane.control import Control
from sidecar.decision.decide import Band, Thresholds
from sidecar.decision.policy import Provenance
from sidecar.errors import InvalidRequest
from sidecar.inference.registry import ModelEntry, ModelState
from sidecar.inference.routing import TrafficSplit
from sidecar.observability.recorder import Recorder
from sidecar.review.store import ReviewItem, ReviewStatus
from sidecar.risk.proto import rule_from_proto, rule_to_proto
from sidecar.server import stats
from sidecar.server.health import HealthManager

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
_REVIEW_STATUS_IN = {v: k for k, v in _REVIEW_STATUS.items()}


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


class AdminServicer(admin_pb2_grpc.AdminServicer):
    def __init__(self, control: Control, recorder: Recorder, health: HealthManager, started_at: float) -> None:
        self.control = control
        self.recorder = recorder
        self.health = health
        self.started_at = started_at

    # -- status ------------------------------------------------------------------

    async def GetStatus(
        self, request: admin_pb2.GetStatusRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.GetStatusResponse:
        plane = self.control.plane
        thresholds, split_origin = self.control.origins()
        return admin_pb2.GetStatusResponse(
            version=__version__,
            uptime_seconds=time.monotonic() - self.started_at,
            models=[model_info(e) for e in self.control.models()],
            device=plane.registry.device(),
            config_digest=plane.settings.digest(),
            serving=not plane.draining and bool(plane.registry.ready()),
            hotpath=hotpath.IMPLEMENTATION,
            normalizer=plane.stages.normalizer.name,
            scanner_available=self.health.scanner_available,
            thresholds_origins=[provenance_to_proto(p) for p in thresholds],
            traffic_split_origin=split_origin.value,
        )

    async def GetStats(self, request: admin_pb2.GetStatsRequest, context: grpc.aio.ServicerContext) -> admin_pb2.Stats:
        return stats.collect_stats(self.recorder)

    async def GetDrift(
        self, request: admin_pb2.GetDriftRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.DriftReport:
        return stats.drift_report(self.recorder)

    # -- thresholds ----------------------------------------------------------

    async def GetThresholds(
        self, request: admin_pb2.GetThresholdsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Thresholds:
        return thresholds_to_proto(self.control.thresholds(request.model_version))

    async def SetThresholds(
        self, request: admin_pb2.SetThresholdsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Thresholds:
        if not request.HasField("thresholds"):
            raise InvalidRequest("thresholds are required")
        current = self.control.thresholds(request.thresholds.model_version)
        wanted = thresholds_from_proto(request.thresholds, current)
        return thresholds_to_proto(await self.control.set_thresholds(wanted))

    # -- traffic split ---------------------------------------------------------

    async def GetTrafficSplit(
        self, request: admin_pb2.GetTrafficSplitRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.TrafficSplit:
        return split_to_proto(self.control.split)

    async def SetTrafficSplit(
        self, request: admin_pb2.SetTrafficSplitRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.TrafficSplit:
        s = request.split
        weights: dict[str, float] = {}
        for vw in s.weights:
            if vw.version in weights:
                raise InvalidRequest(f"version {vw.version} appears twice")
            weights[vw.version] = vw.weight
        split = TrafficSplit(s.model_name or self.control.split.model_name, weights, s.shadow_version, s.shadow_share)
        return split_to_proto(await self.control.set_split(split))

    # -- models --------------------------------------------------------------

    async def ListModels(
        self, request: admin_pb2.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListModelsResponse:
        return admin_pb2.ListModelsResponse(models=[model_info(e) for e in self.control.models()])

    async def LoadModel(
        self, request: admin_pb2.LoadModelRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ModelInfo:
        return model_info(await self.control.load_model(request.name, request.version))

    async def UnloadModel(
        self, request: admin_pb2.UnloadModelRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ModelInfo:
        return model_info(await self.control.unload_model(request.name, request.version))

    # -- review queue ------------------------------------------------------------

    async def ListReviews(
        self, request: admin_pb2.ListReviewsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListReviewsResponse:
        status = _REVIEW_STATUS_IN.get(request.status)
        page = await self.control.list_reviews(status, request.label, request.page_size, request.page_token)
        return admin_pb2.ListReviewsResponse(
            items=[review_to_proto(i) for i in page.items], next_page_token=page.next_page_token, total=page.total
        )

    async def ClaimReview(
        self, request: admin_pb2.ClaimReviewRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ReviewItem:
        return review_to_proto(await self.control.claim_review(request.reviewer, request.id, request.lease_seconds))

    async def ResolveReview(
        self, request: admin_pb2.ResolveReviewRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ReviewItem:
        item = await self.control.resolve_review(request.id, request.true_label, request.reviewer)
        return review_to_proto(item)
