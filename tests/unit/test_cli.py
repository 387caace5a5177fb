"""The `doctriage` CLI's parts without a server: the hints, walking folders, retries of overloaded
documents, the summary, where the connection settings come from, the progress bar."""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path

import pytest
from doctriage.cli import build_parser, classify
from doctriage.cli.common import Connection, hint
from doctriage.cli.progress import Progress
from doctriage.client import Classification
from doctriage.errors import (
    AuthenticationError,
    DeadlineExceeded,
    DocTriageError,
    DocumentRejected,
    Overloaded,
    ServiceUnavailable,
)

PLAIN = Connection("127.0.0.1:50051", None, 30.0, False, None, None, None, None)
KEYED = Connection("10.0.0.7:50051", "dtk_x", 30.0, False, "ca.pem", None, None, None)


@pytest.mark.parametrize(
    ("error", "conn", "expected"),
    [
        (Overloaded("queue full", reason="OVERLOADED", code="RESOURCE_EXHAUSTED", retry_after=2.5), PLAIN,
         "retry after 2.5 s"),
        (Overloaded("too big", code="RESOURCE_EXHAUSTED"), PLAIN, "over gRPC's size limit"),
        (AuthenticationError("unauthenticated", code="UNAUTHENTICATED"), PLAIN,
         "pass --api-key or set DOCTRIAGE_API_KEY"),
        (AuthenticationError("unauthenticated", code="UNAUTHENTICATED"), KEYED, "does not know this key"),
        (AuthenticationError("permission denied", code="PERMISSION_DENIED"), KEYED, "lacks the role"),
        (ServiceUnavailable("failed to connect: Connection refused", code="UNAVAILABLE"), PLAIN,
         "is the sidecar running at 127.0.0.1:50051?"),
        (ServiceUnavailable("Ssl handshake failed", code="UNAVAILABLE"), PLAIN, "may serve TLS only"),
        (ServiceUnavailable("Tls handshake failed", code="UNAVAILABLE"), KEYED, "check --tls-ca"),
        (ServiceUnavailable("draining", reason="SHUTTING_DOWN", code="UNAVAILABLE"), PLAIN, "draining"),
        (DeadlineExceeded("deadline", code="DEADLINE_EXCEEDED"), PLAIN, "raise --timeout"),
    ],
)  # fmt: skip
def test_every_failure_gets_a_one_line_hint(error: DocTriageError, conn: Connection, expected: str) -> None:
    text = hint(error, conn)
    assert expected in text and "\n" not in text


def test_folders_are_walked_in_order_each_file_once(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "b" / "notes.txt").write_text("hello")
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7")
    (tmp_path / "scan").write_bytes(b"\xff\xd8\xff\xe0")  # a JPEG without an extension
    os.mkfifo(tmp_path / "pipe")  # not a regular file: never sent from a folder
    entries = list(classify.collect([str(tmp_path), str(tmp_path / "a.pdf"), str(tmp_path / "missing.pdf")]))
    names = [os.path.relpath(e.path, tmp_path) for e in entries]
    assert names == ["a.pdf", "scan", "b/2.png", "b/notes.txt", "missing.pdf"]
    assert [e.problem for e in entries] == ["", "", "", "", "no such file"]
    only = [os.path.relpath(e.path, tmp_path) for e in classify.collect([str(tmp_path)], documents_only=True)]
    assert only == ["a.pdf", "scan", "b/2.png"]


class FakeClient:
    def __init__(self, failures: list[DocTriageError]) -> None:
        self.failures = failures
        self.calls = 0

    def classify(self, path: str) -> Classification:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return Classification("r", path, "invoice", 0.9, "ACCEPTED", {}, "m", "2.3", "MODEL", "d")


def test_overloaded_documents_are_retried_after_the_servers_wait(tmp_path: Path) -> None:
    page = tmp_path / "a.pdf"
    page.write_bytes(b"%PDF-1.7")
    busy = [Overloaded("busy", reason="RATE_LIMITED", code="RESOURCE_EXHAUSTED", retry_after=0.01)] * 2
    client = FakeClient(list(busy))
    outcome = classify._classify(client, classify.Entry(str(page)), retries=3)  # type: ignore[arg-type]
    assert outcome.classified and client.calls == 3
    gave_up = classify._classify(FakeClient(list(busy)), classify.Entry(str(page)), retries=1)  # type: ignore[arg-type]
    assert gave_up.result.error is not None and gave_up.result.error.reason == "RATE_LIMITED"
    assert gave_up.fatal is None  # that file failed; the others go on
    denied = AuthenticationError("unauthenticated", code="UNAUTHENTICATED")
    stop = classify._classify(FakeClient([denied]), classify.Entry(str(page)), retries=3)  # type: ignore[arg-type]
    assert stop.fatal is denied  # the run stops: every other file would fail the same way


def test_summary_counts_decisions_refusals_and_failures() -> None:
    def outcome(decision: str = "ACCEPTED", error: DocTriageError | None = None) -> classify.Outcome:
        return classify.Outcome(Classification("", "p", "x", 0.5, decision, {}, "", "", "", "", error=error))

    text = classify.summary(
        [
            outcome("ACCEPTED"),
            outcome("HUMAN_REVIEW"),
            outcome("HUMAN_REVIEW"),
            outcome(error=DocumentRejected("no", reason="UNSUPPORTED_TYPE")),
            outcome(error=DocTriageError("no such file", reason="UNREADABLE")),
            outcome(error=DeadlineExceeded("late", code="DEADLINE_EXCEEDED")),
        ],
        1.23,
    )
    assert text.splitlines() == [
        "6 files in 1.2 s",
        "classified 3: ACCEPTED 1, HUMAN_REVIEW 2",
        "refused 2: UNREADABLE 1, UNSUPPORTED_TYPE 1",
        "failed 1: DEADLINE_EXCEEDED 1",
    ]


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args([*argv, "health"])


def test_connection_flags_win_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCTRIAGE_ADDRESS", "env:1")
    monkeypatch.setenv("DOCTRIAGE_API_KEY", "env-key")
    monkeypatch.setenv("DOCTRIAGE_TLS", "1")
    conn = Connection.from_args(_args())
    assert (conn.address, conn.api_key, conn.secure) == ("env:1", "env-key", True)
    key_file = tmp_path / "key"
    key_file.write_text("file-key\n")
    conn = Connection.from_args(_args("--address", "flag:2", "--api-key-file", str(key_file)))
    assert (conn.address, conn.api_key) == ("flag:2", "file-key")
    # After the command too, and the one given there wins.
    late = build_parser().parse_args(["--address", "a:1", "health", "--address", "b:2", "--timeout", "3"])
    assert (Connection.from_args(late).address, Connection.from_args(late).timeout) == ("b:2", 3.0)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_and_steps_aside_for_rows() -> None:
    err, out = Terminal(), Terminal()
    bar = Progress(3, err, enabled=True)
    bar.advance(classified=True)
    bar.print("a.pdf\tinvoice\t0.900\tACCEPTED", out)
    bar.advance(classified=False)
    bar.advance(classified=True)
    bar.close()
    drawn = err.getvalue()
    assert "classifying [" in drawn and "3/3" in drawn and "1 not classified" in drawn
    assert drawn.endswith("\r\x1b[K")  # cleared at the end
    assert out.getvalue() == "a.pdf\tinvoice\t0.900\tACCEPTED\n"
    quiet = Terminal()
    off = Progress(3, quiet, enabled=False)
    off.advance(classified=True)
    off.close()
    assert quiet.getvalue() == ""
