from sidecar.inference.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_and_refuses() -> None:
    changes: list[BreakerState] = []
    b = CircuitBreaker(
        "m", failure_threshold=3, reset_timeout_s=5, clock=Clock(), on_change=lambda _, s: changes.append(s)
    )
    for _ in range(2):
        assert b.allow()
        b.record(False)
    assert b.state is BreakerState.CLOSED
    assert b.allow()
    b.record(False)
    assert b.state is BreakerState.OPEN and not b.allow()
    assert changes == [BreakerState.OPEN]


def test_success_resets_the_failure_count() -> None:
    b = CircuitBreaker("m", failure_threshold=2, clock=Clock())
    b.record(False)
    b.record(True)
    b.record(False)
    assert b.state is BreakerState.CLOSED


def test_half_open_lets_one_probe_then_closes_or_reopens() -> None:
    clock = Clock()
    b = CircuitBreaker("m", failure_threshold=1, reset_timeout_s=5, clock=clock)
    b.record(False)
    assert not b.allow()
    clock.now = 5.0
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow()
    assert not b.allow()  # only one probe at a time
    b.record(False)
    assert b.state is BreakerState.OPEN
    clock.now = 10.0
    assert b.allow()
    b.record(True)
    assert b.state is BreakerState.CLOSED and b.allow()


def test_slow_success_counts_as_failure() -> None:
    b = CircuitBreaker("m", failure_threshold=2, latency_budget_s=0.1, clock=Clock())
    b.record(True, latency_s=0.5)
    b.record(True, latency_s=0.5)
    assert b.state is BreakerState.OPEN


def test_release_frees_the_probe_without_a_verdict() -> None:
    clock = Clock()
    b = CircuitBreaker("m", failure_threshold=1, reset_timeout_s=1, clock=clock)
    b.record(False)
    clock.now = 1.0
    assert b.allow()
    b.release()
    assert b.state is BreakerState.HALF_OPEN and b.allow()
