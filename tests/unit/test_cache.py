from sidecar.dataplane.cache import CachedAnswer, PredictionCache, answer_size
from sidecar.domain import Prediction, RuleFinding


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def answer(label: str = "invoice", version: str = "2.3") -> CachedAnswer:
    scores = {"invoice": 0.7, "receipt": 0.2, "other": 0.1}
    return CachedAnswer(Prediction(label, 0.7, scores, "doc-classifier", version), (RuleFinding("r", True),))


def test_hit_miss_and_key_includes_model_and_preprocessing() -> None:
    cache = PredictionCache(1 << 20, 60)
    cache.put(("d1", "doc-classifier/2.3", "1"), answer())
    assert cache.get(("d1", "doc-classifier/2.3", "1")) == answer()
    assert cache.get(("d1", "doc-classifier/2.4", "1")) is None
    assert cache.get(("d1", "doc-classifier/2.3", "2")) is None
    assert (cache.hits, cache.misses) == (1, 2)


def test_ttl_expires_entries() -> None:
    clock = Clock()
    cache = PredictionCache(1 << 20, ttl_s=10, clock=clock)
    cache.put(("d", "m", "1"), answer())
    clock.now = 9.9
    assert cache.get(("d", "m", "1")) is not None
    clock.now = 10.0
    assert cache.get(("d", "m", "1")) is None
    assert len(cache) == 0 and cache.size_bytes == 0


def test_bounded_in_bytes_evicts_least_recently_used() -> None:
    size = answer_size(answer())
    cache = PredictionCache(3 * size, 60)
    for i in range(3):
        cache.put((f"d{i}", "m", "1"), answer())
    assert cache.get(("d0", "m", "1")) is not None  # d0 is now the most recently used
    cache.put(("d3", "m", "1"), answer())
    assert cache.get(("d1", "m", "1")) is None
    assert cache.get(("d0", "m", "1")) is not None
    assert cache.size_bytes <= 3 * size and len(cache) == 3
    for i in range(100):
        cache.put((f"x{i}", "m", "1"), answer())
    assert cache.size_bytes <= 3 * size


def test_entry_larger_than_the_cache_is_not_stored() -> None:
    cache = PredictionCache(10, 60)
    cache.put(("d", "m", "1"), answer())
    assert len(cache) == 0


def test_correct_rewrites_every_entry_of_a_digest() -> None:
    cache = PredictionCache(1 << 20, 60)
    cache.put(("d", "doc-classifier/2.3", "1"), answer())
    cache.put(("d", "doc-classifier/2.4", "1"), answer(version="2.4"))
    cache.put(("e", "doc-classifier/2.3", "1"), answer())
    assert cache.correct("d", "receipt") == 2
    hit = cache.get(("d", "doc-classifier/2.4", "1"))
    assert hit is not None and hit.prediction.label == "receipt" and hit.prediction.confidence == 1.0
    assert hit.findings == ()
    other = cache.get(("e", "doc-classifier/2.3", "1"))
    assert other is not None and other.prediction.label == "invoice"


def test_latest_for_digest_finds_any_version() -> None:
    cache = PredictionCache(1 << 20, 60)
    cache.put(("d", "doc-classifier/2.4", "1"), answer(version="2.4"))
    found = cache.latest_for_digest("d")
    assert found is not None and found.prediction.model_version == "2.4"
    assert cache.latest_for_digest("nope") is None
