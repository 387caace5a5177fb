"""The persisted audit counters that let the running audit estimate survive a restart.

Its audit counts are rebuilt from the resolved audit items (`audit_tally`); the accepted/decided
counts (the accepted share) live in the one-row `risk_counters` table (`risk_counts` /
`save_risk_counts`), written in batches without an fsync of their own (synchronous=NORMAL for that
write: a crash may lose the last batch, never corrupt it).
"""

from __future__ import annotations

from sidecar.review.db import ReviewDatabase, guarded


class AuditCounters(ReviewDatabase):
    """The audit estimate's counts, kept in the review database (a part of `ReviewStore`)."""

    @guarded
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

    @guarded
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

    @guarded
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
