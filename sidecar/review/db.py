"""The review database: its schema, the one connection (WAL, synchronous=FULL) guarded by a lock,
BEGIN IMMEDIATE transactions, and the guard that turns SQLite's own failures into
ReviewQueueUnavailable.

`ReviewDatabase` is the base of `ReviewStore` (store.py) and of the parts it is made of
(feedback.py, counters.py). One connection guarded by a lock: callers run on the executor's threads.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from sidecar.errors import ReviewQueueUnavailable

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


T = TypeVar("T")
P = ParamSpec("P")


def guarded(method: Callable[P, T]) -> Callable[P, T]:
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


class ReviewDatabase:
    """The connection, its lock and the clock; `_tx()` for a write transaction."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time, busy_timeout_s: float = 30.0) -> None:
        self.path = path
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
