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
from sidecar.errors import InvalidRequest
from sidecar.inference.routing import TrafficSplit
from sidecar.observability.recorder import Recorder
from sidecar.server import stats
from sidecar.server.convert import (
    REVIEW_STATUS_IN,
    model_info,
    provenance_to_proto,
    review_to_proto,
    split_to_proto,
    thresholds_from_proto,
    thresholds_to_proto,
)
from sidecar.server.health import HealthManager


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
        status = self.control.status()
        return admin_pb2.GetStatusResponse(
            version=__version__,
            uptime_seconds=time.monotonic() - self.started_at,
            models=[model_info(e) for e in status.models],
            device=status.device,
            config_digest=status.config_digest,
            serving=status.serving,
            hotpath=hotpath.IMPLEMENTATION,
            normalizer=status.normalizer,
            scanner_available=self.health.scanner_available,
            thresholds_origins=[provenance_to_proto(p) for p in status.thresholds_origins],
            traffic_split_origin=status.traffic_split_origin.value,
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
        status = REVIEW_STATUS_IN.get(request.status)
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
