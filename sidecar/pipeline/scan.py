"""Stage: malware scan through a real clamd, over INSTREAM (unix or TCP socket).

`Scanner` keeps a small pool of IDSESSION connections (one command after another on one
socket, no reconnect per document), bounds the scans in flight, applies timeouts and sends
the document in chunks. clamd refuses INSTREAM data beyond its StreamMaxLength by replying
"INSTREAM size limit exceeded" and closing the socket; the client then sees a broken pipe
mid-send, so it stops sending and still reads that reply.

Failures map onto the error tree: malware -> InvalidDocument(MALWARE); clamd down, slow or
confused -> Unavailable(SCANNER_UNAVAILABLE) (fail-closed), or, only when
`scanner.fail_open` is set, the document passes with the flag SCAN_SKIPPED.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from dataclasses import dataclass

import structlog

from sidecar.config import ScannerSettings
from sidecar.errors import DeadlineExceeded, InvalidDocument, Reason, Unavailable

SCAN_SKIPPED = "SCAN_SKIPPED"

log = structlog.get_logger(__name__)

# clamd closes IDSESSION connections idle for IdleTimeout (60 s in deploy/clamav/clamd.conf.in);
# ours are dropped well before that.
_MAX_IDLE_S = 20.0
_MAX_REPLY = 4096


@dataclass(frozen=True, slots=True)
class ScanVerdict:
    clean: bool
    signature: str = ""  # clamd's signature name when not clean
    seconds: float = 0.0


class _ScannerDown(Exception):
    """clamd could not give a verdict (connection, timeout, protocol)."""


class _StaleConnection(_ScannerDown):
    """A pooled connection that clamd had already closed: worth one retry on a fresh one."""


class _Connection:
    """One IDSESSION on a raw non-blocking socket.

    Raw socket operations rather than asyncio streams: a stream transport that hits a broken
    pipe also fails every later read, but clamd's reply to an oversized INSTREAM is already
    waiting in our receive buffer when the pipe breaks, and must still be read.
    """

    __slots__ = ("buffer", "idle_since", "next_id", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.next_id = 1
        self.idle_since = time.monotonic()

    async def send(self, data: bytes | memoryview) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def command(self, command: bytes) -> str:
        """Send one z-command inside the session and return the reply for it."""
        ident = self.next_id
        self.next_id += 1
        try:
            await self.send(b"z" + command + b"\0")
        except OSError as exc:
            raise _StaleConnection(f"clamd connection failed: {exc!r}") from exc
        return await self.reply(ident)

    async def reply(self, ident: int) -> str:
        loop = asyncio.get_running_loop()
        while (end := self.buffer.find(b"\0")) < 0:
            if len(self.buffer) > _MAX_REPLY:
                raise _ScannerDown("clamd reply too long")
            try:
                data = await loop.sock_recv(self.sock, _MAX_REPLY)
            except OSError as exc:
                raise _StaleConnection(f"clamd connection failed: {exc!r}") from exc
            if not data:
                raise _StaleConnection("clamd closed the connection without a reply")
            self.buffer += data
        text = self.buffer[:end].decode("utf-8", "replace")
        del self.buffer[: end + 1]
        prefix = f"{ident}: "
        if not text.startswith(prefix):
            raise _ScannerDown(f"unexpected clamd reply {text[:80]!r}")
        return text[len(prefix) :]

    def close(self) -> None:
        self.sock.close()


class Scanner:
    """Async clamd client with connection reuse. Create once at startup; `close()` at shutdown."""

    def __init__(self, settings: ScannerSettings) -> None:
        address = settings.address
        if address.startswith("tcp:"):
            host, _, port = address[4:].rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"scanner address must be tcp:HOST:PORT, got {address!r}")
        elif not address.startswith("unix:") or len(address) == 5:
            raise ValueError(f"scanner address must be unix:/path or tcp:host:port, got {address!r}")
        self.settings = settings
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(settings.pool_size)
        self._closed = False

    # -- connections -------------------------------------------------------------------------

    async def _open(self) -> _Connection:
        address = self.settings.address
        loop = asyncio.get_running_loop()
        sock: socket.socket | None = None
        try:
            async with asyncio.timeout(self.settings.connect_timeout_s):
                if address.startswith("unix:"):
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    sock.setblocking(False)
                    await loop.sock_connect(sock, address[5:])
                elif address.startswith("tcp:"):
                    host, _, port = address[4:].rpartition(":")
                    family, kind, proto, _, target = (await loop.getaddrinfo(host, int(port), type=socket.SOCK_STREAM))[
                        0
                    ]
                    sock = socket.socket(family, kind, proto)
                    sock.setblocking(False)
                    await loop.sock_connect(sock, target)
                else:  # refused by __init__
                    raise ValueError(f"unknown scanner address {address!r}")
                await loop.sock_sendall(sock, b"zIDSESSION\0")
        except (OSError, TimeoutError) as exc:
            if sock is not None:
                sock.close()
            raise _ScannerDown(f"cannot connect to clamd at {address}: {exc!r}") from exc
        except BaseException:  # cancelled (the caller's deadline): do not leak the socket
            if sock is not None:
                sock.close()
            raise
        return _Connection(sock)

    def _take_idle(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if now - conn.idle_since < _MAX_IDLE_S:
                return conn
            self._end(conn)
        return None

    def _give_back(self, conn: _Connection) -> None:
        if self._closed or len(self._idle) >= self.settings.pool_size:
            self._end(conn)
            return
        conn.idle_since = time.monotonic()
        self._idle.append(conn)

    @staticmethod
    def _end(conn: _Connection) -> None:
        with contextlib.suppress(OSError):  # best effort: clamd may already have closed it
            conn.sock.send(b"zEND\0")
        conn.close()

    async def close(self) -> None:
        self._closed = True
        while self._idle:
            self._end(self._idle.pop())
        await asyncio.sleep(0)  # let the transports close

    # -- commands ----------------------------------------------------------------------------

    async def ping(self) -> bool:
        """True when clamd answers PING within the connect timeout (for health checks)."""
        try:
            async with asyncio.timeout(self.settings.connect_timeout_s * 2):
                conn = await self._open()
                try:
                    ok = await conn.command(b"PING") == "PONG"
                finally:
                    self._end(conn)
            return ok
        except (_ScannerDown, OSError, TimeoutError):
            return False

    async def version(self) -> str:
        conn = await self._open()
        try:
            return await conn.command(b"VERSION")
        finally:
            self._end(conn)

    async def scan(self, content: bytes, time_left: float | None = None) -> ScanVerdict:
        """Scan `content`. Raises InvalidDocument(TOO_LARGE) beyond clamd's stream limit,
        Unavailable(SCANNER_UNAVAILABLE) when clamd cannot give a verdict within
        `scan_timeout_s`, and DeadlineExceeded when the caller's `time_left` (seconds) runs out first."""
        budget = self.settings.scan_timeout_s
        caller_bound = time_left is not None and time_left < budget
        if time_left is not None and time_left <= 0:
            raise DeadlineExceeded("the deadline passed before the malware scan")
        if caller_bound:
            assert time_left is not None
            budget = time_left
        if len(content) > self.settings.stream_max_bytes:
            raise InvalidDocument(
                f"the document is {len(content)} bytes; the scanner accepts {self.settings.stream_max_bytes}",
                Reason.TOO_LARGE,
                limit=str(self.settings.stream_max_bytes),
            )
        started = time.monotonic()
        try:
            async with asyncio.timeout(budget):
                async with self._slots:
                    reply = await self._scan_with_retry(content)
        except TimeoutError as exc:
            if caller_bound:
                raise DeadlineExceeded("the deadline passed during the malware scan") from exc
            raise Unavailable(
                f"clamd gave no verdict within {self.settings.scan_timeout_s} s", Reason.SCANNER_UNAVAILABLE
            ) from exc
        except _ScannerDown as exc:
            raise Unavailable(f"the malware scanner is unavailable: {exc}", Reason.SCANNER_UNAVAILABLE) from exc
        elapsed = time.monotonic() - started
        if reply == "stream: OK":
            return ScanVerdict(clean=True, seconds=elapsed)
        if reply.endswith(" FOUND"):
            return ScanVerdict(clean=False, signature=reply.removeprefix("stream: ")[: -len(" FOUND")], seconds=elapsed)
        if "size limit exceeded" in reply:
            # clamd's StreamMaxLength is below our stream_max_bytes: a deployment mismatch.
            log.warning("clamd_stream_limit", size=len(content), configured=self.settings.stream_max_bytes)
            raise InvalidDocument("the document is larger than the malware scanner accepts", Reason.TOO_LARGE)
        raise Unavailable(f"clamd could not scan the document: {reply[:120]}", Reason.SCANNER_UNAVAILABLE)

    async def _scan_with_retry(self, content: bytes) -> str:
        conn = self._take_idle()
        if conn is not None:
            try:
                return await self._instream(conn, content)
            except _StaleConnection:
                pass  # clamd dropped the idle session under us; a fresh one decides
        return await self._instream(await self._open(), content)

    async def _instream(self, conn: _Connection, content: bytes) -> str:
        ident = conn.next_id
        conn.next_id += 1
        keep = False
        try:
            try:
                await conn.send(b"zINSTREAM\0")
                view = memoryview(content)
                step = self.settings.chunk_bytes
                for start in range(0, len(view), step):
                    chunk = view[start : start + step]
                    await conn.send(len(chunk).to_bytes(4, "big"))
                    await conn.send(chunk)
                await conn.send(b"\0\0\0\0")
            except (BrokenPipeError, ConnectionResetError):
                # clamd stopped reading (e.g. StreamMaxLength): its reply may still be waiting.
                return await conn.reply(ident)
            except OSError as exc:
                raise _StaleConnection(f"clamd connection failed: {exc!r}") from exc
            reply = await conn.reply(ident)
            # After an ERROR clamd ends the session; only clean/found replies leave it usable.
            keep = reply == "stream: OK" or reply.endswith(" FOUND")
            return reply
        finally:
            if keep:
                self._give_back(conn)
            else:
                conn.close()


async def scan_document(content: bytes, scanner: Scanner | None, time_left: float | None = None) -> tuple[str, ...]:
    """Scan one document; return the flags to put on the response (() or ("SCAN_SKIPPED",)).

    Raises InvalidDocument(MALWARE) for malware, Unavailable(SCANNER_UNAVAILABLE) when the
    scanner cannot give a verdict and is not configured to fail open, and DeadlineExceeded
    when `time_left` (the request's remaining seconds, `Document.time_left()`) runs out.
    """
    if scanner is None or not scanner.settings.enabled:
        return (SCAN_SKIPPED,)
    try:
        verdict = await scanner.scan(content, time_left)
    except Unavailable as exc:
        if scanner.settings.fail_open:
            log.warning("scan_skipped", error=exc.message)
            return (SCAN_SKIPPED,)
        raise
    if not verdict.clean:
        raise InvalidDocument(
            f"the malware scanner found {verdict.signature}", Reason.MALWARE, signature=verdict.signature
        )
    return ()
