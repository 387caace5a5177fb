"""The review queue and the feedback table in one SQLite database (WAL, synchronous=FULL).

- `enqueue` stores the document bytes, digest, prediction, scores and the reason, in one
  transaction that is on disk before the caller hears of its review id; the same digest
  enqueued again returns the existing item (idempotent).
- `claim` leases the oldest pending item (or a named one) to a reviewer; a lease that runs
  out puts the item back in the queue, so a crashed reviewer loses nothing.
- `resolve` records the true label and writes the feedback row that `training/` exports
  (`python -m sidecar.review export`).
- `audit_tally` and `risk_counts` / `save_risk_counts` let the running audit estimate survive a
  restart: its audit counts are rebuilt from the resolved audit items, the accepted/decided counts
  (the accepted share) live in the one-row `risk_counters` table, written in batches without an
  fsync of their own (synchronous=NORMAL for that write: a crash may lose the last batch, never
  corrupt it).

One connection guarded by a lock: callers run on the executor's threads.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sidecar.errors import FailedPrecondition, InvalidRequest, NotFound, ReviewQueueUnavailable

SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    audit INTEGER NOT NULL DEFAULT 0,
    content BLOB NOT NULL,
    content_type TEXT NOT NULL,
    predicted_label TEXT NOT NULL,
    confidence REAL NOT NULL,
    scores TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    claimed_by TEXT NOT NULL DEFAULT '',
    lease_until REAL NOT NULL DEFAULT 0,
    true_label TEXT NOT NULL DEFAULT '',
    resolved_by TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    resolved_at REAL NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS reviews_digest ON reviews (digest, audit);
CREATE INDEX IF NOT EXISTS reviews_status ON reviews (status, created_at);
CREATE TABLE IF NOT EXISTS feedback (
    digest TEXT PRIMARY KEY,
    true_label TEXT NOT NULL,
    predicted_label TEXT NOT NULL,
    confidence REAL NOT NULL,
    scores TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    reason TEXT NOT NULL,
    audit INTEGER NOT NULL,
    review_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    content_type TEXT NOT NULL,
    resolved_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS risk_counters (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rule_key TEXT NOT NULL,
    since REAL NOT NULL,
    accepted INTEGER NOT NULL,
    decided INTEGER NOT NULL
);
"""


class ReviewStatus(StrEnum):
    PENDING = "PENDING"
    CLAIMED = "CLAIMED"
    RESOLVED = "RESOLVED"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    id: str
    digest: str
    predicted_label: str
    confidence: float
    scores: dict[str, float]
    model_name: str
    model_version: str
    source: str
    reason: str
    status: ReviewStatus
    claimed_by: str
    lease_until: float
    true_label: str
    created_at: float
    content_type: str
    audit: bool
    content: bytes = b""  # only filled by `claim` / `get(with_content=True)`


@dataclass(frozen=True, slots=True)
class ReviewPage:
    items: list[ReviewItem]
    next_page_token: str
    total: int


_COLUMNS = (
    "id, digest, predicted_label, confidence, scores, model_name, model_version, source, reason, "
    "status, claimed_by, lease_until, true_label, created_at, content_type, audit"
)
# A claimed item whose lease ran out is pending again (no sweeper needed).
_EFFECTIVE_STATUS = "CASE WHEN status = 'CLAIMED' AND lease_until < :now THEN 'PENDING' ELSE status END"
_SELECT = _COLUMNS.replace("status,", f"{_EFFECTIVE_STATUS} AS status,")


T = TypeVar("T")
P = ParamSpec("P")


def _guarded(method: Callable[P, T]) -> Callable[P, T]:
    """SQLite's own failures (another process holds the lock past the busy timeout, the disk is full,
    the file is damaged) become ReviewQueueUnavailable: UNAVAILABLE with a documented reason, never
    INTERNAL; the caller retries and nothing acknowledged is lost."""

    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            raise ReviewQueueUnavailable(f"the review queue cannot be used: {exc}", cause=type(exc).__name__) from exc

    return guarded


class ReviewStore:
    def __init__(
        self,
        path: Path,
        lease_s: float = 600.0,
        clock: Callable[[], float] = time.time,
        busy_timeout_s: float = 30.0,
    ) -> None:
        self.path = path
        self.lease_s = lease_s
        self._clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy_timeout_s)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed review item survives power loss, not only a process crash.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tx(self) -> _Transaction:
        return _Transaction(self._db, self._lock)

    # -- writes -------------------------------------------------------------------------------

    @_guarded
    def enqueue(
        self,
        *,
        digest: str,
        content: bytes,
        content_type: str,
        predicted_label: str,
        confidence: float,
        scores: dict[str, float],
        model_name: str,
        model_version: str,
        source: str,
        reason: str,
        audit: bool = False,
    ) -> tuple[str, bool]:
        """(review id, created): the same digest already queued returns its existing id."""
        with self._lock:  # the common repeat: a read, no write transaction, no fsync
            row = self._db.execute(
                "SELECT id FROM reviews WHERE digest = ? AND audit = ?", (digest, int(audit))
            ).fetchone()
        if row is not None:
            return str(row[0]), False
        now = self._clock()
        new_id = f"rv_{uuid.uuid4().hex}"
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO reviews (id, digest, audit, content, content_type, predicted_label, confidence,"
                " scores, model_name, model_version, source, reason, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?)",
                (
                    new_id, digest, int(audit), content, content_type, predicted_label, confidence,
                    json.dumps(scores), model_name, model_version, source, reason, now,
                ),
            )  # fmt: skip
            row = db.execute("SELECT id FROM reviews WHERE digest = ? AND audit = ?", (digest, int(audit))).fetchone()
        return str(row[0]), row[0] == new_id

    @_guarded
    def claim(self, reviewer: str, item_id: str = "", lease_s: float | None = None) -> ReviewItem:
        if not reviewer:
            raise InvalidRequest("a claim needs the reviewer's name")
        lease = self.lease_s if not lease_s or lease_s <= 0 else lease_s
        now = self._clock()
        with self._tx() as db:
            if item_id:
                row = db.execute(
                    f"SELECT id, {_EFFECTIVE_STATUS} AS st, claimed_by FROM reviews WHERE id = :id",
                    {"id": item_id, "now": now},
                ).fetchone()
                if row is None:
                    raise NotFound(f"no review item {item_id}")
                if row[1] == "RESOLVED":
                    raise FailedPrecondition(f"review item {item_id} is already resolved")
                if row[1] == "CLAIMED" and row[2] != reviewer:
                    raise FailedPrecondition(f"review item {item_id} is claimed by another reviewer")
            else:
                row = db.execute(
                    f"SELECT id FROM reviews WHERE {_EFFECTIVE_STATUS} = 'PENDING' ORDER BY created_at, rowid LIMIT 1",
                    {"now": now},
                ).fetchone()
                if row is None:
                    raise NotFound("the review queue is empty")
            db.execute(
                "UPDATE reviews SET status = 'CLAIMED', claimed_by = ?, lease_until = ? WHERE id = ?",
                (reviewer, now + lease, row[0]),
            )
            found = self._get(db, str(row[0]), with_content=True)
        assert found is not None
        return found

    @_guarded
    def resolve(self, item_id: str, true_label: str, reviewer: str) -> tuple[ReviewItem, bool]:
        """(item, changed): resolving again with the same label is a no-op."""
        if not true_label:
            raise InvalidRequest("a resolution needs the true label")
        now = self._clock()
        with self._tx() as db:
            item = self._get(db, item_id)
            if item is None:
                raise NotFound(f"no review item {item_id}")
            if item.status is ReviewStatus.RESOLVED:
                if item.true_label == true_label:
                    return item, False
                raise FailedPrecondition(f"review item {item_id} is already resolved as {item.true_label!r}")
            if item.status is ReviewStatus.CLAIMED and reviewer and item.claimed_by != reviewer:
                raise FailedPrecondition(f"review item {item_id} is claimed by another reviewer")
            db.execute(
                "UPDATE reviews SET status = 'RESOLVED', true_label = ?, resolved_by = ?, resolved_at = ? WHERE id = ?",
                (true_label, reviewer, now, item_id),
            )
            db.execute(
                "INSERT OR REPLACE INTO feedback (digest, true_label, predicted_label, confidence, scores, model_name,"
                " model_version, reason, audit, review_id, reviewer, content_type, resolved_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    item.digest, true_label, item.predicted_label, item.confidence, json.dumps(item.scores),
                    item.model_name, item.model_version, item.reason, int(item.audit), item.id, reviewer,
                    item.content_type, now,
                ),
            )  # fmt: skip
            resolved = self._get(db, item_id)
        assert resolved is not None
        return resolved, True

    @_guarded
    def risk_counts(self, rule_key: str, reset: bool = False) -> tuple[float, int, int]:
        """(since, accepted, decided) of the running audit estimate of the rule `rule_key`.

        A different rule (or `reset`, or none yet) starts a new estimate here: since = now, zero counts.
        `since` marks the estimate; `audit_tally(since)` gives its audit counts.
        """
        with self._tx() as db:
            row = db.execute("SELECT rule_key, since, accepted, decided FROM risk_counters WHERE id = 1").fetchone()
            if row is not None and row[0] == rule_key and not reset:
                return float(row[1]), int(row[2]), int(row[3])
            now = self._clock()
            db.execute(
                "INSERT OR REPLACE INTO risk_counters (id, rule_key, since, accepted, decided) VALUES (1, ?, ?, 0, 0)",
                (rule_key, now),
            )
        return now, 0, 0

    @_guarded
    def save_risk_counts(self, rule_key: str, since: float, accepted: int, decided: int) -> bool:
        """Store the estimate's running totals; False (nothing written) when it is no longer the current one.

        synchronous=NORMAL for this write only: no fsync of its own (the next review write, or the WAL
        checkpoint, makes it durable); it is called in batches, off the event loop.
        """
        with self._lock:
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                cursor = self._db.execute(
                    "UPDATE risk_counters SET accepted = ?, decided = ? WHERE id = 1 AND rule_key = ? AND since = ?",
                    (accepted, decided, rule_key, since),
                )
            finally:
                self._db.execute("PRAGMA synchronous=FULL")
        return cursor.rowcount == 1

    # -- reads --------------------------------------------------------------------------------

    @_guarded
    def audit_tally(self, since: float = 0.0) -> tuple[int, int]:
        """(audited, wrong): audit items resolved at or after `since`, and those whose true label differs
        from the accepted (predicted) one."""
        with self._lock:
            row = self._db.execute(
                "SELECT count(*), coalesce(sum(predicted_label != true_label), 0) FROM reviews"
                " WHERE audit = 1 AND status = 'RESOLVED' AND resolved_at >= ?",
                (since,),
            ).fetchone()
        return int(row[0]), int(row[1])

    @_guarded
    def get(self, item_id: str, with_content: bool = False) -> ReviewItem | None:
        with self._lock:
            return self._get(self._db, item_id, with_content)

    def _get(self, db: sqlite3.Connection, item_id: str, with_content: bool = False) -> ReviewItem | None:
        extra = ", content" if with_content else ""
        row = db.execute(
            f"SELECT {_SELECT}{extra} FROM reviews WHERE id = :id",
            {"id": item_id, "now": self._clock()},
        ).fetchone()
        return None if row is None else _item(row)

    @_guarded
    def resolution(self, digest: str) -> str | None:
        """The true label a reviewer gave this digest, if any."""
        with self._lock:
            row = self._db.execute("SELECT true_label FROM feedback WHERE digest = ?", (digest,)).fetchone()
        return None if row is None else str(row[0])

    @_guarded
    def list(
        self, status: ReviewStatus | None = None, label: str = "", page_size: int = 50, page_token: str = ""
    ) -> ReviewPage:
        """Oldest first; `label` filters the predicted label; the token is opaque to callers."""
        try:
            after = int(page_token) if page_token else 0
        except ValueError:
            raise InvalidRequest("bad page_token") from None
        page_size = max(1, page_size)
        where = [
            f"({_EFFECTIVE_STATUS}) = :status" if status else "1 = 1",
            "predicted_label = :label" if label else "1",
        ]
        params: dict[str, object] = {"now": self._clock(), "status": status.value if status else "", "label": label}
        cond = " AND ".join(where)
        with self._lock:
            total = self._db.execute(f"SELECT count(*) FROM reviews WHERE {cond}", params).fetchone()[0]
            rows = self._db.execute(
                f"SELECT rowid, {_SELECT} FROM reviews WHERE {cond} AND rowid > :after ORDER BY rowid LIMIT :n",
                {**params, "after": after, "n": page_size + 1},
            ).fetchall()
        more = len(rows) > page_size
        rows = rows[:page_size]
        token = str(rows[-1][0]) if more and rows else ""
        return ReviewPage([_item(r[1:]) for r in rows], token, int(total))

    @_guarded
    def depth(self) -> int:
        """Items not resolved yet (pending or claimed)."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM reviews WHERE status != 'RESOLVED'").fetchone()[0])

    def feedback(self) -> Iterator[dict[str, object]]:
        """Every resolution, oldest first (what `training/` retrains and recalibrates from)."""
        return iter(self._feedback())

    @_guarded
    def _feedback(self) -> tuple[dict[str, object], ...]:
        with self._lock:
            cursor = self._db.execute(
                "SELECT f.digest, f.true_label, f.predicted_label, f.confidence, f.scores, f.model_name,"
                " f.model_version, f.reason, f.audit, f.review_id, f.reviewer, f.content_type, f.resolved_at"
                " FROM feedback f ORDER BY f.resolved_at"
            )
            rows = cursor.fetchall()
        names = (
            "digest", "true_label", "predicted_label", "confidence", "scores", "model_name", "model_version",
            "reason", "audit", "review_id", "reviewer", "content_type", "resolved_at",
        )  # fmt: skip
        records = [dict(zip(names, row, strict=True)) for row in rows]
        for record in records:
            record["scores"] = json.loads(str(record["scores"]))
            record["audit"] = bool(record["audit"])
        return tuple(records)

    @_guarded
    def content(self, digest: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT content FROM reviews WHERE digest = ? LIMIT 1", (digest,)).fetchone()
        return None if row is None else bytes(row[0])


def _item(row: tuple[Any, ...]) -> ReviewItem:
    content = bytes(row[16]) if len(row) > 16 else b""
    return ReviewItem(
        id=str(row[0]),
        digest=str(row[1]),
        predicted_label=str(row[2]),
        confidence=float(row[3]),
        scores=json.loads(str(row[4])),
        model_name=str(row[5]),
        model_version=str(row[6]),
        source=str(row[7]),
        reason=str(row[8]),
        status=ReviewStatus(str(row[9])),
        claimed_by=str(row[10]),
        lease_until=float(row[11]),
        true_label=str(row[12]),
        created_at=float(row[13]),
        content_type=str(row[14]),
        audit=bool(row[15]),
        content=content,
    )


class _Transaction:
    """`with store._tx() as db:` = the lock plus BEGIN IMMEDIATE … COMMIT (ROLLBACK on error)."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db, self._lock = db, lock

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        return self._db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")
        finally:
            self._lock.release()
