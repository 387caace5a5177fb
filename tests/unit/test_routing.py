import random

import pytest

from sidecar.errors import InvalidRequest
from sidecar.inference.routing import TrafficSplit


def split(**weights: float) -> TrafficSplit:
    return TrafficSplit("doc-classifier", {k.replace("_", "."): v for k, v in weights.items()}).validate()


def test_keyed_routing_is_sticky_and_matches_the_weights() -> None:
    s = split(v2_3=0.9, v2_4=0.1)
    keys = [f"customer-{i}" for i in range(20_000)]
    first = [s.route(k) for k in keys]
    assert first == [s.route(k) for k in keys]
    share = first.count("v2.4") / len(keys)
    # binomial sd = sqrt(.09/20000) = 0.0021; 5 sd
    assert abs(share - 0.1) < 0.011


def test_changing_weights_moves_only_the_keys_that_must_move() -> None:
    before = split(v2_3=0.9, v2_4=0.1)
    after = split(v2_3=0.8, v2_4=0.2)
    keys = [f"k{i}" for i in range(10_000)]
    moved = [k for k in keys if before.route(k) != after.route(k)]
    # Only 2.3 → 2.4 moves (about 10 % of the keys), never 2.4 → 2.3.
    assert all(before.route(k) == "v2.3" and after.route(k) == "v2.4" for k in moved)
    assert 0.08 < len(moved) / len(keys) < 0.12


def test_random_routing_without_a_key() -> None:
    s = TrafficSplit("m", {"a": 0.5, "b": 0.5}, _rng=random.Random(7)).validate()
    s = TrafficSplit("m", s.weights, _rng=random.Random(7))
    picks = [s.route("") for _ in range(4000)]
    assert 0.45 < picks.count("a") / len(picks) < 0.55


def test_zero_weight_version_gets_nothing() -> None:
    s = split(a=1.0, b=0.0)
    assert {s.route(f"k{i}") for i in range(500)} == {"a"}


def test_shadow_share_and_never_the_served_version() -> None:
    s = TrafficSplit("m", {"a": 1.0}, shadow_version="b", shadow_share=0.25).validate()
    picks = [s.shadow_for(f"k{i}", "a") for i in range(8000)]
    assert abs(picks.count("b") / len(picks) - 0.25) < 0.025
    assert s.shadow_for("k1", "b") == ""
    assert TrafficSplit("m", {"a": 1.0}).shadow_for("k", "a") == ""


@pytest.mark.parametrize(
    ("weights", "shadow", "share", "loaded", "message"),
    [
        ({"a": 0.5, "b": 0.4}, "", 0.0, None, "sum to 1"),
        ({"a": -1.0, "b": 2.0}, "", 0.0, None, ">= 0"),
        ({}, "", 0.0, None, "at least one"),
        ({"a": 1.0}, "", 0.5, None, "shadow_version"),
        ({"a": 1.0}, "b", 1.5, None, "within"),
        ({"a": 0.5, "b": 0.5}, "", 0.0, {"a"}, "not loaded"),
        ({"a": 1.0}, "c", 0.1, {"a"}, "not loaded"),
    ],
)
def test_validation(
    weights: dict[str, float], shadow: str, share: float, loaded: set[str] | None, message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        TrafficSplit("m", weights, shadow, share).validate(loaded)


def test_percent_weights_are_normalized() -> None:
    s = TrafficSplit("m", {"a": 90, "b": 10}).validate({"a", "b"})
    assert s.weights == {"a": 0.9, "b": 0.1}
    assert TrafficSplit.from_dict(s.as_dict()).weights == s.weights
