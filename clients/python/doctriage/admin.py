"""AdminClient: the sidecar's Admin service (status, thresholds, traffic, models, review queue).

from doctriage import AdminClient
with AdminClient("127.0.0.1:50051", api_key=key) as admin:
    print(admin.get_status().serving)
    current = admin.get_thresholds("2.4")

Answers are the generated messages of doctriage.v1.admin_pb2 (the public contract); a failed
call raises the same DocTriageError subclasses as Client. Operators' tools (`doctriage-admin`,
shipped with the server) talk to the sidecar through this class.
"""

from __future__ import annotations

from typing import Any

import grpc

from doctriage.client import DEFAULT_ADDRESS, BaseClient
from doctriage.errors import from_rpc_error
from doctriage.v1 import admin_pb2, admin_pb2_grpc


class AdminClient(BaseClient):
    """Blocking client of the Admin service; use as a context manager or call close().

    Same address, timeout, API key and TLS handling as Client. With auth on, the key needs the `admin`
    role (the review calls: `review`)."""

    def __init__(self, address: str = DEFAULT_ADDRESS, **kwargs: Any) -> None:
        super().__init__(address, **kwargs)
        self._channel = self._sync_channel()
        self._stub = admin_pb2_grpc.AdminStub(self._channel)

    def _call(self, method: str, request: Any, timeout: float | None) -> Any:
        try:
            return getattr(self._stub, method)(request, timeout=timeout or self.timeout, metadata=self._metadata)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None

    # -- status ------------------------------------------------------------

    def get_status(self, *, timeout: float | None = None) -> admin_pb2.GetStatusResponse:
        return self._call("GetStatus", admin_pb2.GetStatusRequest(), timeout)  # type: ignore[no-any-return]

    def get_stats(self, *, timeout: float | None = None) -> admin_pb2.Stats:
        return self._call("GetStats", admin_pb2.GetStatsRequest(), timeout)  # type: ignore[no-any-return]

    def get_drift(self, *, timeout: float | None = None) -> admin_pb2.DriftReport:
        return self._call("GetDrift", admin_pb2.GetDriftRequest(), timeout)  # type: ignore[no-any-return]

    # -- thresholds and acceptance rules -------------------------------------

    def get_thresholds(self, model_version: str = "", *, timeout: float | None = None) -> admin_pb2.Thresholds:
        """A version's thresholds (its acceptance rule included); "" = the default entry."""
        request = admin_pb2.GetThresholdsRequest(model_version=model_version)
        return self._call("GetThresholds", request, timeout)  # type: ignore[no-any-return]

    def set_thresholds(self, thresholds: admin_pb2.Thresholds, *, timeout: float | None = None) -> admin_pb2.Thresholds:
        """Install (and persist) them; returns what the sidecar now applies."""
        request = admin_pb2.SetThresholdsRequest(thresholds=thresholds)
        return self._call("SetThresholds", request, timeout)  # type: ignore[no-any-return]

    # -- traffic and models ----------------------------------------------------

    def get_traffic_split(self, *, timeout: float | None = None) -> admin_pb2.TrafficSplit:
        return self._call("GetTrafficSplit", admin_pb2.GetTrafficSplitRequest(), timeout)  # type: ignore[no-any-return]

    def set_traffic_split(
        self, split: admin_pb2.TrafficSplit, *, timeout: float | None = None
    ) -> admin_pb2.TrafficSplit:
        request = admin_pb2.SetTrafficSplitRequest(split=split)
        return self._call("SetTrafficSplit", request, timeout)  # type: ignore[no-any-return]

    def list_models(self, *, timeout: float | None = None) -> list[admin_pb2.ModelInfo]:
        response = self._call("ListModels", admin_pb2.ListModelsRequest(), timeout)
        return list(response.models)

    def load_model(self, name: str, version: str, *, timeout: float | None = None) -> admin_pb2.ModelInfo:
        request = admin_pb2.LoadModelRequest(name=name, version=version)
        return self._call("LoadModel", request, timeout)  # type: ignore[no-any-return]

    def unload_model(self, name: str, version: str, *, timeout: float | None = None) -> admin_pb2.ModelInfo:
        request = admin_pb2.UnloadModelRequest(name=name, version=version)
        return self._call("UnloadModel", request, timeout)  # type: ignore[no-any-return]

    # -- review queue ----------------------------------------------------------

    def list_reviews(
        self,
        status: admin_pb2.ReviewStatus | str = admin_pb2.REVIEW_STATUS_UNSPECIFIED,
        *,
        label: str = "",
        page_size: int = 0,
        page_token: str = "",
        timeout: float | None = None,
    ) -> admin_pb2.ListReviewsResponse:
        """One page of the queue (status unspecified = all); pass next_page_token on for the next."""
        request = admin_pb2.ListReviewsRequest(status=status, label=label, page_size=page_size, page_token=page_token)
        return self._call("ListReviews", request, timeout)  # type: ignore[no-any-return]

    def claim_review(
        self, reviewer: str, item_id: str = "", *, lease_seconds: float = 0.0, timeout: float | None = None
    ) -> admin_pb2.ReviewItem:
        """Claim an item (default: the oldest pending one); the answer carries the document."""
        request = admin_pb2.ClaimReviewRequest(id=item_id, reviewer=reviewer, lease_seconds=lease_seconds)
        return self._call("ClaimReview", request, timeout)  # type: ignore[no-any-return]

    def resolve_review(
        self, item_id: str, true_label: str, reviewer: str, *, timeout: float | None = None
    ) -> admin_pb2.ReviewItem:
        request = admin_pb2.ResolveReviewRequest(id=item_id, true_label=true_label, reviewer=reviewer)
        return self._call("ResolveReview", request, timeout)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
