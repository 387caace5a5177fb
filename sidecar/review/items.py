"""What the review queue holds: `ReviewItem` (one queued document and its status), `ReviewPage`
(one page of a listing), and how a `reviews` row becomes an item."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


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
class NewItem:
    """A document to queue (`ReviewStore.enqueue_many`). `answered_by_reviewer`: when a reviewer already
    resolved this digest with a real label, that label is the answer and nothing is queued."""

    digest: str
    content: bytes
    content_type: str
    predicted_label: str
    confidence: float
    scores: dict[str, float]
    model_name: str
    model_version: str
    source: str
    reason: str
    audit: bool = False
    answered_by_reviewer: bool = False


@dataclass(frozen=True, slots=True)
class Queued:
    """What became of a `NewItem`: its review id ("" when a reviewer's label answered instead), whether
    this call created it, and the reviewer's label of the digest when `answered_by_reviewer` asked."""

    review_id: str
    created: bool
    true_label: str | None = None


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
EFFECTIVE_STATUS = "CASE WHEN status = 'CLAIMED' AND lease_until < :now THEN 'PENDING' ELSE status END"
# The columns `item_from_row` reads, in its order (the status as it is now: give the query `:now`).
SELECT = _COLUMNS.replace("status,", f"{EFFECTIVE_STATUS} AS status,")


def item_from_row(row: tuple[Any, ...]) -> ReviewItem:
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
