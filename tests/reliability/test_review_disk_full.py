"""The review database's disk fills up, for real: a 1 MiB tmpfs holds it, and a file fills the rest.
A document that must be queued for review is answered UNAVAILABLE / REVIEW_QUEUE_UNAVAILABLE (never
INTERNAL, never an answer whose review item was not written); once space is freed, the retry is
queued and everything acknowledged before is still there. Needs root (mount); skipped otherwise."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from doctriage.v1 import admin_pb2, classifier_pb2

from harness.documents import sample_documents
from harness.engine import model_tree, request, running, stubs, thresholds
from harness.grpc_errors import reason_of


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    command = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_refuses_retryably_and_loses_nothing(tmp_path: Path, small_disk: Path) -> None:
    root = model_tree(tmp_path / "models", v24=False, lite=False, favour="invoice", bias=5.0)
    review = {"path": small_disk / "review.sqlite3", "busy_timeout_s": 0.2}
    traffic = {"weights": {"2.3": 1.0}, "fallback_name": ""}
    with running(root, traffic=traffic, review=review) as server, stubs(server) as (classifier, admin):
        admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=thresholds(1.0, 0.99)))  # all to review
        first = classifier.Classify(request(sample_documents(seed=71)["png"], "png"), timeout=30)
        assert first.decision == classifier_pb2.HUMAN_REVIEW and first.review_id
        filler = small_disk / "filler"
        with filler.open("wb", buffering=0) as fh:  # fill what is left of the disk
            try:
                while True:
                    fh.write(b"\0" * 4096)
            except OSError:
                pass
        refused = 0
        for seed in range(72, 80):  # documents of ~100 KB: the first that needs a new page fails
            try:
                classifier.Classify(request(sample_documents(seed=seed)["png"], "png"), timeout=30)
            except grpc.RpcError as err:
                assert err.code() is grpc.StatusCode.UNAVAILABLE, err
                assert reason_of(err) == "REVIEW_QUEUE_UNAVAILABLE" and "full" in err.details()
                refused += 1
                last = seed
        assert refused > 0
        filler.unlink()
        again = classifier.Classify(request(sample_documents(seed=last)["png"], "png"), timeout=30)
        assert again.decision == classifier_pb2.HUMAN_REVIEW and again.review_id
        ids = {i.id for i in admin.ListReviews(admin_pb2.ListReviewsRequest(page_size=100)).items}
        assert {first.review_id, again.review_id} <= ids
