"""The gateway interceptor: request id, authentication + role, rate limit, request metrics.

It sits inside the error interceptor: what it raises (Unauthenticated, PermissionDenied,
ResourceExhausted) leaves as the documented status. Health and reflection pass untouched.

Per RPC: the request id is fixed (the caller's `x-request-id` when valid, else a UUIDv7)
and bound into structlog's contextvars with the caller's key id; the caller is
authenticated and its role checked; one rate-limit token is taken (per stream message
on ClassifyStream: a message over the limit is answered in the stream with a
RESOURCE_EXHAUSTED item carrying RetryInfo, and the stream goes on); requests,
latency, in-flight and errors are counted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import structlog
from doctriage.v1 import classifier_pb2
from google.rpc import code_pb2, error_details_pb2

from sidecar import errors as e
from sidecar.observability import metrics as m
from sidecar.observability.recorder import current_rpc
from sidecar.server import requestid
from sidecar.server.auth import Authenticator, Principal, current_principal, required_role
from sidecar.server.convert import error_response
from sidecar.server.errors import WrappingInterceptor, status_code_of, to_status
from sidecar.server.ratelimit import RateLimiter

log = structlog.get_logger(__name__)

# Refusals with their own counters: not "errors by category" (they would drown the real ones).
_NOT_ERRORS = frozenset(
    {e.Reason.UNAUTHENTICATED, e.Reason.PERMISSION_DENIED, e.Reason.RATE_LIMITED, e.Reason.SHUTTING_DOWN}
)
_CODE_NAMES = {v: k for k, v in code_pb2.Code.items()}
_DONE = object()


def _peer_key(context: grpc.aio.ServicerContext) -> str:
    peer: str = context.peer() or "unknown"
    # "ipv4:127.0.0.1:5555": the host, not the port (one client, many connections).
    return "peer:" + peer.rsplit(":", 1)[0]


class GatewayInterceptor(WrappingInterceptor):
    def __init__(self, authenticator: Authenticator, limiter: RateLimiter) -> None:
        super().__init__()
        self.authenticator = authenticator
        self.limiter = limiter
        # Set on SIGTERM: new Classifier calls get a clean, retryable UNAVAILABLE (SHUTTING_DOWN)
        # while the accepted ones finish, instead of transport-level cancellation at server stop.
        self.draining = False
        self.last_refused = 0.0  # time.monotonic() of the last call refused because of the drain
        # Calls of this gateway's services running now (not health/reflection): the drain waits
        # for these, while open Watch streams are simply cut when it ends.
        self.active = 0

    def _wrap(self, handler: grpc.RpcMethodHandler[Any, Any], method: str) -> grpc.RpcMethodHandler[Any, Any]:
        service, _, rpc = method.lstrip("/").partition("/")
        role = required_role(service, rpc)
        if role is None:
            return handler
        kwargs = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(self._unary(handler.unary_unary, rpc, role), **kwargs)
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(self._stream(handler.stream_stream, rpc, role), **kwargs)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(self._unary_stream(handler.unary_stream, rpc, role), **kwargs)
        return grpc.stream_unary_rpc_method_handler(self._unary(handler.stream_unary, rpc, role), **kwargs)

    # -- admission -------------------------------------------------------------

    def _begin(self, context: grpc.aio.ServicerContext, rpc: str) -> str:
        metadata = context.invocation_metadata()
        request_id = requestid.request_id_from(metadata)
        requestid.assigned.set(request_id)
        current_rpc.set(rpc)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        context.set_trailing_metadata(((requestid.HEADER, request_id),))
        return request_id

    def _authenticate(self, context: grpc.aio.ServicerContext, role: str) -> Principal:
        try:
            principal = self.authenticator.authenticate(context.invocation_metadata(), role)
        except e.Unauthenticated:
            m.AUTH_FAILURES.labels(outcome="unauthenticated").inc()
            log.info("auth_refused", outcome="unauthenticated")
            raise
        except e.PermissionDenied:
            m.AUTH_FAILURES.labels(outcome="permission_denied").inc()
            log.info("auth_refused", outcome="permission_denied", role=role)
            raise
        current_principal.set(principal)
        structlog.contextvars.bind_contextvars(key_id=principal.key_id)
        return principal

    def _admit(self, role: str) -> None:
        if self.draining and role == "classify":
            self.last_refused = time.monotonic()
            raise e.Unavailable("the sidecar is shutting down", e.Reason.SHUTTING_DOWN)

    def _take_token(self, principal: Principal, context: grpc.aio.ServicerContext) -> None:
        key = principal.key_id if self.authenticator.enabled else _peer_key(context)
        retry_after = self.limiter.try_acquire(key, principal.rate_per_s, principal.burst)
        if retry_after > 0:
            m.RATE_LIMITED.inc()
            log.debug("rate_limited", retry_after_s=round(retry_after, 4))
            raise e.ResourceExhausted("rate limit exceeded", e.Reason.RATE_LIMITED, retry_after=retry_after)

    # -- unary -------------------------------------------------------------------

    def _unary(self, behavior: Callable[..., Any], rpc: str, role: str) -> Callable[..., Any]:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            code = "OK"
            m.IN_FLIGHT.inc()
            self.active += 1
            try:
                self._begin(context, rpc)
                principal = self._authenticate(context, role)
                self._admit(role)
                self._take_token(principal, context)
                return await behavior(request, context)
            except e.DocTriageError as exc:
                code = status_code_of(exc).name
                if exc.reason not in _NOT_ERRORS:
                    m.ERRORS.labels(reason=exc.reason.value).inc()
                raise
            except grpc.aio.AbortError:
                code = _code_name(context)
                raise
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except Exception:
                code = "INTERNAL"
                m.ERRORS.labels(reason=e.Reason.INTERNAL.value).inc()
                raise
            finally:
                elapsed = time.perf_counter() - started
                self.active -= 1
                m.IN_FLIGHT.dec()
                m.REQUESTS.labels(rpc=rpc, code=code).inc()
                m.REQUEST_DURATION.labels(rpc=rpc, stage="total").observe(elapsed)
                if role != "classify":  # documents get the data plane's canonical line
                    log.info("rpc", rpc=rpc, code=code, latency_s=round(elapsed, 6))

        return wrapper

    def _unary_stream(self, behavior: Callable[..., Any], rpc: str, role: str) -> Callable[..., Any]:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            self._begin(context, rpc)
            principal = self._authenticate(context, role)
            self._take_token(principal, context)
            async for response in behavior(request, context):
                yield response

        return wrapper

    # -- ClassifyStream: every message counts ---------------------------------------

    def _stream(self, behavior: Callable[..., Any], rpc: str, role: str) -> Callable[..., Any]:
        async def wrapper(
            request_iterator: AsyncIterator[Any], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            self.active += 1
            try:
                async for item in self._stream_items(behavior, rpc, role, request_iterator, context):
                    yield item
            finally:
                self.active -= 1

        return wrapper

    async def _stream_items(
        self,
        behavior: Callable[..., Any],
        rpc: str,
        role: str,
        request_iterator: AsyncIterator[Any],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[Any]:
        stream_id = self._begin(context, rpc)
        principal = self._authenticate(context, role)
        self._admit(role)
        out: asyncio.Queue[Any] = asyncio.Queue()
        pending = 0  # messages handed to the servicer and not yet answered
        limited = 0

        async def admitted() -> AsyncIterator[Any]:
            nonlocal pending, limited
            async for request in request_iterator:
                try:
                    self._take_token(principal, context)
                except e.ResourceExhausted as exc:
                    limited += 1
                    m.REQUESTS.labels(rpc=rpc, code="RESOURCE_EXHAUSTED").inc()
                    rid = f"{stream_id}.limited.{limited}"
                    await out.put(error_response(rid, getattr(request, "client_ref", ""), to_status(exc)))
                    continue
                pending += 1
                m.IN_FLIGHT.inc()
                yield request

        async def pump() -> None:
            try:
                async for response in behavior(admitted(), context):
                    await out.put(response)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the consumer below
                await out.put(exc)
            finally:
                await out.put(_DONE)

        task = asyncio.create_task(pump())
        try:
            while (item := await out.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, classifier_pb2.ClassifyResponse) and not item.request_id.startswith(
                    f"{stream_id}.limited."
                ):
                    pending -= 1
                    m.IN_FLIGHT.dec()
                    _count_stream_item(rpc, item)
                yield item
        finally:
            task.cancel()
            m.IN_FLIGHT.dec(pending)


def _code_name(context: grpc.aio.ServicerContext) -> str:
    try:
        code = context.code()
    except Exception:  # noqa: BLE001 - older grpc: no code() on aio contexts
        return "UNKNOWN"
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    if isinstance(code, int):
        return str(_CODE_NAMES.get(code, "UNKNOWN"))
    return "UNKNOWN"


def _count_stream_item(rpc: str, response: classifier_pb2.ClassifyResponse) -> None:
    if not response.HasField("error") or response.error.code == code_pb2.OK:
        m.REQUESTS.labels(rpc=rpc, code="OK").inc()
        return
    m.REQUESTS.labels(rpc=rpc, code=_CODE_NAMES.get(response.error.code, "UNKNOWN")).inc()
    reason = e.Reason.INTERNAL.value
    for detail in response.error.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            reason = info.reason
            break
    if reason not in _NOT_ERRORS:
        m.ERRORS.labels(reason=reason).inc()
