"""Human review queue: documents the sidecar would not decide alone, and what reviewers said."""

from sidecar.review.store import ReviewItem, ReviewPage, ReviewStatus, ReviewStore

__all__ = ["ReviewItem", "ReviewPage", "ReviewStatus", "ReviewStore"]
