"""The load generator's callers (harness.load.Call): gRPC unary and bidirectional streaming over
grpc.aio, and HTTP/1.1 over asyncio streams with h11 (keep-alive connections, one per request in
flight) for FastAPI's multipart upload and Triton's KServe v2 binary-tensor requests.

Each is an async context manager that yields `call(index, due) -> Outcome`, latency counted from
`due` (harness.load: the open loop passes the time a call was due, so queueing is never hidden)."""

from __future__ import annotations

import asyncio
import itertools
import json
import struct
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc

from bench.compare.corpus import Doc
from harness.load import Call, Observe, Outcome, unary_call

CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)]


def grpc_requests(docs: Sequence[Doc]) -> list[classifier_pb2.ClassifyRequest]:
    return [classifier_pb2.ClassifyRequest(content=d.content, filename=d.filename, mime_type=d.mime) for d in docs]


@asynccontextmanager
async def grpc_unary(
    address: str, docs: Sequence[Doc], deadline_s: float, observe: Observe | None = None
) -> AsyncIterator[Call]:
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        await channel.channel_ready()
        yield unary_call(classifier_pb2_grpc.ClassifierStub(channel), grpc_requests(docs), deadline_s, observe)


@asynccontextmanager
async def grpc_stream(
    address: str, docs: Sequence[Doc], deadline_s: float, observe: Observe | None = None
) -> AsyncIterator[Call]:
    """One ClassifyStream for the whole phase: each call writes one request (its own client_ref) and
    waits for the response that echoes it; as many calls in flight on the stream as the loop makes."""
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        await channel.channel_ready()
        stub = classifier_pb2_grpc.ClassifierStub(channel)
        outbox: asyncio.Queue[classifier_pb2.ClassifyRequest | None] = asyncio.Queue()
        waiting: dict[str, asyncio.Future[classifier_pb2.ClassifyResponse]] = {}
        broken: list[grpc.aio.AioRpcError] = []

        async def requests() -> AsyncIterator[classifier_pb2.ClassifyRequest]:
            while (request := await outbox.get()) is not None:
                yield request

        stream = stub.ClassifyStream(requests())

        async def read() -> None:
            try:
                async for response in stream:
                    future = waiting.pop(response.client_ref, None)
                    if future is not None and not future.done():
                        future.set_result(response)
            except grpc.aio.AioRpcError as error:
                broken.append(error)
            for future in waiting.values():  # the stream ended: nobody else will answer them
                if not future.done():
                    future.set_exception(ConnectionError("the stream ended"))

        reader = asyncio.create_task(read())
        refs = itertools.count()
        loop = asyncio.get_running_loop()

        async def call(i: int, due: float) -> Outcome:
            if reader.done():  # the stream is over: nothing sent on it would be answered
                now = time.monotonic()
                return Outcome(broken[0].code().name if broken else "STREAM_ENDED", "stream", now - due, None, now, i)
            ref = str(next(refs))
            future: asyncio.Future[classifier_pb2.ClassifyResponse] = loop.create_future()
            waiting[ref] = future
            d = docs[i]
            outbox.put_nowait(
                classifier_pb2.ClassifyRequest(content=d.content, filename=d.filename, mime_type=d.mime, client_ref=ref)
            )
            try:
                response = await asyncio.wait_for(future, deadline_s)
            except TimeoutError:
                waiting.pop(ref, None)
                now = time.monotonic()
                return Outcome("DEADLINE_EXCEEDED", "client", now - due, None, now, i)
            except ConnectionError:
                now = time.monotonic()
                code = broken[0].code().name if broken else "STREAM_ENDED"
                return Outcome(code, "stream", now - due, None, now, i)
            now = time.monotonic()
            if response.HasField("error") and response.error.code != 0:
                code = CODE_NAMES.get(response.error.code, str(response.error.code))
                return Outcome(code, "", now - due, None, now, i)
            if observe is not None:
                observe(response)
            return Outcome("OK", "", now - due, None, now, i)

        try:
            yield call
        finally:
            outbox.put_nowait(None)
            try:
                await asyncio.wait_for(reader, 10)
            except TimeoutError:
                stream.cancel()


# -- HTTP/1.1 -------------------------------------------------------------------------------------


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        import h11

        self.reader, self.writer = reader, writer
        self.h11 = h11.Connection(h11.CLIENT)

    async def request(self, host: str, path: str, headers: list[tuple[str, str]], body: bytes) -> tuple[int, bytes]:
        import h11

        all_headers = [("Host", host), ("Content-Length", str(len(body))), *headers]
        head = self.h11.send(h11.Request(method="POST", target=path, headers=all_headers)) or b""
        data = self.h11.send(h11.Data(data=body)) or b""
        end = self.h11.send(h11.EndOfMessage()) or b""
        self.writer.write(head + data + end)  # one write: no small segment left waiting for an ACK
        await self.writer.drain()
        status, chunks = 0, []
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                data = await self.reader.read(65536)
                self.h11.receive_data(data)  # b"" = the server closed: h11 raises on the next event if early
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return status, b"".join(chunks)
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("closed before the response ended")

    def reusable(self) -> bool:
        import h11

        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            return True
        return False

    def close(self) -> None:
        self.writer.close()


@dataclass(frozen=True, slots=True)
class HttpRequest:
    path: str
    headers: list[tuple[str, str]]
    body: bytes


class HttpPool:
    """Keep-alive connections to one server: an idle one when there is one, else a new one."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[_Connection] = []

    async def post(self, request: HttpRequest) -> tuple[int, bytes]:
        conn = self.idle.pop() if self.idle else _Connection(*await asyncio.open_connection(self.host, self.port))
        try:
            status, body = await conn.request(f"{self.host}:{self.port}", request.path, request.headers, request.body)
        except BaseException:
            conn.close()
            raise
        if conn.reusable():
            self.idle.append(conn)
        else:
            conn.close()
        return status, body

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


@asynccontextmanager
async def http_post(
    host: str, port: int, requests: Sequence[HttpRequest], deadline_s: float, check: Callable[[bytes], None] = id
) -> AsyncIterator[Call]:
    pool = HttpPool(host, port)

    async def call(i: int, due: float) -> Outcome:
        try:
            status, body = await asyncio.wait_for(pool.post(requests[i]), deadline_s)
        except TimeoutError:
            now = time.monotonic()
            return Outcome("DEADLINE_EXCEEDED", "client", now - due, None, now, i)
        except (OSError, ConnectionError, EOFError) as exc:
            now = time.monotonic()
            return Outcome("CONNECTION_ERROR", type(exc).__name__, now - due, None, now, i)
        except Exception as exc:  # noqa: BLE001 - h11's protocol errors: counted, the run goes on
            now = time.monotonic()
            return Outcome("PROTOCOL_ERROR", type(exc).__name__, now - due, None, now, i)
        now = time.monotonic()
        if status != 200:
            return Outcome(f"HTTP_{status}", body[:80].decode("utf-8", "replace"), now - due, None, now, i)
        check(body)
        return Outcome("OK", "", now - due, None, now, i)

    try:
        yield call
    finally:
        pool.close()


BOUNDARY = "doctriage-bench-8f3c1e"


def multipart(doc: Doc, path: str = "/classify") -> HttpRequest:
    """What `requests.post(url, files={"file": (name, bytes, mime)})` sends."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{doc.filename}"\r\n'
        f"Content-Type: {doc.mime}\r\n\r\n"
    ).encode()
    body = head + doc.content + f"\r\n--{BOUNDARY}--\r\n".encode()
    return HttpRequest(path, [("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")], body)


def triton_infer(doc: Doc, model: str) -> HttpRequest:
    """KServe v2 `POST /v2/models/<model>/infer` with the binary tensor extension: a JSON header, then
    the one BYTES element (4-byte little-endian length, the document); the answer comes back as JSON."""
    data = struct.pack("<I", len(doc.content)) + doc.content
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "document",
                    "shape": [1, 1],
                    "datatype": "BYTES",
                    "parameters": {"binary_data_size": len(data)},
                }
            ],
            "outputs": [
                {"name": "label", "parameters": {"binary_data": False}},
                {"name": "confidence", "parameters": {"binary_data": False}},
            ],
        }
    ).encode()
    headers = [("Content-Type", "application/octet-stream"), ("Inference-Header-Content-Length", str(len(header)))]
    return HttpRequest(f"/v2/models/{model}/infer", headers, header + data)
