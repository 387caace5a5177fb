"""`doctriage classify PATH...`: files and folders (walked recursively) through a running sidecar.

stdout: one row per file, in the order given (folders: sorted), `path<TAB>label<TAB>confidence<TAB>decision`
or `path<TAB>ERROR<TAB>REASON<TAB>message`; with --json one JSON object per file.
stderr: the progress bar (on a terminal) and the summary. Exit 0 when every file was classified, 1 when
any was refused (or failed), 2 when the run could not go on (no connection, authentication, usage).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass

from doctriage.cli.common import NOT_ALL, OK, Connection, UsageError, is_connection_failure
from doctriage.cli.progress import Progress
from doctriage.client import MAX_MESSAGE, Classification, Client
from doctriage.errors import AuthenticationError, DocTriageError, DocumentRejected, Overloaded

DOCUMENT_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png")
# Refusals that say "not now" rather than "not this document": retried after the server's RetryInfo.
RETRIED = ("OVERLOADED", "RATE_LIMITED")
MAX_RETRY_WAIT_S = 30.0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "classify",
        parents=[parent],
        help="classify files and folders: label, confidence and decision per file",
        description="Classify files, and every file under the given folders (recursively). The sidecar "
        "decides what it refuses; the exit code says whether every file was classified (0) or not (1).",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="a file or a folder")
    p.add_argument("--json", action="store_true", help="one JSON object per file instead of tab-separated rows")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary (stderr)")
    p.add_argument("-c", "--concurrency", type=int, default=4, metavar="N", help="documents in flight (4)")
    p.add_argument(
        "--retries", type=int, default=3, metavar="N", help="retries of a document refused as overloaded (3)"
    )
    p.add_argument(
        "--documents-only",
        action="store_true",
        help="in folders, send only files that look like PDF, JPEG or PNG (extension or first bytes); "
        "default: every file, and the sidecar refuses what it refuses",
    )
    p.set_defaults(func=run)


@dataclass(frozen=True)
class Entry:
    path: str
    problem: str = ""  # why it cannot be sent ("" when it can)


@dataclass(frozen=True)
class Outcome:
    result: Classification
    fatal: DocTriageError | None = None  # stops the run: no connection, authentication

    @property
    def classified(self) -> bool:
        return self.result.error is None


def run(args: argparse.Namespace, conn: Connection) -> int:
    if args.concurrency < 1 or args.retries < 0:
        raise UsageError("--concurrency must be at least 1 and --retries at least 0")
    entries = list(collect(args.paths, documents_only=args.documents_only))
    started = time.monotonic()
    progress = Progress(len(entries), sys.stderr, enabled=not args.quiet and len(entries) > 1 and _tty(sys.stderr))
    outcomes: list[Outcome] = []
    pool = ThreadPoolExecutor(max_workers=args.concurrency, thread_name_prefix="classify")
    try:
        with Client(conn.address, **conn.client_kwargs()) as client:
            futures = [pool.submit(_classify, client, entry, args.retries) for entry in entries]
            for future in futures:
                future.add_done_callback(lambda f: progress.advance(classified=_done_ok(f)))
            for future in futures:  # in the order given: each row as soon as those before it are out
                outcome = future.result()
                if outcome.fatal is not None:
                    raise outcome.fatal
                outcomes.append(outcome)
                progress.print(_as_json(outcome.result) if args.json else _row(outcome.result), sys.stdout)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        progress.close()
    if not args.quiet:
        print(summary(outcomes, time.monotonic() - started), file=sys.stderr)
    return OK if all(o.classified for o in outcomes) else NOT_ALL


def _done_ok(future: Future[Outcome]) -> bool:
    return not future.cancelled() and future.exception() is None and future.result().classified


def collect(paths: list[str], *, documents_only: bool = False) -> Iterator[Entry]:
    """Files as given (a missing or special one is reported, not skipped), folders walked in sorted
    order; each path once."""
    seen: set[str] = set()
    for path in paths:
        if not os.path.isdir(path):
            found: Iterator[Entry] = iter([Entry(path, _unreadable(path))])
        else:
            found = _walk(path, documents_only)
        for entry in found:
            if entry.path not in seen:
                seen.add(entry.path)
                yield entry


def _walk(folder: str, documents_only: bool) -> Iterator[Entry]:
    errors: list[OSError] = []
    for root, dirs, files in os.walk(folder, onerror=errors.append):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            if not os.path.isfile(path):  # sockets, FIFOs, dangling links: not documents
                continue
            if documents_only and not looks_like_document(path):
                continue
            yield Entry(path, _unreadable(path))
        yield from _listing_errors(errors, root)
    yield from _listing_errors(errors, folder)


def _listing_errors(errors: list[OSError], where: str) -> Iterator[Entry]:
    """A folder that cannot be listed is reported in place (exit 1), never skipped silently."""
    for error in errors:
        yield Entry(str(error.filename or where), error.strerror or "cannot be listed")
    errors.clear()


def looks_like_document(path: str) -> bool:
    if path.lower().endswith(DOCUMENT_SUFFIXES):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError:
        return True  # let the run report why it cannot be read
    return head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or b"%PDF-" in head


def _unreadable(path: str) -> str:
    """Why `path` cannot be sent ("" when it can)."""
    if not os.path.exists(path):
        return "no such file"
    if not os.path.isfile(path):
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "permission denied"
    return ""


def _classify(client: Client, entry: Entry, retries: int) -> Outcome:
    if entry.problem:
        return Outcome(_failed(entry.path, DocTriageError(entry.problem, reason="UNREADABLE")))
    try:
        if os.path.getsize(entry.path) > MAX_MESSAGE:  # gRPC would refuse it after reading it all
            message = f"over the client's message limit ({MAX_MESSAGE // (1024 * 1024)} MiB)"
            return Outcome(_failed(entry.path, DocumentRejected(message, reason="TOO_LARGE")))
    except OSError as exc:
        return Outcome(_failed(entry.path, DocTriageError(exc.strerror or str(exc), reason="UNREADABLE")))
    for attempt in range(retries + 1):
        try:
            return Outcome(client.classify(entry.path))
        except Overloaded as exc:
            if exc.reason not in RETRIED or attempt == retries:
                return Outcome(_failed(entry.path, exc))
            time.sleep(min(exc.retry_after or 0.5 * (attempt + 1), MAX_RETRY_WAIT_S))
        except DocTriageError as exc:
            fatal = isinstance(exc, AuthenticationError) or is_connection_failure(exc)
            return Outcome(_failed(entry.path, exc), fatal=exc if fatal else None)
        except OSError as exc:  # removed or changed since it was listed
            return Outcome(_failed(entry.path, DocTriageError(exc.strerror or str(exc), reason="UNREADABLE")))
    raise AssertionError("unreachable")


def _failed(path: str, exc: DocTriageError) -> Classification:
    return Classification("", path, "", 0.0, "REJECTED", {}, "", "", "", "", error=exc)


def _row(result: Classification) -> str:
    if result.error is not None:
        message = " ".join(result.error.message.split())
        return f"{result.client_ref}\tERROR\t{result.error.reason or result.error.code}\t{message}"
    return f"{result.client_ref}\t{result.label}\t{result.confidence:.3f}\t{result.decision}"


def _as_json(result: Classification) -> str:
    data = asdict(result)
    error = result.error
    data["error"] = None if error is None else {"code": error.code, "reason": error.reason, "message": error.message}
    return json.dumps(data, sort_keys=True)


def summary(outcomes: list[Outcome], seconds: float) -> str:
    """Counts by decision, refused documents by reason, other failures by reason."""
    decisions = Counter(o.result.decision for o in outcomes if o.classified)
    refused: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for o in outcomes:
        error = o.result.error
        if error is not None:
            refusal = isinstance(error, DocumentRejected) or error.reason == "UNREADABLE"
            (refused if refusal else failed)[error.reason or error.code or "ERROR"] += 1

    def counts(counter: Counter[str]) -> str:
        return ", ".join(f"{key} {n}" for key, n in sorted(counter.items()))

    files = f"{len(outcomes)} file{'s' if len(outcomes) != 1 else ''}"
    lines = [f"{files} in {seconds:.1f} s", f"classified {decisions.total()}: {counts(decisions)}".rstrip(": ")]
    lines.append(f"refused {refused.total()}: {counts(refused)}".rstrip(": "))
    if failed:
        lines.append(f"failed {failed.total()}: {counts(failed)}")
    return "\n".join(lines)


def _tty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
