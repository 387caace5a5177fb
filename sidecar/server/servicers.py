"""The Classifier service, thin: proto → domain, the data plane, domain → proto. No logic here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import structlog
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc

from sidecar.dataplane import DataPlane
from sidecar.server.convert import document_from_proto, error_response, response_from_result
from sidecar.server.errors import to_status
from sidecar.server.requestid import HEADER, request_id_from

log = structlog.get_logger(__name__)


def _time_left(context: grpc.aio.ServicerContext, default: float) -> float:
    left = context.time_remaining()
    return default if left is None else min(left, default)


class ClassifierServicer(classifier_pb2_grpc.ClassifierServicer):
    def __init__(self, dataplane: DataPlane, stream_window: int) -> None:
        self.dataplane = dataplane
        # Documents of one stream processed at once; more wait in the transport (flow control).
        self.stream_window = stream_window

    async def Classify(
        self, request: classifier_pb2.ClassifyRequest, context: grpc.aio.ServicerContext
    ) -> classifier_pb2.ClassifyResponse:
        request_id = request_id_from(context.invocation_metadata())
        context.set_trailing_metadata(((HEADER, request_id),))
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            doc = document_from_proto(request, request_id, _time_left(context, self._default_deadline))
            result = await self.dataplane.classify(doc)
        return response_from_result(result)

    async def ClassifyStream(
        self, request_iterator: AsyncIterator[classifier_pb2.ClassifyRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[classifier_pb2.ClassifyResponse]:
        stream_id = request_id_from(context.invocation_metadata())
        context.set_trailing_metadata(((HEADER, stream_id),))
        responses: asyncio.Queue[classifier_pb2.ClassifyResponse | None] = asyncio.Queue()
        window = asyncio.Semaphore(self.stream_window)

        async def one(request: classifier_pb2.ClassifyRequest, index: int) -> None:
            request_id = f"{stream_id}.{index}"
            try:
                with structlog.contextvars.bound_contextvars(request_id=request_id):
                    doc = document_from_proto(request, request_id, _time_left(context, self._default_deadline))
                    response = response_from_result(await self.dataplane.classify(doc))
            except Exception as exc:
                if not hasattr(exc, "reason"):
                    log.error("internal_error", request_id=request_id, exc_info=exc)
                response = error_response(request_id, request.client_ref, to_status(exc))
            finally:
                window.release()
            await responses.put(response)

        async def read_all() -> None:
            tasks: set[asyncio.Task[None]] = set()
            index = 0
            try:
                async for request in request_iterator:
                    await window.acquire()
                    task = asyncio.create_task(one(request, index))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    index += 1
                if tasks:
                    await asyncio.gather(*tasks)
            finally:
                await responses.put(None)

        reader = asyncio.create_task(read_all())
        try:
            while (response := await responses.get()) is not None:
                yield response
            await reader  # surfaces a transport error of the request side
        finally:
            reader.cancel()

    @property
    def _default_deadline(self) -> float:
        return self.dataplane.settings.server.default_deadline_s
