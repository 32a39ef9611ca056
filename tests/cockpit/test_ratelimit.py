"""The sign-in limit: growing delays (pure, on a fake clock) and attempts shared through a real warehouse."""
from cockpit.ratelimit import MemoryAttempts, SignInLimit, wait_after
from tests.helpers import Clock


def test_after_the_free_attempts_each_failure_doubles_the_wait_up_to_the_window():
    window = 900.0
    assert wait_after([100.0, 101.0], 102.0, 3, window) == 0
    assert wait_after([100.0, 101.0, 102.0], 102.0, 3, window) == 1.0  # the 3rd failure: 1 s after it
    assert wait_after([100.0, 101.0, 102.0, 104.0], 104.0, 3, window) == 2.0
    many = [100.0 + i for i in range(30)]
    assert wait_after(many, 129.0, 3, window) == window  # never longer than the window after the last failure
    assert wait_after(many, 129.0 + window, 3, window) == 0  # and all of them have left it
    assert wait_after([100.0, 101.0, 102.0], 103.5, 3, window) == 0  # the delay has passed: one more try


def test_memory_attempts_clear_on_success_and_stay_bounded():
    attempts = MemoryAttempts(60.0, max_keys=100)
    attempts.record("user:a", 1000.0, ok=False)
    attempts.record("user:a", 1001.0, ok=True)
    assert attempts.failures(["user:a"], 900.0) == {"user:a": []}
    for i in range(250):
        attempts.record(f"user:{i}", 1000.0 + i, ok=False)
    assert len(attempts._failures) <= 100


def test_attempts_are_shared_by_every_server_on_one_warehouse(warehouse):
    clock = Clock(1_800_000_000.0)
    one, two = (SignInLimit(warehouse, 2, 900, clock) for _ in range(2))  # two servers
    one.failed("user:wang", "addr:10.0.0.1")
    two.failed("user:wang", "addr:10.0.0.1")
    assert one.retry_after("user:wang") == 1.0 and two.retry_after("addr:10.0.0.1") == 1.0
    assert two.retry_after("user:li") == 0
    clock.now += 0.5
    one.succeeded("user:wang")  # a success clears the name's count, on every server, and not the address's
    assert two.retry_after("user:wang") == 0 and two.retry_after("addr:10.0.0.1") == 0.5


def test_while_the_warehouse_is_down_each_server_counts_what_it_saw(private_clickhouse):
    from warehouse import connect
    from warehouse.migrations import migrate

    wh = connect(private_clickhouse.url("limits"))
    migrate(wh)
    clock = Clock(1_800_000_000.0)
    limit = SignInLimit(wh, 2, 900, clock)
    private_clickhouse.stop()
    try:
        limit.failed("user:wang")
        limit.failed("user:wang")
        assert limit.retry_after("user:wang") == 1.0
    finally:
        private_clickhouse.start()
