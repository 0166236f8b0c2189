"""mapping/backoff.py: the one exponential back-off with jitter the VEN's polls and reports use."""

from mapping.backoff import backoff_delay


def _ceiling(low: float, high: float) -> float:
    return high


def _floor(low: float, high: float) -> float:
    return low


def test_the_wait_doubles_from_the_base_up_to_the_cap():
    assert [backoff_delay(n, 0.5, 10.0, _ceiling) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_the_jitter_draws_between_half_the_ceiling_and_the_ceiling():
    assert backoff_delay(3, 0.5, 10.0, _floor) == 2.0
    assert all(2.0 <= backoff_delay(3, 0.5, 10.0) <= 4.0 for _ in range(200))


def test_many_failures_stay_at_the_cap():
    assert backoff_delay(10_000, 1.0, 300.0, _ceiling) == 300.0
