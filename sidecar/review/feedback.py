"""The feedback table's reads: what reviewers said, for the data plane (`resolution`) and for the
export that `training/` retrains and recalibrates from (`feedback`, `content`;
`python -m sidecar.review export`). `ReviewStore.resolve` writes the rows."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sidecar.review.db import ReviewDatabase, guarded


class FeedbackLog(ReviewDatabase):
    """Reviewer resolutions and the documents they were about (a part of `ReviewStore`)."""

    @guarded
    def resolution(self, digest: str) -> str | None:
        """The true label a reviewer gave this digest, if any."""
        with self._lock:
            return self._resolution(digest)

    def _resolution(self, digest: str) -> str | None:
        """`resolution`, for a caller that holds the lock."""
        row = self._db.execute("SELECT true_label FROM feedback WHERE digest = ?", (digest,)).fetchone()
        return None if row is None else str(row[0])

    def feedback(self) -> Iterator[dict[str, object]]:
        """Every resolution, oldest first (what `training/` retrains and recalibrates from)."""
        return iter(self._feedback())

    @guarded
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

    @guarded
    def content(self, digest: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT content FROM reviews WHERE digest = ? LIMIT 1", (digest,)).fetchone()
        return None if row is None else bytes(row[0])
