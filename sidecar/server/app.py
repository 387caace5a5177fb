"""The grpc.aio server: services, health, reflection, limits and graceful shutdown."""

from __future__ import annotations

import asyncio
import signal
import time

import grpc
import structlog
from doctriage.v1 import admin_pb2, admin_pb2_grpc, classifier_pb2, classifier_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from sidecar.config import Settings
from sidecar.dataplane import DataPlane
from sidecar.models.registry import ModelRegistry
from sidecar.server.errors import ErrorInterceptor
from sidecar.server.servicers import AdminServicer, ClassifierServicer

log = structlog.get_logger(__name__)

CLASSIFIER = classifier_pb2.DESCRIPTOR.services_by_name["Classifier"].full_name
ADMIN = admin_pb2.DESCRIPTOR.services_by_name["Admin"].full_name
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _device_name(registry: ModelRegistry) -> str:
    providers = {m.provider for m in registry.ready()}
    return "cuda" if "CUDAExecutionProvider" in providers else "cpu"


class SidecarServer:
    """Owns the server and everything it serves; `start`, then `stop` (or `serve_until_signal`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started_at = time.monotonic()
        self.registry = ModelRegistry(settings.models)
        self.dataplane = DataPlane(settings, self.registry)
        self.port = 0
        self._stopped = asyncio.Event()

    def load_models(self) -> None:
        m = self.settings.models
        self.registry.load(m.name, m.default_version)

    async def start(self) -> int:
        # grpc.aio objects bind to the running loop: create them here, not in __init__.
        self.health = health.aio.HealthServicer()
        # gRPC's own limit sits above ours so that a document a little too big gets our
        # documented TOO_LARGE instead of a transport error.
        max_message = 2 * self.settings.validation.max_bytes + 1024 * 1024
        self.server = grpc.aio.server(
            interceptors=[ErrorInterceptor()],
            options=[
                ("grpc.max_receive_message_length", max_message),
                ("grpc.max_send_message_length", max_message),
                ("grpc.so_reuseport", 0),
            ],
            maximum_concurrent_rpcs=self.settings.server.max_concurrent_requests * 4,
        )
        await asyncio.get_running_loop().run_in_executor(self.dataplane.executor, self.load_models)
        classifier_pb2_grpc.add_ClassifierServicer_to_server(
            ClassifierServicer(self.dataplane, stream_window=2 * self.settings.server.workers + 2), self.server
        )
        admin_pb2_grpc.add_AdminServicer_to_server(
            AdminServicer(self.dataplane, _device_name(self.registry), self.started_at), self.server
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (CLASSIFIER, ADMIN, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
            self.server,
        )
        self.port = self.server.add_insecure_port(self.settings.server.address)
        if self.port == 0:
            raise RuntimeError(f"cannot bind {self.settings.server.address}")
        await self.server.start()
        await self._set_health()
        log.info("serving", address=self.settings.server.address, port=self.port, device=_device_name(self.registry))
        return self.port

    async def _set_health(self) -> None:
        ready = bool(self.registry.ready()) and not self.dataplane.draining
        await self.health.set("", SERVING if ready else NOT_SERVING)
        await self.health.set(CLASSIFIER, SERVING if ready else NOT_SERVING)
        await self.health.set(ADMIN, NOT_SERVING if self.dataplane.draining else SERVING)

    async def stop(self, grace: float | None = None) -> None:
        """Graceful: NOT_SERVING, refuse new RPCs, let accepted ones finish within the grace period."""
        if self._stopped.is_set():
            return
        grace = self.settings.server.grace_period_s if grace is None else grace
        log.info("draining", in_flight=self.dataplane.in_flight, grace_s=grace)
        self.dataplane.draining = True
        await self._set_health()
        # grpc refuses new RPCs at once and cancels whatever is still running after `grace`.
        await self.server.stop(grace)
        drained = self.dataplane.in_flight == 0
        self.dataplane.close()
        self._stopped.set()
        log.info("stopped", drained=drained)

    async def serve_until_signal(self) -> None:
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop_requested.set)
        await self.start()
        await stop_requested.wait()
        await self.stop()
