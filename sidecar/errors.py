"""The one error tree of the sidecar.

Stages raise these; only `sidecar.server.errors` (the error interceptor) knows
how they map to gRPC status codes and `google.rpc` details. Every error carries
a stable `reason` (documented in the README) and a human message that never
contains document content or secrets.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # The document was refused (INVALID_ARGUMENT).
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    TOO_LARGE = "TOO_LARGE"
    EMPTY = "EMPTY"
    MALFORMED = "MALFORMED"
    TRUNCATED = "TRUNCATED"
    ACTIVE_CONTENT = "ACTIVE_CONTENT"
    DECOMPRESSION_BOMB = "DECOMPRESSION_BOMB"
    ENCRYPTED = "ENCRYPTED"
    MALWARE = "MALWARE"
    POLYGLOT = "POLYGLOT"
    TRAILING_DATA = "TRAILING_DATA"
    # The request itself is wrong (INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION).
    INVALID_REQUEST = "INVALID_REQUEST"
    NOT_FOUND = "NOT_FOUND"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    # The sidecar cannot serve right now (UNAVAILABLE / RESOURCE_EXHAUSTED / DEADLINE_EXCEEDED).
    SCANNER_UNAVAILABLE = "SCANNER_UNAVAILABLE"
    MODEL_UNAVAILABLE = "MODEL_UNAVAILABLE"
    REVIEW_QUEUE_UNAVAILABLE = "REVIEW_QUEUE_UNAVAILABLE"
    SHUTTING_DOWN = "SHUTTING_DOWN"
    OVERLOADED = "OVERLOADED"
    RATE_LIMITED = "RATE_LIMITED"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    # Gateway.
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    # A bug: mapped to INTERNAL, logged with its traceback, never leaked.
    INTERNAL = "INTERNAL"


# The reasons of a refused document (InvalidDocument); the client's DocumentRejected has the same set
# (doctriage.errors.DOCUMENT_REASONS, tests/unit/test_error_mapping.py).
DOCUMENT_REASONS = frozenset(list(Reason)[: list(Reason).index(Reason.TRAILING_DATA) + 1])


class DocTriageError(Exception):
    """Base of every error the sidecar reports to a caller."""

    default_reason: Reason = Reason.INTERNAL

    def __init__(self, message: str, reason: Reason | None = None, **metadata: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        # Extra, non-secret facts for google.rpc.ErrorInfo.metadata (e.g. limit="10485760").
        self.metadata = metadata

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason.value}: {self.message})"


class InvalidDocument(DocTriageError):
    """The document is refused; the caller must not retry it unchanged."""

    default_reason = Reason.MALFORMED


class InvalidRequest(DocTriageError):
    """A request field (not the document) is invalid, e.g. an admin change."""

    default_reason = Reason.INVALID_REQUEST


class NotFound(DocTriageError):
    default_reason = Reason.NOT_FOUND


class FailedPrecondition(DocTriageError):
    default_reason = Reason.FAILED_PRECONDITION


class Unavailable(DocTriageError):
    """A dependency is down; retrying later may succeed."""

    default_reason = Reason.MODEL_UNAVAILABLE


class ReviewQueueUnavailable(Unavailable):
    """The review database cannot be read or written (locked by another process, disk full, damaged)."""

    default_reason = Reason.REVIEW_QUEUE_UNAVAILABLE


class ResourceExhausted(DocTriageError):
    """Too much load; retry after `retry_after` seconds."""

    default_reason = Reason.OVERLOADED

    def __init__(self, message: str, reason: Reason | None = None, retry_after: float = 1.0, **metadata: str) -> None:
        super().__init__(message, reason, **metadata)
        self.retry_after = retry_after


class DeadlineExceeded(DocTriageError):
    default_reason = Reason.DEADLINE_EXCEEDED


class Unauthenticated(DocTriageError):
    default_reason = Reason.UNAUTHENTICATED


class PermissionDenied(DocTriageError):
    default_reason = Reason.PERMISSION_DENIED
