"""The client's exception tree: one class per way a call can fail, with the server's reason.

DocTriageError
├── DocumentRejected        INVALID_ARGUMENT: the document is refused (reason says why)
├── InvalidRequest          INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION on other fields
├── AuthenticationError     UNAUTHENTICATED / PERMISSION_DENIED
├── RetryableError          worth retrying later (retry_after seconds when the server says)
│   ├── Overloaded          RESOURCE_EXHAUSTED (rate limit or admission)
│   ├── ServiceUnavailable  UNAVAILABLE (scanner or model down, shutting down, no connection)
│   └── DeadlineExceeded    DEADLINE_EXCEEDED
└── ServerError             INTERNAL and anything else
"""

from __future__ import annotations

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status


class DocTriageError(Exception):
    def __init__(self, message: str, *, reason: str = "", code: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"{reason or code}: {message}" if (reason or code) else message)
        self.message = message
        self.reason = reason  # stable reason code, e.g. "UNSUPPORTED_TYPE"
        self.code = code  # gRPC status code name, e.g. "INVALID_ARGUMENT"
        self.retry_after = retry_after


class DocumentRejected(DocTriageError):
    pass


class InvalidRequest(DocTriageError):
    pass


class AuthenticationError(DocTriageError):
    pass


class RetryableError(DocTriageError):
    pass


class Overloaded(RetryableError):
    pass


class ServiceUnavailable(RetryableError):
    pass


class DeadlineExceeded(RetryableError):
    pass


class ServerError(DocTriageError):
    pass


_BY_CODE: dict[str, type[DocTriageError]] = {
    "INVALID_ARGUMENT": InvalidRequest,
    "NOT_FOUND": InvalidRequest,
    "FAILED_PRECONDITION": InvalidRequest,
    "UNAUTHENTICATED": AuthenticationError,
    "PERMISSION_DENIED": AuthenticationError,
    "RESOURCE_EXHAUSTED": Overloaded,
    "UNAVAILABLE": ServiceUnavailable,
    "DEADLINE_EXCEEDED": DeadlineExceeded,
}

# Reasons that mean "this document is refused" rather than "this request is malformed".
DOCUMENT_REASONS = frozenset(
    {
        "UNSUPPORTED_TYPE",
        "TYPE_MISMATCH",
        "TOO_LARGE",
        "EMPTY",
        "MALFORMED",
        "TRUNCATED",
        "ACTIVE_CONTENT",
        "DECOMPRESSION_BOMB",
        "ENCRYPTED",
        "MALWARE",
        "POLYGLOT",
        "TRAILING_DATA",
    }
)


def from_status(status: status_pb2.Status) -> DocTriageError:
    """Build the matching exception from a `google.rpc.Status` (stream items carry one)."""
    code = code_pb2.Code.Name(status.code) if status.code in code_pb2.Code.values() else "UNKNOWN"
    reason, retry_after = "", None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_after = retry.retry_delay.ToNanoseconds() / 1e9
    cls = _BY_CODE.get(code, ServerError)
    if code == "INVALID_ARGUMENT" and reason in DOCUMENT_REASONS:
        cls = DocumentRejected
    return cls(status.message, reason=reason, code=code, retry_after=retry_after)


def from_rpc_error(error: grpc.RpcError) -> DocTriageError:
    status = rpc_status.from_call(error)
    if status is None:
        code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
        details = error.details() if isinstance(error, grpc.Call) else str(error)
        status = status_pb2.Status(code=code.value[0], message=details or "")
    return from_status(status)
