"""A/B split, stickiness, shadow and the cache against a real server (2.3 / 2.4 / lite tiny models)."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from doctriage.v1 import admin_pb2, classifier_pb2

from harness.documents import sample_documents
from harness.engine import metric, model_tree, request, running, stubs
from harness.grpc_errors import reason_of
from harness.server import ServerThread

N = 2000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    with running(model_tree(tmp_path_factory.mktemp("models"))) as s:
        yield s


@pytest.fixture(scope="module")
def png() -> bytes:
    return sample_documents(seed=11)["png"]


def versions(stub: Any, content: bytes, keys: list[str]) -> list[str]:
    def one(key: str) -> str:
        response = stub.Classify(request(content, "png", routing_key=key), timeout=30)
        assert response.source in (classifier_pb2.MODEL, classifier_pb2.CACHE)
        return str(response.model_version)

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, keys))


def within(share: float, p: float, n: int, sds: float = 4.5) -> bool:
    return abs(share - p) <= sds * math.sqrt(p * (1 - p) / n)


def test_default_split_is_90_10_by_key_and_at_random(server: ServerThread, png: bytes) -> None:
    with stubs(server) as (classifier, admin):
        split = admin.GetTrafficSplit(admin_pb2.GetTrafficSplitRequest())
        assert {w.version: w.weight for w in split.weights} == pytest.approx({"2.3": 0.9, "2.4": 0.1})
        keyed = Counter(versions(classifier, png, [f"customer-{i}" for i in range(N)]))
        assert within(keyed["2.4"] / N, 0.1, N), keyed
        unkeyed = Counter(versions(classifier, png, [""] * N))
        assert within(unkeyed["2.4"] / N, 0.1, N), unkeyed


def test_routing_key_is_sticky(server: ServerThread, png: bytes) -> None:
    with stubs(server) as (classifier, _):
        keys = [f"user-{i}" for i in range(60)]
        first = versions(classifier, png, keys)
        for _ in range(3):
            assert versions(classifier, png, keys) == first
        assert "2.4" in first and "2.3" in first


def test_set_traffic_split_validates_applies_live_and_persists(server: ServerThread, png: bytes) -> None:
    with stubs(server) as (classifier, admin):
        for weights, shadow in (
            ({"2.3": 0.5, "2.4": 0.4}, ""),  # does not sum to 1
            ({"2.3": 0.5, "9.9": 0.5}, ""),  # not loaded
            ({"2.3": 1.0}, "7.0"),  # shadow not loaded
        ):
            split = admin_pb2.TrafficSplit(
                model_name="doc-classifier",
                weights=[admin_pb2.VersionWeight(version=v, weight=w) for v, w in weights.items()],
                shadow_version=shadow,
                shadow_share=0.5 if shadow else 0.0,
            )
            with pytest.raises(grpc.RpcError) as err:
                admin.SetTrafficSplit(admin_pb2.SetTrafficSplitRequest(split=split))
            assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            assert reason_of(err.value) == "INVALID_REQUEST"
        half = admin_pb2.TrafficSplit(
            model_name="doc-classifier",
            weights=[
                admin_pb2.VersionWeight(version="2.3", weight=50),
                admin_pb2.VersionWeight(version="2.4", weight=50),
            ],
        )
        applied = admin.SetTrafficSplit(admin_pb2.SetTrafficSplitRequest(split=half))
        assert {w.version: w.weight for w in applied.weights} == {"2.3": 0.5, "2.4": 0.5}
        n = 600
        shares = Counter(versions(classifier, png, [f"half-{i}" for i in range(n)]))
        assert within(shares["2.4"] / n, 0.5, n), shares
        state = Path(server.settings.state.dir, "runtime-state.json").read_text()
        assert '"2.4": 0.5' in state
        everything = admin_pb2.TrafficSplit(
            model_name="doc-classifier", weights=[admin_pb2.VersionWeight(version="2.3", weight=1)]
        )
        admin.SetTrafficSplit(admin_pb2.SetTrafficSplitRequest(split=everything))
        assert set(versions(classifier, png, [f"all-{i}" for i in range(50)])) == {"2.3"}
        default = admin_pb2.TrafficSplit(
            model_name="doc-classifier",
            weights=[
                admin_pb2.VersionWeight(version="2.3", weight=0.9),
                admin_pb2.VersionWeight(version="2.4", weight=0.1),
            ],
        )
        admin.SetTrafficSplit(admin_pb2.SetTrafficSplitRequest(split=default))


def test_shadow_runs_the_candidate_and_is_never_returned(server: ServerThread) -> None:
    with stubs(server) as (classifier, admin):
        shadow = admin_pb2.TrafficSplit(
            model_name="doc-classifier",
            weights=[admin_pb2.VersionWeight(version="2.3", weight=1)],
            shadow_version="2.4",
            shadow_share=1.0,
        )
        admin.SetTrafficSplit(admin_pb2.SetTrafficSplitRequest(split=shadow))
        before = sum(
            metric("doctriage_shadow_predictions_total", model="doc-classifier/2.4", agreement=a)
            for a in ("agree", "disagree", "error")
        )
        docs = [sample_documents(seed=100 + i)["png"] for i in range(12)]
        for content in docs:
            response = classifier.Classify(request(content, "png", routing_key="shadowed"), timeout=30)
            assert response.model_version == "2.3" and response.source == classifier_pb2.MODEL
        # Shadow work runs after the answer: give it a moment to land.
        deadline = time.monotonic() + 10
        after = before
        while time.monotonic() < deadline:
            after = sum(
                metric("doctriage_shadow_predictions_total", model="doc-classifier/2.4", agreement=a)
                for a in ("agree", "disagree")
            )
            if after - before >= len(docs):
                break
            time.sleep(0.05)
        assert after - before == len(docs)
        everything = admin_pb2.TrafficSplit(
            model_name="doc-classifier",
            weights=[
                admin_pb2.VersionWeight(version="2.3", weight=0.9),
                admin_pb2.VersionWeight(version="2.4", weight=0.1),
            ],
        )
        admin.SetTrafficSplit(admin_pb2.SetTrafficSplitRequest(split=everything))


def test_cache_hit_skips_the_model(server: ServerThread) -> None:
    content = sample_documents(seed=7)["jpeg"]
    with stubs(server) as (classifier, _):
        hits = metric("doctriage_cache_requests_total", result="hit")
        first = classifier.Classify(request(content, "jpeg", routing_key="c"), timeout=30)
        second = classifier.Classify(request(content, "jpeg", routing_key="c"), timeout=30)
        assert first.source == classifier_pb2.MODEL and second.source == classifier_pb2.CACHE
        assert (second.label, second.confidence, second.model_version) == (
            first.label,
            first.confidence,
            first.model_version,
        )
        assert "model" not in second.timings and "decode" not in second.timings
        assert metric("doctriage_cache_requests_total", result="hit") == hits + 1
