"""The sign-in failure limit (pure, on a fake clock)."""
from cockpit.ratelimit import FailureLimit
from tests.helpers import Clock


def test_the_limit_is_a_sliding_window_per_key():
    clock = Clock(1000.0)
    limit = FailureLimit(3, 60, clock)
    for _ in range(2):
        limit.failed("user:a", "addr:1")
        clock.now += 10
    assert limit.retry_after("user:a") == 0
    limit.failed("user:a", "addr:1")  # the third, at 1020
    assert limit.retry_after("user:a") == 40 and limit.retry_after("addr:1") == 40
    assert limit.retry_after("user:b") == 0 and limit.retry_after("user:b", "addr:1") == 40
    clock.now += 40  # the first failure has left the window
    assert limit.retry_after("user:a") == 0
    limit.failed("user:a")
    assert limit.retry_after("user:a") == 10  # the second (1010) + 60 − 1060


def test_success_clears_a_key_and_memory_stays_bounded():
    clock = Clock(1000.0)
    limit = FailureLimit(2, 60, clock, max_keys=100)
    limit.failed("user:a")
    limit.failed("user:a")
    limit.succeeded("user:a")
    assert limit.retry_after("user:a") == 0
    for i in range(250):
        limit.failed(f"user:{i}")
        clock.now += 1
    assert len(limit._failures) <= 100
