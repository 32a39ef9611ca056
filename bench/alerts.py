"""One evaluation cycle of every alert rule over 10M work-order events and 50M sensor readings in chDB.

    python -m bench.alerts [--orders 10000000] [--readings 50000000] [--runs 5]

The city is ``bench/citydata.py``'s (10M work-order events and 50M readings generated inside chDB, with "what
is going on now" so that every rule fires), in a temporary directory removed at the end.

Timed: (a) ``alerts.engine.evaluate`` over every rule of ``config/alerts.yaml`` — the first cycle (opens the
alerts), then ``--runs`` cycles one alert interval apart (re-fires), each split into its rule queries, reading the
active alerts, writing, and the engine's own Python; (b) after each of those cycles, the baseline at the same
``now``: the bare SQL of each rule (``warehouse.queries.run(wh, alerts.sql.condition(rule, now))``), per rule and
summed. Interleaving the two keeps the load of other jobs on the machine out of their ratio, and the process's CPU
time (chDB's threads included) is printed beside the wall time, which such load inflates. Per rule, the granules its
query reads (``EXPLAIN indexes = 1``) say where the time goes. Target: cycle ≤ 2 s.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time

from alerts import engine, store
from alerts.engine import evaluate
from alerts.rules import load_rules
from alerts.sql import condition
from bench.citydata import filled_city, percentile
from domain.paths import ROOT
from warehouse import queries


def granules(wh, query: tuple[str, dict]) -> str:
    """Per table read: the granules left to read after partition pruning and the primary key, of the granules of
    the parts that could hold the time range (the last ``Granules:`` line of each ``ReadFromMergeTree``)."""
    sql, params = query
    lines = queries.run(wh, ("EXPLAIN indexes = 1 " + sql, params)).iloc[:, 0].tolist()
    out, table = [], ""
    for line in map(str.strip, lines):
        if "ReadFromMergeTree" in line:
            table = line.split("(")[-1].rstrip(")").split(".")[-1]
        elif line.startswith("Granules:"):
            last = line.split(":", 1)[1].strip()
            out = [o for o in out if not o.startswith(table + " ")] + [f"{table} {last}"]
    return "; ".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", type=int, default=10_000_000, help="work-order events (hotline_events rows)")
    p.add_argument("--readings", type=int, default=50_000_000, help="sensor readings, nine tenths water")
    p.add_argument("--runs", type=int, default=5, help="cycles after the first, and rounds of bare SQL")
    p.add_argument("--rollups", action="store_true", help="keep the readings' minute and hour rollup views (slower fill)")
    p.add_argument("--keep", action="store_true", help="keep the data directory")
    args = p.parse_args()
    directory = tempfile.mkdtemp(prefix="bench_alerts_")
    print(f"data in {directory} ({shutil.disk_usage(directory).free / 2**30:.0f} GiB free there)")
    try:
        run(directory, args)
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


class Stopwatch:
    """Times every warehouse call of an evaluation cycle, by patching the names the engine and the store call
    (``warehouse.queries.run`` as imported there, the warehouse's ``insert_columns``): the rule queries in rule order,
    ``current`` (the active alerts), ``write`` (the inserts) and the ``rest`` (the engine's own Python)."""

    def __init__(self, wh):
        self.calls: list[tuple[str, float]] = []
        engine.run, store.run = self._timed(engine.run, "rule"), self._timed(store.run, "current")
        wh.insert_columns = self._timed(wh.insert_columns, "write")

    def _timed(self, fn, what: str):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.calls.append((what, time.perf_counter() - t))
        return timed

    def cycle(self, wh, rules: list, now: int) -> tuple[object, dict[str, float], float]:
        """One evaluate(), its seconds per rule query, in ``current``, ``write`` and the ``rest``, and the CPU
        seconds of the process (chDB's threads included)."""
        self.calls.clear()
        cpu = time.process_time()
        result = evaluate(wh, rules, now, escalate_after_minutes=10)
        cpu = time.process_time() - cpu
        rule_ids = iter(r.id for r in rules)
        spent = {"current": 0.0, "write": 0.0}
        for what, seconds in self.calls:
            key = next(rule_ids) if what == "rule" else what
            spent[key] = spent.get(key, 0.0) + seconds
        spent["rest"] = result.seconds - sum(spent.values())  # the engine's own Python
        return result, spent, cpu


def bare_sql(wh, rules: list, now: int) -> tuple[dict[str, float], dict[str, int], float]:
    """The baseline: each rule's query alone; seconds and subjects firing per rule, CPU seconds in all."""
    seconds, firing = {}, {}
    cpu = time.process_time()
    for rule in rules:
        t = time.perf_counter()
        firing[rule.id] = len(queries.run(wh, condition(rule, now)))
        seconds[rule.id] = time.perf_counter() - t
    return seconds, firing, time.process_time() - cpu


def run(directory: str, args) -> None:
    now = int(time.time())
    wh = filled_city(directory, "bench_alerts", args.orders, args.readings, now, rollups=args.rollups)

    rules = load_rules(ROOT / "config" / "alerts.yaml")
    watch = Stopwatch(wh)
    print(f"\n(a) evaluation cycles of {len(rules)} rules, each followed by (b) the bare SQL of every rule at the same now")
    first, _, cpu = watch.cycle(wh, rules, now)
    print(f"   first cycle          {first.seconds * 1000:6.0f} ms (CPU {cpu:4.1f} s)   opened {first.opened}")
    cycles, cycle_cpu, in_cycle, bare, bare_cpu, firing = [], [], [], [], [], {}
    for i in range(1, args.runs + 1):
        c, spent, cpu = watch.cycle(wh, rules, now + i * 60)
        seconds, firing, sql_cpu = bare_sql(wh, rules, now + i * 60)
        cycles.append(c.seconds)
        cycle_cpu.append(cpu)
        in_cycle.append(spent)
        bare.append(seconds)
        bare_cpu.append(sql_cpu)
        print(f"   cycle {i} (+{i} min)     {c.seconds * 1000:6.0f} ms (CPU {cpu:4.1f} s)   re-fired {c.refired}, "
              f"opened {c.opened}, resolved {c.resolved}, escalated {c.escalated}; "
              f"bare SQL {sum(seconds.values()) * 1000:.0f} ms (CPU {sql_cpu:4.1f} s)")
    median = statistics.median(cycles)
    print(f"   further cycles: median {median * 1000:.0f} ms, p95 {percentile(cycles, 0.95) * 1000:.0f} ms, "
          f"CPU median {statistics.median(cycle_cpu):.1f} s (2 cores)")

    def ms(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows) * 1000

    print(f"\n   median of {args.runs}, ms        bare SQL   in the cycle  firing   granules read / all (EXPLAIN indexes = 1)")
    for rule in rules:
        print(f"   {rule.id:<26} {ms(bare, rule.id):8.0f} {ms(in_cycle, rule.id):12.0f}    {firing[rule.id]:4}    "
              f"{granules(wh, condition(rule, now))}")
    for key in ("current", "write", "rest"):
        print(f"   {'engine: ' + key:<26} {'':8} {ms(in_cycle, key):12.0f}")
    totals = [sum(b.values()) for b in bare]
    total = statistics.median(totals)
    per_rule = {rule.id: ms(bare, rule.id) for rule in rules}
    dominant = max(per_rule, key=per_rule.get)
    print(f"   {'sum':<26} {total * 1000:8.0f}   (largest: {dominant}, {per_rule[dominant] / (total * 1000):.0%})")
    print(f"\ncycle median {median * 1000:.0f} ms / bare SQL median {total * 1000:.0f} ms: ratio {median / total:.2f} "
          f"(CPU {statistics.median(cycle_cpu) / statistics.median(bare_cpu):.2f}); "
          f"target ≤ 2000 ms: {'met' if median <= 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
