"""Client and AsyncClient for the DocTriage sidecar (one base, like httpx's).

from doctriage import Client
with Client("127.0.0.1:50051") as client:
    result = client.classify("invoice.pdf")
    print(result.label, result.confidence, result.decision)
"""

from __future__ import annotations

import itertools
import mimetypes
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import grpc
from grpc import aio

from doctriage.errors import DocTriageError, from_rpc_error, from_status
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc

DEFAULT_ADDRESS = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 30.0  # seconds, one document
DEFAULT_STREAM_TIMEOUT = 600.0  # seconds, a whole classify_many stream
MAX_MESSAGE = 32 * 1024 * 1024

Source = Union[str, os.PathLike[str], bytes]  # noqa: UP007 - a runtime alias


@dataclass(frozen=True, slots=True)
class Document:
    """Bytes plus what the sidecar checks them against."""

    content: bytes
    filename: str = ""
    mime_type: str = ""
    routing_key: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    client_ref: str = ""

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], **kwargs: Any) -> Document:
        p = Path(path)
        kwargs.setdefault("client_ref", str(p))
        return cls(p.read_bytes(), filename=p.name, mime_type=mimetypes.guess_type(p.name)[0] or "", **kwargs)


@dataclass(frozen=True, slots=True)
class RuleFinding:
    """One business rule of the predicted label, as checked on this document."""

    rule: str  # e.g. "invoice.amount"
    passed: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Classification:
    """One answer. On classify_many a failed item has `error` set and no label."""

    request_id: str
    client_ref: str
    label: str
    confidence: float
    decision: str  # ACCEPTED, ACCEPTED_AFTER_RULES, HUMAN_REVIEW, REJECTED
    scores: dict[str, float]
    model_name: str
    model_version: str
    source: str  # MODEL, CACHE, FALLBACK_MODEL, RULES, DEGRADED
    digest: str
    review_id: str = ""
    decision_reasons: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    content_type: str = ""
    ood_score: float = 0.0
    estimated_cost: float = 0.0
    rule_findings: tuple[RuleFinding, ...] = ()
    error: DocTriageError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def accepted(self) -> bool:
        return self.decision in ("ACCEPTED", "ACCEPTED_AFTER_RULES")

    @classmethod
    def from_proto(cls, r: classifier_pb2.ClassifyResponse) -> Classification:
        return cls(
            request_id=r.request_id,
            client_ref=r.client_ref,
            label=r.label,
            confidence=r.confidence,
            decision=classifier_pb2.Decision.Name(r.decision),
            scores={s.label: s.score for s in r.scores},
            model_name=r.model_name,
            model_version=r.model_version,
            source=classifier_pb2.Source.Name(r.source),
            digest=r.digest,
            review_id=r.review_id,
            decision_reasons=tuple(r.decision_reasons),
            timings=dict(r.timings),
            flags=tuple(r.flags),
            content_type=r.content_type,
            ood_score=r.ood_score,
            estimated_cost=r.estimated_cost,
            rule_findings=tuple(RuleFinding(f.rule, f.passed, f.detail) for f in r.rule_findings),
            error=from_status(r.error) if r.HasField("error") else None,
        )


class BaseClient:
    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        stream_timeout: float = DEFAULT_STREAM_TIMEOUT,
        api_key: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        channel_options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        """`credentials` (e.g. `grpc.ssl_channel_credentials(ca, key, cert)`): TLS, mutual TLS with a
        client certificate; None = plaintext. `channel_options`: extra gRPC channel arguments (e.g.
        `("grpc.ssl_target_name_override", "doctriage.internal")`)."""
        self.address = address
        self.timeout = timeout
        self.stream_timeout = stream_timeout
        self._metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {api_key}"),) if api_key else ()
        self._credentials = credentials
        self._options = [
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            *channel_options,
        ]

    def _sync_channel(self) -> grpc.Channel:
        if self._credentials is None:
            return grpc.insecure_channel(self.address, options=self._options)
        return grpc.secure_channel(self.address, self._credentials, options=self._options)

    def _aio_channel(self) -> aio.Channel:
        if self._credentials is None:
            return aio.insecure_channel(self.address, options=self._options)
        return aio.secure_channel(self.address, self._credentials, options=self._options)

    def _metadata_for(self, request_id: str | None) -> tuple[tuple[str, str], ...]:
        return self._metadata + ((("x-request-id", request_id),) if request_id else ())

    @staticmethod
    def _document(source: Source | Document, **kwargs: Any) -> Document:
        if isinstance(source, Document):
            return source
        if isinstance(source, bytes):
            return Document(source, **kwargs)
        return Document.from_path(source, **kwargs)

    @staticmethod
    def _request(doc: Document, ref: str | None = None) -> classifier_pb2.ClassifyRequest:
        return classifier_pb2.ClassifyRequest(
            content=doc.content,
            filename=doc.filename,
            mime_type=doc.mime_type,
            routing_key=doc.routing_key,
            metadata=doc.metadata,
            client_ref=ref if ref is not None else doc.client_ref,
        )

    def _stream_requests(self, sources: Iterable[Source | Document]) -> Iterator[classifier_pb2.ClassifyRequest]:
        for index, source in zip(itertools.count(), sources, strict=False):
            doc = self._document(source)
            yield self._request(doc, doc.client_ref or str(index))


class Client(BaseClient):
    """Blocking client; use as a context manager or call close()."""

    def __init__(self, address: str = DEFAULT_ADDRESS, **kwargs: Any) -> None:
        super().__init__(address, **kwargs)
        self._channel = self._sync_channel()
        self._stub = classifier_pb2_grpc.ClassifierStub(self._channel)

    def classify(
        self, source: Source | Document, *, timeout: float | None = None, request_id: str | None = None, **kwargs: Any
    ) -> Classification:
        """Classify one document (a path, bytes or a Document); raises a DocTriageError on failure."""
        request = self._request(self._document(source, **kwargs))
        try:
            response = self._stub.Classify(
                request, timeout=timeout or self.timeout, metadata=self._metadata_for(request_id)
            )
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None
        return Classification.from_proto(response)

    def classify_many(
        self, sources: Iterable[Source | Document], *, timeout: float | None = None
    ) -> Iterator[Classification]:
        """Classify many documents over one stream; yields in completion order, matched by client_ref
        (the path, the Document's client_ref, or the item's index). Failed items carry `error`."""
        failure: list[Exception] = []

        def requests() -> Iterator[classifier_pb2.ClassifyRequest]:
            try:
                yield from self._stream_requests(sources)
            except Exception as exc:  # e.g. an unreadable file: gRPC would only say "UNKNOWN"
                failure.append(exc)
                raise

        try:
            for response in self._stub.ClassifyStream(
                requests(), timeout=timeout or self.stream_timeout, metadata=self._metadata
            ):
                yield Classification.from_proto(response)
        except grpc.RpcError as exc:
            if failure:
                raise failure[0] from None
            raise from_rpc_error(exc) from None

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(BaseClient):
    """asyncio client; use as an async context manager or await close()."""

    def __init__(self, address: str = DEFAULT_ADDRESS, **kwargs: Any) -> None:
        super().__init__(address, **kwargs)
        self._channel = self._aio_channel()
        self._stub = classifier_pb2_grpc.ClassifierStub(self._channel)

    async def classify(
        self, source: Source | Document, *, timeout: float | None = None, request_id: str | None = None, **kwargs: Any
    ) -> Classification:
        request = self._request(self._document(source, **kwargs))
        try:
            response = await self._stub.Classify(
                request, timeout=timeout or self.timeout, metadata=self._metadata_for(request_id)
            )
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None
        return Classification.from_proto(response)

    async def classify_many(
        self, sources: Iterable[Source | Document] | AsyncIterable[Source | Document], *, timeout: float | None = None
    ) -> AsyncIterator[Classification]:
        failure: list[Exception] = []

        async def requests() -> AsyncIterator[classifier_pb2.ClassifyRequest]:
            index = 0
            try:
                if isinstance(sources, AsyncIterable):
                    async for source in sources:
                        doc = self._document(source)
                        yield self._request(doc, doc.client_ref or str(index))
                        index += 1
                else:
                    for request in self._stream_requests(sources):
                        yield request
            except Exception as exc:  # e.g. an unreadable file: gRPC would only say "UNKNOWN"
                failure.append(exc)
                raise

        call = self._stub.ClassifyStream(requests(), timeout=timeout or self.stream_timeout, metadata=self._metadata)
        try:
            async for response in call:
                yield Classification.from_proto(response)
        except grpc.RpcError as exc:
            if failure:
                raise failure[0] from None
            raise from_rpc_error(exc) from None

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
