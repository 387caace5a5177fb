import json
from pathlib import Path

import pytest

from sidecar.errors import FailedPrecondition, NotFound
from sidecar.review.__main__ import export_feedback
from sidecar.review.items import ReviewStatus
from sidecar.review.store import ReviewStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def enqueue(store: ReviewStore, digest: str, label: str = "invoice") -> str:
    review_id, _ = store.enqueue(
        digest=digest,
        content=b"%PDF-" + digest.encode(),
        content_type="pdf",
        predicted_label=label,
        confidence=0.5,
        scores={label: 0.5, "other": 0.5},
        model_name="doc-classifier",
        model_version="2.3",
        source="MODEL",
        reason="LOW_CONFIDENCE",
    )
    return review_id


@pytest.fixture()
def store(tmp_path: Path) -> ReviewStore:
    return ReviewStore(tmp_path / "review.sqlite3", lease_s=60, clock=Clock())


def test_wal_mode_and_idempotent_on_digest(store: ReviewStore) -> None:
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    first = enqueue(store, "d1")
    again, created = store.enqueue(
        digest="d1", content=b"x", content_type="pdf", predicted_label="receipt", confidence=0.1, scores={},
        model_name="m", model_version="1", source="MODEL", reason="x",
    )  # fmt: skip
    assert again == first and not created and store.depth() == 1


def test_list_filters_and_pages(store: ReviewStore) -> None:
    ids = [enqueue(store, f"d{i}", "invoice" if i % 2 else "receipt") for i in range(7)]
    page = store.list(page_size=3)
    assert [i.id for i in page.items] == ids[:3] and page.total == 7 and page.next_page_token
    rest = store.list(page_size=3, page_token=page.next_page_token)
    last = store.list(page_size=3, page_token=rest.next_page_token)
    assert [i.id for i in rest.items + last.items] == ids[3:] and last.next_page_token == ""
    invoices = store.list(label="invoice", page_size=50)
    assert invoices.total == 3 and all(i.predicted_label == "invoice" for i in invoices.items)
    store.claim("ann")
    assert store.list(status=ReviewStatus.CLAIMED).total == 1
    assert store.list(status=ReviewStatus.PENDING).total == 6


def test_claim_lease_expiry_returns_the_item(store: ReviewStore) -> None:
    clock: Clock = store._clock  # type: ignore[assignment]
    a = enqueue(store, "a")
    b = enqueue(store, "b")
    item = store.claim("ann", lease_s=30)
    assert item.id == a and item.status is ReviewStatus.CLAIMED and item.content == b"%PDF-a"
    assert store.claim("bob").id == b  # the oldest *pending* one
    with pytest.raises(NotFound):
        store.claim("carl")
    with pytest.raises(FailedPrecondition):
        store.claim("bob", a)
    clock.now += 31  # ann crashed: her lease ran out
    assert store.get(a) is not None and store.get(a).status is ReviewStatus.PENDING  # type: ignore[union-attr]
    assert store.claim("carl").id == a


def test_resolve_writes_feedback_and_is_idempotent(store: ReviewStore, tmp_path: Path) -> None:
    a = enqueue(store, "a")
    store.claim("ann", a)
    with pytest.raises(FailedPrecondition):
        store.resolve(a, "receipt", "bob")  # claimed by ann
    item, changed = store.resolve(a, "receipt", "ann")
    assert changed and item.status is ReviewStatus.RESOLVED and item.true_label == "receipt"
    assert store.resolve(a, "receipt", "ann")[1] is False
    with pytest.raises(FailedPrecondition):
        store.resolve(a, "invoice", "ann")
    assert store.resolution("a") == "receipt" and store.depth() == 0
    (row,) = list(store.feedback())
    assert row["true_label"] == "receipt" and row["predicted_label"] == "invoice" and row["reviewer"] == "ann"
    store.close()
    out, docs = tmp_path / "feedback.jsonl", tmp_path / "docs"
    assert export_feedback(tmp_path / "review.sqlite3", out, docs) == 1
    exported = json.loads(out.read_text())
    assert exported["digest"] == "a" and (docs / exported["document"]).read_bytes() == b"%PDF-a"


def test_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    s = ReviewStore(path)
    rid = enqueue(s, "z")
    s.close()
    again = ReviewStore(path)
    assert again.get(rid) is not None and again.depth() == 1


def _enqueue_audit(store: ReviewStore, digest: str, label: str = "invoice") -> str:
    review_id, _ = store.enqueue(
        digest=digest, content=b"%PDF-" + digest.encode(), content_type="pdf", predicted_label=label,
        confidence=0.99, scores={label: 0.99}, model_name="doc-classifier", model_version="2.3", source="MODEL",
        reason="AUDIT,RISK_CONTROLLED", audit=True,
    )  # fmt: skip
    return review_id


def test_audit_tally_counts_resolved_audit_items_since(store: ReviewStore) -> None:
    clock: Clock = store._clock  # type: ignore[assignment]
    assert store.audit_tally() == (0, 0)
    right, wrong, pending, later = (_enqueue_audit(store, d) for d in ("a1", "a2", "a3", "a4"))
    plain = enqueue(store, "a2")  # the same document queued for review too: not an audit
    store.resolve(right, "invoice", "ann")
    store.resolve(wrong, "receipt", "ann")
    store.resolve(plain, "receipt", "ann")
    assert store.audit_tally() == (2, 1)  # a3 is pending, the plain review item is no audit
    clock.now += 10
    store.resolve(later, "id_card", "bob")
    assert store.audit_tally() == (3, 2)
    assert store.audit_tally(since=clock.now) == (1, 1)  # only what was resolved since then
    assert store.audit_tally(since=clock.now + 1) == (0, 0)
    assert store.get(pending) is not None


def test_risk_counts_persist_per_rule_and_estimate(tmp_path: Path) -> None:
    path, clock = tmp_path / "r.sqlite3", Clock()
    s = ReviewStore(path, clock=clock)
    assert s.risk_counts("rule-1") == (1_000.0, 0, 0)  # none yet: an estimate begins now
    assert s.save_risk_counts("rule-1", 1_000.0, 30, 40)
    assert s._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again for review items
    s.close()
    clock.now = 1_500.0
    again = ReviewStore(path, clock=clock)
    assert again.risk_counts("rule-1") == (1_000.0, 30, 40)  # the same rule: the saved estimate
    assert not again.save_risk_counts("rule-1", 999.0, 1, 1)  # not the current estimate: ignored
    assert not again.save_risk_counts("rule-0", 1_000.0, 1, 1)
    assert again.risk_counts("rule-1", reset=True) == (1_500.0, 0, 0)  # the rule was installed anew
    clock.now = 2_000.0
    assert again.risk_counts("rule-2") == (2_000.0, 0, 0)  # another rule: a new estimate
    assert again.save_risk_counts("rule-2", 2_000.0, 5, 9) and again.risk_counts("rule-2") == (2_000.0, 5, 9)
