"""Python client of the DocTriage sidecar: Client, AsyncClient, errors and the generated stubs."""

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
