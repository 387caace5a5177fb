"""Python client of the DocTriage sidecar: Client, AsyncClient, AdminClient, errors and the generated stubs.

Standalone: it imports nothing of the server (doctriage-sidecar) or of training."""

from doctriage.admin import AdminClient
from doctriage.client import AsyncClient, Classification, Client, Document, RuleFinding
from doctriage.errors import (
    AuthenticationError,
    DeadlineExceeded,
    DocTriageError,
    DocumentRejected,
    InvalidRequest,
    Overloaded,
    RetryableError,
    ServerError,
    ServiceUnavailable,
)

__all__ = [
    "AdminClient",
    "AsyncClient",
    "AuthenticationError",
    "Classification",
    "Client",
    "DeadlineExceeded",
    "DocTriageError",
    "Document",
    "DocumentRejected",
    "InvalidRequest",
    "Overloaded",
    "RetryableError",
    "RuleFinding",
    "ServerError",
    "ServiceUnavailable",
]
