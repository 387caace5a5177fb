"""The grpc.aio server: services, gateway, health, reflection, metrics, limits and graceful shutdown."""

from __future__ import annotations

import asyncio
import signal
import time

import grpc
import structlog
from doctriage.v1 import admin_pb2, admin_pb2_grpc, classifier_pb2, classifier_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from sidecar.config import AuthSettings, Settings
from sidecar.dataplane import DataPlane
from sidecar.dataplane.control import Control
from sidecar.inference.registry import ModelRegistry
from sidecar.observability import metrics
from sidecar.server.admin import AdminServicer
from sidecar.server.auth import Authenticator
from sidecar.server.errors import ErrorInterceptor
from sidecar.server.gateway import GatewayInterceptor
from sidecar.server.health import HealthManager
from sidecar.server.ratelimit import RateLimiter
from sidecar.server.servicers import ClassifierServicer

log = structlog.get_logger(__name__)

# Drain: stop once no call was refused for this long (see SidecarServer._quiesce).
_QUIET_S = 0.2
CLASSIFIER = classifier_pb2.DESCRIPTOR.services_by_name["Classifier"].full_name
ADMIN = admin_pb2.DESCRIPTOR.services_by_name["Admin"].full_name


def server_credentials(auth: AuthSettings) -> grpc.ServerCredentials | None:
    """TLS when a certificate and key are configured; mutual TLS when a client CA is too."""
    if auth.tls_cert_file is None and auth.tls_key_file is None:
        return None
    if auth.tls_cert_file is None or auth.tls_key_file is None:
        raise ValueError("auth.tls_cert_file and auth.tls_key_file must be set together")
    ca = auth.client_ca_file.read_bytes() if auth.client_ca_file is not None else None
    return grpc.ssl_server_credentials(
        [(auth.tls_key_file.read_bytes(), auth.tls_cert_file.read_bytes())],
        root_certificates=ca,
        require_client_auth=ca is not None,
    )


class SidecarServer:
    """Owns the server and everything it serves; `start`, then `stop` (or `serve_until_signal`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started_at = time.monotonic()
        self.registry = ModelRegistry(settings.models)
        self.dataplane = DataPlane(settings, self.registry)
        self.control = Control(self.dataplane)
        self.port = 0
        self.metrics_port = 0
        self.health_port = 0
        self.health_server: grpc.aio.Server | None = None
        self._stopped = asyncio.Event()

    def load_models(self) -> None:
        # Control knows which versions the split, the shadow, the cascade and the fallback need.
        self.control.load_startup_models()

    def _models_ready(self) -> bool:
        ready = bool(self.registry.ready())
        metrics.MODEL_INFO.clear()
        for entry in self.registry.entries():
            metrics.MODEL_INFO.labels(
                name=entry.name,
                version=entry.version,
                provider=entry.model.provider if entry.model is not None else "",
                state=entry.state.value,
            ).set(1)
        return ready

    async def start(self) -> int:
        settings = self.settings
        if not settings.auth.enabled:
            log.warning("auth_disabled", detail="every caller has every role; enable auth outside tests")
        elif not settings.auth.keys:
            log.warning("auth_no_keys", detail="auth is enabled but no API key is configured: every RPC is refused")
        # grpc.aio objects bind to the running loop: create them here, not in __init__.
        self.health = HealthManager((CLASSIFIER,), ADMIN, self._models_ready, settings.scanner)
        self.gateway = gateway = GatewayInterceptor(Authenticator(settings.auth), RateLimiter(settings.rate_limit))
        # gRPC's own limit sits above ours so that a document a little too big gets our
        # documented TOO_LARGE instead of a transport error.
        max_message = 2 * settings.validation.max_bytes + 1024 * 1024
        self.server = grpc.aio.server(
            # The error interceptor is outermost: it maps what the gateway raises too.
            interceptors=[ErrorInterceptor(), gateway],
            options=[
                ("grpc.max_receive_message_length", max_message),
                ("grpc.max_send_message_length", max_message),
                ("grpc.so_reuseport", 0),
            ],
            # Admission (sidecar/dataplane/admission.py) decides who waits and who is shed; gRPC's own cap only
            # leaves room for it and for health, admin and stream calls.
            maximum_concurrent_rpcs=settings.server.max_concurrent_requests + settings.server.queue_limit + 64,
        )
        await asyncio.get_running_loop().run_in_executor(self.dataplane.executor, self.load_models)
        classifier_pb2_grpc.add_ClassifierServicer_to_server(
            ClassifierServicer(self.dataplane, stream_window=2 * settings.server.workers + 2), self.server
        )
        admin_pb2_grpc.add_AdminServicer_to_server(
            AdminServicer(self.control, self.dataplane.recorder, self.health, self.started_at), self.server
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health.servicer, self.server)
        reflection.enable_server_reflection(
            (CLASSIFIER, ADMIN, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
            self.server,
        )
        credentials = server_credentials(settings.auth)
        if credentials is None:
            self.port = self.server.add_insecure_port(settings.server.address)
        else:
            self.port = self.server.add_secure_port(settings.server.address, credentials)
        if self.port == 0:
            raise RuntimeError(f"cannot bind {settings.server.address}")
        self.health_port = await self._start_health_listener()
        metrics.START_TIME.set(time.time())
        if settings.metrics.enabled:
            self.metrics_port = metrics.start_exporter(settings.metrics.address, settings.metrics.port)
        await self.server.start()
        await self.health.refresh()
        self.health.start()
        log.info(
            "serving",
            address=settings.server.address,
            port=self.port,
            tls=credentials is not None,
            mtls=settings.auth.client_ca_file is not None,
            auth=settings.auth.enabled,
            metrics_port=self.metrics_port,
            health_port=self.health_port or None,
            device=self.registry.device(),
            normalizer=self.dataplane.stages.normalizer.name,
            normalizer_device=self.dataplane.stages.normalizer.device,
        )
        return self.port

    async def _start_health_listener(self) -> int:
        """server.health_address: a plaintext server with the health service only (the same servicer, so
        it says what the main port's health says, draining included); 0 when there is none."""
        address = self.settings.server.health_address
        if not address:
            return 0
        self.health_server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(self.health.servicer, self.health_server)
        port: int = self.health_server.add_insecure_port(address)
        if port == 0:
            raise RuntimeError(f"cannot bind {address} (server.health_address)")
        await self.health_server.start()
        return port

    async def stop(self, grace: float | None = None) -> None:
        """Graceful: NOT_SERVING, refuse new RPCs, let accepted ones finish within the grace period."""
        if self._stopped.is_set():
            return
        grace = self.settings.server.grace_period_s if grace is None else grace
        log.info("draining", in_flight=self.dataplane.in_flight, grace_s=grace)
        deadline = time.monotonic() + grace
        self.dataplane.draining = True
        self.gateway.draining = True  # new documents: UNAVAILABLE (SHUTTING_DOWN), retryable elsewhere
        await self.health.drain()
        await self._quiesce(deadline)
        # grpc refuses new RPCs at once and cancels whatever is still running after the rest of
        # `grace`. Once no call of ours is left, only open streams (health Watch) remain: cut them.
        remaining = max(0.0, deadline - time.monotonic())
        await self.server.stop(0.0 if self.gateway.active == 0 else remaining)
        if self.health_server is not None:
            await self.health_server.stop(0.0)  # NOT_SERVING was said there too, all through the drain
        drained = self.dataplane.in_flight == 0
        await self.dataplane.aclose()  # batchers and shadow tasks
        self.dataplane.close()  # the executor, then the review store (WAL checkpoint on close)
        self._stopped.set()
        log.info("stopped", drained=drained)

    async def _quiesce(self, deadline: float) -> None:
        """Until the deadline: wait for in-flight calls, and for callers to stop sending.

        Calls that reach grpc after `server.stop` are cancelled at the transport (CANCELLED, which
        a client cannot tell from a lost request); until then they get our UNAVAILABLE
        (SHUTTING_DOWN). So stop only once nothing is in flight and no call was refused for
        `_QUIET_S` (an idle server stops at once, a busy one after its callers went elsewhere).
        """
        started = time.monotonic()
        while (now := time.monotonic()) < deadline:
            busy = self.dataplane.in_flight > 0 or self.gateway.active > 0
            if not busy and now - max(started, self.gateway.last_refused) >= _QUIET_S:
                return
            await asyncio.sleep(0.01)

    async def serve_until_signal(self) -> None:
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop_requested.set)
        await self.start()
        await stop_requested.wait()
        await self.stop()
