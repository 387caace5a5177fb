"""grpc.health.v1 per service, kept true by a small loop.

SERVING (overall "" and Classifier) only when a model version is READY, the malware
scanner answers PING (or is disabled, or configured fail-open) and the server is not
draining; Admin stays SERVING until the drain so operators can still look inside.
Transitions are logged once and reach Watch streams at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from grpc_health.v1 import health, health_pb2

from sidecar.config import ScannerSettings
from sidecar.observability import metrics as m
from sidecar.pipeline.scan import Scanner

log = structlog.get_logger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class HealthManager:
    def __init__(
        self,
        services: tuple[str, ...],
        admin_service: str,
        models_ready: Callable[[], bool],
        scanner: ScannerSettings,
        interval_s: float = 2.0,
    ) -> None:
        self.servicer = health.aio.HealthServicer()
        self.services = services
        self.admin_service = admin_service
        self.models_ready = models_ready
        self.scanner = scanner
        # Its own client: a health probe must not take a slot of the scanning pool.
        self._probe = Scanner(scanner) if scanner.enabled else None
        self.interval_s = interval_s
        self.draining = False
        self.scanner_available = False
        self.serving: bool | None = None
        self._task: asyncio.Task[None] | None = None

    async def check_scanner(self) -> bool:
        if self._probe is None:
            self.scanner_available = False
            return True
        if self.draining:
            return self.scanner_available or self.scanner.fail_open
        assert self._probe is not None
        self.scanner_available = await self._probe.ping()
        return self.scanner_available or self.scanner.fail_open

    async def refresh(self) -> bool:
        scanner_ok = await self.check_scanner()
        serving = not self.draining and self.models_ready() and scanner_ok
        if serving != self.serving:
            log.info(
                "health",
                serving=serving,
                draining=self.draining,
                models_ready=self.models_ready(),
                scanner_available=self.scanner_available,
            )
        self.serving = serving
        m.SERVING.set(1 if serving else 0)
        status = SERVING if serving else NOT_SERVING
        for service in ("", *self.services):
            await self.servicer.set(service, status)
        await self.servicer.set(self.admin_service, NOT_SERVING if self.draining else SERVING)
        return serving

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - the loop must outlive one failed check
                log.warning("health_check_failed", error=type(exc).__name__)

    async def drain(self) -> None:
        self.draining = True
        await self.stop_loop()
        await self.refresh()
        # Watch streams would otherwise keep the server's drain waiting for the grace period.
        await self.servicer.enter_graceful_shutdown()

    async def stop_loop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._probe is not None:
            await self._probe.close()
