"""What every `doctriage` command shares: the connection options, the exit codes, and how a failure is
reported (its reason code and a one-line hint, never a traceback)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any

import grpc

from doctriage.client import DEFAULT_ADDRESS, DEFAULT_TIMEOUT
from doctriage.errors import (
    AuthenticationError,
    DeadlineExceeded,
    DocTriageError,
    DocumentRejected,
    InvalidRequest,
    Overloaded,
    ServerError,
    ServiceUnavailable,
)

# Exit codes (README, "The command line").
OK = 0  # every file classified; health SERVING; the admin call succeeded
NOT_ALL = 1  # classify: some file refused or failed; health: not SERVING
ERROR = 2  # usage error, no connection, authentication, or the call itself failed
INTERRUPTED = 130  # Ctrl-C

PROG = "doctriage"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def connection_parser() -> argparse.ArgumentParser:
    """The connection options, accepted before or after the command (`doctriage --address A health` and
    `doctriage health --address A`). Defaults are SUPPRESSed here and filled in by `Connection.from_args`,
    so that an option given after the command is not overwritten by the default of the one before."""
    parser = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = parser.add_argument_group("connection (flags win over the environment)")
    group.add_argument("--address", metavar="HOST:PORT", help=f"the sidecar (DOCTRIAGE_ADDRESS; {DEFAULT_ADDRESS})")
    group.add_argument("--api-key", metavar="KEY", help="API key (DOCTRIAGE_API_KEY)")
    group.add_argument(
        "--api-key-file", metavar="FILE", help="read the API key from FILE, e.g. var/api-key (DOCTRIAGE_API_KEY_FILE)"
    )
    group.add_argument(
        "--timeout", type=float, metavar="S", help=f"seconds per call, one document each ({DEFAULT_TIMEOUT:g})"
    )
    group.add_argument("--tls", action="store_true", help="TLS with the system's root certificates (DOCTRIAGE_TLS=1)")
    group.add_argument("--tls-ca", metavar="PEM", help="CA that signed the sidecar's certificate; implies --tls")
    group.add_argument("--tls-cert", metavar="PEM", help="client certificate for mutual TLS (with --tls-key)")
    group.add_argument("--tls-key", metavar="PEM", help="its private key")
    group.add_argument("--tls-server-name", metavar="NAME", help="the name to check the certificate against")
    return parser


@dataclass(frozen=True)
class Connection:
    address: str
    api_key: str | None
    timeout: float
    tls: bool
    tls_ca: str | None
    tls_cert: str | None
    tls_key: str | None
    tls_server_name: str | None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Connection:
        """Flags, else DOCTRIAGE_* environment variables, else the defaults."""

        def pick(name: str, env: str, default: str | None = None) -> str | None:
            value = getattr(args, name, None)
            return value if value is not None else os.environ.get(env) or default

        api_key = pick("api_key", "DOCTRIAGE_API_KEY")
        key_file = getattr(args, "api_key_file", None)  # the flag wins over the variable
        if key_file is None and api_key is None:
            key_file = os.environ.get("DOCTRIAGE_API_KEY_FILE") or None
        if key_file is not None:
            try:
                with open(key_file, encoding="utf-8") as f:
                    api_key = f.read().strip()
            except OSError as exc:
                raise UsageError(f"cannot read the API key file {key_file}: {exc.strerror or exc}") from None
        timeout = getattr(args, "timeout", None) or DEFAULT_TIMEOUT
        if timeout <= 0:
            raise UsageError("--timeout must be positive")
        return cls(
            address=pick("address", "DOCTRIAGE_ADDRESS", DEFAULT_ADDRESS) or DEFAULT_ADDRESS,
            api_key=api_key or None,
            timeout=timeout,
            tls=bool(getattr(args, "tls", False)) or _env_flag("DOCTRIAGE_TLS"),
            tls_ca=pick("tls_ca", "DOCTRIAGE_TLS_CA"),
            tls_cert=pick("tls_cert", "DOCTRIAGE_TLS_CERT"),
            tls_key=pick("tls_key", "DOCTRIAGE_TLS_KEY"),
            tls_server_name=pick("tls_server_name", "DOCTRIAGE_TLS_SERVER_NAME"),
        )

    @property
    def secure(self) -> bool:
        return self.tls or bool(self.tls_ca or self.tls_cert or self.tls_key)

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of Client / AdminClient."""
        kwargs: dict[str, Any] = {"timeout": self.timeout, "api_key": self.api_key}
        if self.secure:
            if bool(self.tls_cert) != bool(self.tls_key):
                raise UsageError("mutual TLS needs both --tls-cert and --tls-key")
            kwargs["credentials"] = grpc.ssl_channel_credentials(
                root_certificates=_read(self.tls_ca, "--tls-ca"),
                private_key=_read(self.tls_key, "--tls-key"),
                certificate_chain=_read(self.tls_cert, "--tls-cert"),
            )
            if self.tls_server_name:
                kwargs["channel_options"] = (("grpc.ssl_target_name_override", self.tls_server_name),)
        return kwargs


def _read(path: str | None, flag: str) -> bytes | None:
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {flag} {path}: {exc.strerror or exc}") from None


class UsageError(Exception):
    """A mistake on the command line or in a local file the command reads: exit 2, no traceback."""


def is_connection_failure(exc: DocTriageError) -> bool:
    """UNAVAILABLE that the sidecar did not send (no reason): no connection, TLS handshake, DNS."""
    return isinstance(exc, ServiceUnavailable) and not exc.reason


def hint(exc: DocTriageError, conn: Connection) -> str:
    """One line that says what to do about `exc`."""
    message = exc.message.lower()
    if isinstance(exc, AuthenticationError):
        if exc.code == "PERMISSION_DENIED":
            return "the key lacks the role: classify needs 'classify', admin commands 'admin', reviews 'review'"
        if conn.api_key:
            return "the sidecar does not know this key: check --api-key / DOCTRIAGE_API_KEY"
        return "pass --api-key or set DOCTRIAGE_API_KEY (make serve writes a local key to var/api-key)"
    if is_connection_failure(exc):
        if any(word in message for word in ("ssl", "tls", "handshake", "certificate")):
            if conn.secure:
                return f"TLS with {conn.address} failed: check --tls-ca, --tls-cert/--tls-key, --tls-server-name"
            return f"the sidecar at {conn.address} may serve TLS only: pass --tls or --tls-ca"
        where = f"is the sidecar running at {conn.address}?"
        return where + ("" if conn.secure else " (if it serves TLS: --tls or --tls-ca)")
    if isinstance(exc, Overloaded):
        if exc.retry_after is not None:
            return f"retry after {exc.retry_after:.1f} s"
        if not exc.reason:  # gRPC's own message limit, before the sidecar read anything
            return "the message is over gRPC's size limit (documents: validation.max_bytes, 10 MiB by default)"
        return "retry later, or lower --concurrency"
    if isinstance(exc, ServiceUnavailable):
        return {
            "SHUTTING_DOWN": "the sidecar is draining after SIGTERM: retry against a running one",
            "SCANNER_UNAVAILABLE": "clamd is down or slow (the sidecar fails closed): retry later",
            "MODEL_UNAVAILABLE": "no model can answer: check `doctriage admin models list`",
            "REVIEW_QUEUE_UNAVAILABLE": "the review database is busy or full: retry",
        }.get(exc.reason, "retry later")
    if isinstance(exc, DeadlineExceeded):
        return "the call ran past its deadline: raise --timeout, or lower --concurrency"
    if isinstance(exc, DocumentRejected):
        return "the document is refused (README.md, Errors, lists every reason)"
    if isinstance(exc, InvalidRequest):
        return {
            "NOT_FOUND": "no such item: `doctriage admin models list` / `doctriage admin reviews list` show them",
            "FAILED_PRECONDITION": "the sidecar's state does not allow it now (the message says why)",
        }.get(exc.code, "check the values given (the message says which)")
    if isinstance(exc, ServerError):
        return "a sidecar error: its log has the details (search for the request id or the time)"
    return ""


def report(exc: DocTriageError, conn: Connection) -> None:
    """`doctriage: REASON: message` and `hint: ...` on stderr."""
    label = exc.reason or exc.code or "ERROR"
    print(f"{PROG}: {label}: {one_line(exc.message)}", file=sys.stderr)
    text = hint(exc, conn)
    if text:
        print(f"hint: {text}", file=sys.stderr)


def one_line(text: str) -> str:
    return " ".join(text.split())
