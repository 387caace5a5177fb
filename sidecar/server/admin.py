"""Admin RPCs of the inference engine: thresholds, traffic split, models, review queue.

Thin: proto ⇄ domain, then the data plane (validation, persistence and the audit line
live there). Mixed into `AdminServicer` (servicers.py), which provides `self.dataplane`.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
from doctriage.v1 import admin_pb2

from sidecar.errors import FailedPrecondition, InvalidRequest
from sidecar.models.registry import ModelEntry, ModelState
from sidecar.models.routing import TrafficSplit
from sidecar.pipeline.decide import Band, Thresholds
from sidecar.review.store import ReviewItem, ReviewStatus
from sidecar.risk.proto import rule_from_proto, rule_to_proto

if TYPE_CHECKING:
    from sidecar.dataplane import DataPlane

T = TypeVar("T")

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


class EngineAdmin:
    dataplane: DataPlane

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """Blocking work (model loads, SQLite) on the executor, never on the event loop."""
        # With this RPC's contextvars: the audit line there carries the caller's key_id and request_id.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self.dataplane.executor, context.run, fn, *args)

    # -- thresholds ----------------------------------------------------------

    async def GetThresholds(
        self, request: admin_pb2.GetThresholdsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Thresholds:
        t = self.dataplane.thresholds_for(request.model_version)
        return thresholds_to_proto(t)

    async def SetThresholds(
        self, request: admin_pb2.SetThresholdsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Thresholds:
        if not request.HasField("thresholds"):
            raise InvalidRequest("thresholds are required")
        current = self.dataplane.thresholds_for(request.thresholds.model_version)
        wanted = thresholds_from_proto(request.thresholds, current)
        return thresholds_to_proto(await self._run(self.dataplane.set_thresholds, wanted))

    # -- traffic split ---------------------------------------------------------

    async def GetTrafficSplit(
        self, request: admin_pb2.GetTrafficSplitRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.TrafficSplit:
        return split_to_proto(self.dataplane.split)

    async def SetTrafficSplit(
        self, request: admin_pb2.SetTrafficSplitRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.TrafficSplit:
        s = request.split
        weights: dict[str, float] = {}
        for vw in s.weights:
            if vw.version in weights:
                raise InvalidRequest(f"version {vw.version} appears twice")
            weights[vw.version] = vw.weight
        split = TrafficSplit(s.model_name or self.dataplane.split.model_name, weights, s.shadow_version, s.shadow_share)
        return split_to_proto(await self._run(self.dataplane.set_split, split))

    # -- models --------------------------------------------------------------

    async def LoadModel(
        self, request: admin_pb2.LoadModelRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ModelInfo:
        if not request.name or not request.version:
            raise InvalidRequest("name and version are required")
        entry = await self._run(self.dataplane.registry.load, request.name, request.version)
        await self._run(self.dataplane.remember_models)
        if entry.state is not ModelState.READY or entry.error:
            # entry.error with READY: the reload failed and the previous session still serves.
            raise FailedPrecondition(f"loading {request.name}/{request.version} failed: {entry.error}")
        self.dataplane.audit("load_model", model=f"{request.name}/{request.version}")
        return model_info(entry)

    async def UnloadModel(
        self, request: admin_pb2.UnloadModelRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ModelInfo:
        if not request.name or not request.version:
            raise InvalidRequest("name and version are required")
        entry = await self._run(self.dataplane.registry.unload, request.name, request.version)
        await self.dataplane.engine.release(request.name, request.version)
        await self._run(self.dataplane.remember_models)
        self.dataplane.audit("unload_model", model=f"{request.name}/{request.version}")
        return model_info(entry)

    # -- review queue ------------------------------------------------------------

    async def ListReviews(
        self, request: admin_pb2.ListReviewsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListReviewsResponse:
        status = _REVIEW_STATUS_IN.get(request.status)
        size = min(request.page_size or 50, self.dataplane.settings.review.max_page_size)
        page = await self._run(self.dataplane.reviews.list, status, request.label, size, request.page_token)
        return admin_pb2.ListReviewsResponse(
            items=[review_to_proto(i) for i in page.items], next_page_token=page.next_page_token, total=page.total
        )

    async def ClaimReview(
        self, request: admin_pb2.ClaimReviewRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ReviewItem:
        item = await self._run(self.dataplane.reviews.claim, request.reviewer, request.id, request.lease_seconds)
        self.dataplane.audit("claim_review", review_id=item.id, reviewer=request.reviewer)
        return review_to_proto(item)

    async def ResolveReview(
        self, request: admin_pb2.ResolveReviewRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ReviewItem:
        if not request.id:
            raise InvalidRequest("the review item id is required")
        item = await self._run(self.dataplane.resolve_review, request.id, request.true_label, request.reviewer)
        return review_to_proto(item)
