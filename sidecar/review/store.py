"""The review queue (its items in the `reviews` table of one SQLite database, WAL, synchronous=FULL).

- `enqueue` stores the document bytes, digest, prediction, scores and the reason, in one
  transaction that is on disk before the caller hears of its review id; the same digest
  enqueued again returns the existing item (idempotent). `enqueue_many` does it for many
  documents in one transaction (the data plane's group commit: one fsync for all of them).
- `claim` leases the oldest pending item (or a named one) to a reviewer; a lease that runs
  out puts the item back in the queue, so a crashed reviewer loses nothing.
- `resolve` records the true label and writes the feedback row that `training/` exports
  (`python -m sidecar.review export`).

The same `ReviewStore` holds the rest of the database: the feedback table's reads (feedback.py) and
the persisted audit counters the audit estimate restarts from (counters.py); db.py has the schema,
the connection and its transactions; items.py what an item is.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from sidecar.errors import FailedPrecondition, InvalidRequest, NotFound
from sidecar.review.counters import AuditCounters
from sidecar.review.db import guarded
from sidecar.review.feedback import FeedbackLog
from sidecar.review.items import (
    EFFECTIVE_STATUS,
    SELECT,
    NewItem,
    Queued,
    ReviewItem,
    ReviewPage,
    ReviewStatus,
    item_from_row,
)


class ReviewStore(AuditCounters, FeedbackLog):
    def __init__(
        self,
        path: Path,
        lease_s: float = 600.0,
        clock: Callable[[], float] = time.time,
        busy_timeout_s: float = 30.0,
    ) -> None:
        self.lease_s = lease_s
        super().__init__(path, clock, busy_timeout_s)

    # -- writes -------------------------------------------------------------------------------

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
        item = NewItem(
            digest, content, content_type, predicted_label, confidence, scores, model_name, model_version, source,
            reason, audit,
        )  # fmt: skip
        queued = self.enqueue_many([item])[0]
        return queued.review_id, queued.created

    @guarded
    def enqueue_many(self, items: Sequence[NewItem]) -> list[Queued]:
        """Queue every item that is not queued yet in one write transaction: one fsync for the lot, on disk
        before any caller hears of its id (group commit). Items already queued (the common repeat) and
        those a reviewer's label answers are read only: no transaction, no fsync."""
        results: list[Queued | None] = [None] * len(items)
        pending: list[int] = []
        with self._lock:
            for i, item in enumerate(items):
                label: str | None = None
                if item.answered_by_reviewer:
                    label = self._resolution(item.digest)
                    if label and label != "other":
                        results[i] = Queued("", False, label)
                        continue
                queued = _queued_id(self._db, item)
                if queued is not None:
                    results[i] = Queued(queued, False, label)
                else:
                    results[i] = Queued("", False, label)
                    pending.append(i)
        if pending:
            now = self._clock()
            with self._tx() as db:
                for i in pending:
                    item, new_id = items[i], f"rv_{uuid.uuid4().hex}"
                    db.execute(
                        "INSERT OR IGNORE INTO reviews (id, digest, audit, content, content_type, predicted_label,"
                        " confidence, scores, model_name, model_version, source, reason, status, created_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?)",
                        (
                            new_id, item.digest, int(item.audit), item.content, item.content_type,
                            item.predicted_label, item.confidence, json.dumps(item.scores), item.model_name,
                            item.model_version, item.source, item.reason, now,
                        ),
                    )  # fmt: skip
                    review_id = _queued_id(db, item)
                    before = results[i]
                    assert before is not None and review_id is not None
                    results[i] = Queued(review_id, review_id == new_id, before.true_label)
        return [r for r in results if r is not None]

    @guarded
    def claim(self, reviewer: str, item_id: str = "", lease_s: float | None = None) -> ReviewItem:
        if not reviewer:
            raise InvalidRequest("a claim needs the reviewer's name")
        lease = self.lease_s if not lease_s or lease_s <= 0 else lease_s
        now = self._clock()
        with self._tx() as db:
            if item_id:
                row = db.execute(
                    f"SELECT id, {EFFECTIVE_STATUS} AS st, claimed_by FROM reviews WHERE id = :id",
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
                    f"SELECT id FROM reviews WHERE {EFFECTIVE_STATUS} = 'PENDING' ORDER BY created_at, rowid LIMIT 1",
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

    @guarded
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

    # -- reads --------------------------------------------------------------------------------

    @guarded
    def get(self, item_id: str, with_content: bool = False) -> ReviewItem | None:
        with self._lock:
            return self._get(self._db, item_id, with_content)

    def _get(self, db: sqlite3.Connection, item_id: str, with_content: bool = False) -> ReviewItem | None:
        extra = ", content" if with_content else ""
        row = db.execute(
            f"SELECT {SELECT}{extra} FROM reviews WHERE id = :id",
            {"id": item_id, "now": self._clock()},
        ).fetchone()
        return None if row is None else item_from_row(row)

    @guarded
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
            f"({EFFECTIVE_STATUS}) = :status" if status else "1 = 1",
            "predicted_label = :label" if label else "1",
        ]
        params: dict[str, object] = {"now": self._clock(), "status": status.value if status else "", "label": label}
        cond = " AND ".join(where)
        with self._lock:
            total = self._db.execute(f"SELECT count(*) FROM reviews WHERE {cond}", params).fetchone()[0]
            rows = self._db.execute(
                f"SELECT rowid, {SELECT} FROM reviews WHERE {cond} AND rowid > :after ORDER BY rowid LIMIT :n",
                {**params, "after": after, "n": page_size + 1},
            ).fetchall()
        more = len(rows) > page_size
        rows = rows[:page_size]
        token = str(rows[-1][0]) if more and rows else ""
        return ReviewPage([item_from_row(r[1:]) for r in rows], token, int(total))

    @guarded
    def depth(self) -> int:
        """Items not resolved yet (pending or claimed)."""
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM reviews WHERE status IN ('PENDING', 'CLAIMED')").fetchone()
        return int(row[0])


def _queued_id(db: sqlite3.Connection, item: NewItem) -> str | None:
    """The id of the item already queued for this digest (as a review, or as an audit sample)."""
    row = db.execute("SELECT id FROM reviews WHERE digest = ? AND audit = ?", (item.digest, int(item.audit))).fetchone()
    return None if row is None else str(row[0])
