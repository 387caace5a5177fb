"""The review desk's group commit, on a real SQLite file: the items of requests that reach the desk
together are written in one transaction, each caller hears its own id only once its item is on disk,
and what a reviewer already said still answers."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.documents import make_png
from harness.paths import ROOT
from sidecar.config import ReviewSettings, Settings
from sidecar.dataplane.request import Request
from sidecar.dataplane.review import ReviewDesk
from sidecar.domain import Decision, DecisionKind, Document, Prediction
from sidecar.observability.metrics import REGISTRY
from sidecar.pipeline.analysis import Stages
from sidecar.pipeline.rules import RuleBook

PREDICTION = Prediction("invoice", 0.7, {"invoice": 0.7, "receipt": 0.3}, "doc-classifier", "2.3")
DECISION = Decision(DecisionKind.HUMAN_REVIEW, ("LOW_CONFIDENCE",))


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as pool:
        yield pool


@pytest.fixture
def stages() -> Stages:
    return Stages(Settings(data_dir=ROOT), RuleBook({}), ocr=False)


def _request(stages: Stages, executor: ThreadPoolExecutor, seed: int) -> Request:
    analysis = stages.analyse(Document(make_png(8, 8, pixels=bytes([seed % 256, seed // 256, 7]) * 64), "p.png"))
    analysis.validate()
    return Request(analysis, executor)


def _batches() -> tuple[float, float]:
    name = "doctriage_review_write_batch_size"
    return REGISTRY.get_sample_value(f"{name}_count") or 0.0, REGISTRY.get_sample_value(f"{name}_sum") or 0.0


async def test_items_arriving_together_share_one_transaction_and_are_on_disk(
    tmp_path: Path, stages: Stages, executor: ThreadPoolExecutor
) -> None:
    path = tmp_path / "review.sqlite3"
    desk = ReviewDesk(ReviewSettings(path=path), executor, None, 0.0)
    try:
        requests = [_request(stages, executor, i) for i in range(12)]
        count, total = _batches()
        answers = await asyncio.gather(*(desk.to_review(r, PREDICTION, DECISION) for r in requests))
        ids = [decision.review_id for _, decision in answers]
        assert len(set(ids)) == 12 and all(ids)
        assert _batches() == (count + 1, total + 12)  # one write for the twelve
        # Each acknowledged item is committed: another connection (another process would do) sees it.
        with sqlite3.connect(path) as db:
            on_disk = {row[0]: row[1] for row in db.execute("SELECT id, digest FROM reviews")}
        assert {on_disk[i] for i in ids} == {r.inspection.digest for r in requests}
        assert all("review" in r.timings for r in requests)

        # The same documents again (with a duplicate inside the batch): their ids, nothing new written.
        again = await asyncio.gather(*(desk.to_review(r, PREDICTION, DECISION) for r in [*requests, requests[0]]))
        assert [d.review_id for _, d in again] == [*ids, ids[0]]
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 12
    finally:
        desk.close()


async def test_a_reviewers_label_answers_and_other_is_queued_again(
    tmp_path: Path, stages: Stages, executor: ThreadPoolExecutor
) -> None:
    desk = ReviewDesk(ReviewSettings(path=tmp_path / "review.sqlite3"), executor, None, 0.0)
    try:
        labelled, unknown = _request(stages, executor, 1), _request(stages, executor, 2)
        first = await asyncio.gather(*(desk.to_review(r, PREDICTION, DECISION) for r in (labelled, unknown)))
        desk.store.claim("ana", first[0][1].review_id)
        desk.store.resolve(first[0][1].review_id, "receipt", "ana")
        desk.store.claim("ana", first[1][1].review_id)
        desk.store.resolve(first[1][1].review_id, "other", "ana")
        (reviewed, said), (_, queued) = await asyncio.gather(
            *(desk.to_review(r, PREDICTION, DECISION) for r in (labelled, unknown))
        )
        assert (reviewed.label, reviewed.confidence, said.kind, said.reasons) == (
            "receipt",
            1.0,
            DecisionKind.ACCEPTED,
            ("REVIEWED",),
        )
        assert said.review_id == ""
        # "other" names no label: the answer stays with people (the item the reviewer resolved is its id).
        assert queued.kind is DecisionKind.HUMAN_REVIEW and queued.review_id == first[1][1].review_id
    finally:
        desk.close()
