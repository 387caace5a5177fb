import grpc
import pytest
from doctriage.errors import DocumentRejected, Overloaded, ServerError, from_status
from google.rpc import error_details_pb2

from sidecar import errors as e
from sidecar.server.errors import status_code_of, to_status


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (e.InvalidDocument("x", e.Reason.MALWARE), grpc.StatusCode.INVALID_ARGUMENT),
        (e.InvalidRequest("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (e.NotFound("x"), grpc.StatusCode.NOT_FOUND),
        (e.FailedPrecondition("x"), grpc.StatusCode.FAILED_PRECONDITION),
        (e.Unavailable("x", e.Reason.SCANNER_UNAVAILABLE), grpc.StatusCode.UNAVAILABLE),
        (e.ResourceExhausted("x"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (e.DeadlineExceeded("x"), grpc.StatusCode.DEADLINE_EXCEEDED),
        (e.Unauthenticated("x"), grpc.StatusCode.UNAUTHENTICATED),
        (e.PermissionDenied("x"), grpc.StatusCode.PERMISSION_DENIED),
        (e.DocTriageError("x"), grpc.StatusCode.INTERNAL),
    ],
)
def test_every_error_class_has_its_status_code(error: e.DocTriageError, code: grpc.StatusCode) -> None:
    assert status_code_of(error) == code
    assert to_status(error).code == code.value[0]


def test_refused_document_carries_reason_and_bad_request() -> None:
    status = to_status(e.InvalidDocument("too big", e.Reason.TOO_LARGE, limit="10"))
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain, dict(info.metadata)) == ("TOO_LARGE", "doctriage.v1", {"limit": "10"})
    assert status.details[1].Is(error_details_pb2.BadRequest.DESCRIPTOR)
    rejected = from_status(status)
    assert isinstance(rejected, DocumentRejected) and rejected.reason == "TOO_LARGE"


def test_resource_exhausted_carries_retry_info() -> None:
    status = to_status(e.ResourceExhausted("slow down", e.Reason.RATE_LIMITED, retry_after=0.25))
    error = from_status(status)
    assert isinstance(error, Overloaded) and error.retry_after == pytest.approx(0.25)
    assert error.reason == "RATE_LIMITED"


def test_auth_errors_leak_no_details() -> None:
    assert list(to_status(e.Unauthenticated("no key")).details) == []


def test_unexpected_exceptions_become_internal_without_their_message() -> None:
    status = to_status(KeyError("secret internals"))
    assert status.code == grpc.StatusCode.INTERNAL.value[0]
    assert "secret" not in status.message
    assert isinstance(from_status(status), ServerError)


def test_every_reason_of_a_refused_document_is_a_document_rejected_to_the_client() -> None:
    from doctriage.errors import DOCUMENT_REASONS

    assert {r.value for r in e.DOCUMENT_REASONS} == DOCUMENT_REASONS
    for reason in e.DOCUMENT_REASONS:
        status = to_status(e.InvalidDocument("refused", reason))
        assert isinstance(from_status(status), DocumentRejected), reason
