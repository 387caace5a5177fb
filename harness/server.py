"""Run the real sidecar on an ephemeral loopback port in a background thread (its own event loop)."""

from __future__ import annotations

import asyncio
import threading

from sidecar.config import Settings
from sidecar.server.app import SidecarServer


class ServerThread:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server: SidecarServer | None = None
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sidecar-under-test", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the sidecar did not start")
        if self._error is not None:
            raise self._error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def run_coroutine(self, coro: object, timeout: float = 30.0) -> object:
        """Run a coroutine on the server's loop (e.g. to inspect or change its state)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)  # type: ignore[arg-type]

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self.server = SidecarServer(self.settings)
            try:
                self.port = await self.server.start()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
                self._error = exc
                self._ready.set()
                return
            self._ready.set()
            await self._stop.wait()
            await self.server.stop()

        asyncio.run(main())
