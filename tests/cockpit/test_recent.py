"""Recent: a value served at once, recomputed in the background when old (pure, on a fake clock)."""
import threading

from cockpit.recent import Recent
from tests.helpers import Clock


def test_the_first_call_computes_then_old_values_are_served_while_one_recomputation_runs():
    clock, calls, gate = Clock(), [], threading.Event()

    def compute():
        calls.append(clock.now)
        if len(calls) > 1:
            gate.wait(5)
        return len(calls)

    recent = Recent(clock)
    assert recent.get("k", compute, ttl=60) == 1
    clock.now = 30
    assert recent.get("k", compute, ttl=60) == 1 and calls == [0]  # fresh: nothing recomputed
    clock.now = 61
    assert recent.get("k", compute, ttl=60) == 1  # old: served at once, recomputing behind
    assert recent.get("k", compute, ttl=60) == 1 and calls == [0, 61]  # one recomputation at a time
    gate.set()
    for _ in range(100):
        if recent.get("k", compute, ttl=600) == 2:
            break
        threading.Event().wait(0.02)
    assert recent.get("k", compute, ttl=600) == 2


def test_a_failing_recomputation_keeps_the_old_value_and_keys_are_bounded():
    clock = Clock()
    recent = Recent(clock, max_keys=2)
    assert recent.get("a", lambda: "old", ttl=1) == "old"
    clock.now = 5
    done = threading.Event()

    def fail():
        done.set()
        raise RuntimeError("warehouse down")
    assert recent.get("a", fail, ttl=1) == "old"
    done.wait(5)
    assert recent.get("a", lambda: "never", ttl=100) == "old"
    recent.get("b", lambda: 2, ttl=1)
    clock.now = 6
    recent.get("c", lambda: 3, ttl=1)  # "a" is the oldest: it goes
    assert recent.get("a", lambda: "new", ttl=100) == "new"
