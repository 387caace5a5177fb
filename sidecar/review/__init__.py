"""Human review queue: documents the sidecar would not decide alone, and what reviewers said."""

from sidecar.review.items import ReviewItem, ReviewPage, ReviewStatus
from sidecar.review.store import ReviewStore

__all__ = ["ReviewItem", "ReviewPage", "ReviewStatus", "ReviewStore"]
