"""The alert conditions (alerts/sql.py) as pure builders: every value a typed, bound parameter; identifiers only from
the rule's checked fields; the right aggregate for "every reading" and for the worst one; one window per week."""
import re
from dataclasses import replace

import pytest

from alerts import sql as alert_sql
from alerts.rules import parse_rule
from warehouse.sql import PLACEHOLDER, check_params

NOW = 1_790_000_011
HOUR, DAY, WEEK = 3600, 86400, 7 * 86400
HOSTILE = "环境保护' OR 1=1 --"
TYPES = {"types": "Array(String)", "now": "UInt32", "since": "UInt32", "least": "UInt32", "value": "Float64",
         "states": "Array(String)", "k": "Float64", "category": "String", "history": "UInt32",
         "levels": "Array(String)", "due": "UInt32", "above": "UInt32", "spans": "UInt32"}


def rule(kind: str, **fields):
    return parse_rule({"id": "r-1", "name": "规则", "kind": kind, "severity": "yellow", **fields})


AIR = dict(source="ecology", station_types=["air"], metric="aqi", op=">", value=150.25, for_minutes=117,
           min_readings=3)
PONDING = dict(source="water", station_types=["waterlogging", "river_gauge"], metric="ponding_depth_cm", op=">=",
               value=15.5, max_age_minutes=33)
RIVER = dict(source="water", station_types=["river_gauge"], metric="water_level_m",
             states=["over_warning", "over_guarantee"], max_age_minutes=47)

CASES = [
    ("threshold window", rule("threshold", **AIR),
     {"types": ["air"], "now": NOW, "since": NOW - 117 * 60, "least": 3, "value": 150.25,
      "spans": NOW - 117 * 60 * 2 // 3}),
    ("threshold newest", rule("threshold", **PONDING),
     {"types": ["waterlogging", "river_gauge"], "now": NOW, "since": NOW - 33 * 60, "value": 15.5}),
    ("threshold states", rule("threshold", **RIVER),
     {"types": ["river_gauge"], "now": NOW, "since": NOW - 47 * 60, "states": ["over_warning", "over_guarantee"]}),
    ("surge", rule("surge", k=2.75, min_count=13, weeks=3), {"now": NOW, "k": 2.75, "least": 13}),
    ("surge of a category", rule("surge", category=HOSTILE, k=2.75, min_count=13, weeks=3),
     {"now": NOW, "k": 2.75, "least": 13, "category": HOSTILE}),
    ("incident", rule("incident", levels=["II", "IV"]),
     {"history": NOW - 30 * DAY, "now": NOW, "levels": ["II", "IV"]}),
    ("undispatched", rule("undispatched", minutes=17), {"history": NOW - 30 * DAY, "now": NOW, "due": NOW - 17 * 60}),
    ("backlog", rule("backlog", above=53), {"history": NOW - 30 * DAY, "now": NOW, "above": 53}),
]


@pytest.mark.parametrize("rule_, params", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_builders_bind_every_value_as_a_typed_parameter(rule_, params):
    sql, bound = alert_sql.condition(rule_, NOW)
    assert bound == params
    assert check_params(sql, bound) == params  # every placeholder has a value and every value a placeholder
    declared = {(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(sql)}
    assert declared == {(name, TYPES[name]) for name in params}  # one type per name, the right one
    for value in params.values():  # never spliced into the text
        if isinstance(value, list):
            assert str(value) not in sql and ", ".join(map(repr, value)) not in sql
        else:
            assert not re.search(rf"(?<![\w.]){re.escape(str(value))}(?![\w.])", sql), value


@pytest.mark.parametrize("rule_", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_every_query_returns_the_documented_columns(rule_):
    sql, _ = alert_sql.condition(rule_, NOW)
    select = sql.split("FROM", 1)[0]
    names = [n for n in re.findall(r"\bAS (\w+)", select) if n not in ("district_code", "Nullable")]
    assert names == ["subject_id", "subject_name", "value", "lon", "lat", "detail"]
    assert "district_code" in select


def test_condition_dispatches_on_the_kind():
    for _, rule_, _ in CASES:
        assert alert_sql.condition(rule_, NOW) == alert_sql.BUILDERS[rule_.kind](rule_, NOW)


# --- identifiers come from the rule ----------------------------------------------------------------------------------

@pytest.mark.parametrize("source, types, metric, table", [
    ("ecology", ["air"], "aqi", "ecology_readings"),
    ("ecology", ["noise"], "noise_db", "ecology_readings"),
    ("water", ["pipe_pressure"], "pressure_mpa", "water_readings"),
    ("water", ["water_quality"], "water_class", "water_readings"),
])
def test_threshold_reads_the_sources_table_and_the_rules_metric_only(source, types, metric, table):
    sql, _ = alert_sql.condition(rule("threshold", source=source, station_types=types, metric=metric, op="<=",
                                      value=1), NOW)
    assert re.findall(r"\bFROM (\w+)", sql) == [table]
    others = set(alert_sql.TABLES.values()) - {table}
    assert not any(other in sql for other in others)
    assert f"argMax({metric}, ts) <= {{value:Float64}}" in sql and f"isNotNull({metric})" in sql


def test_a_metric_that_is_not_an_identifier_never_reaches_the_sql():
    checked = rule("threshold", **AIR)
    for metric in ("aqi; DROP TABLE alerts", "aqi)", "1aqi", "a" * 65):
        with pytest.raises(ValueError, match="not a plain SQL identifier"):
            alert_sql.condition(replace(checked, metric=metric), NOW)


def test_a_states_rule_without_a_metric_needs_no_column():
    sql, params = alert_sql.condition(rule("threshold", **{k: v for k, v in RIVER.items() if k != "metric"}), NOW)
    assert "toFloat64(1) AS value" in sql and "isNotNull" not in sql
    assert "has({states:Array(String)}, argMax(state, ts))" in sql
    assert check_params(sql, params) == params


# --- "every reading" and "the worst reading" -------------------------------------------------------------------------

@pytest.mark.parametrize("op, every, worst", [(">", "min", "max"), (">=", "min", "max"), ("<", "max", "min"),
                                              ("<=", "max", "min")])
def test_a_window_rule_tests_the_least_favourable_reading_and_reports_the_worst(op, every, worst):
    sql, _ = alert_sql.condition(rule("threshold", **{**AIR, "op": op}), NOW)
    assert (f"HAVING uniqExact(event_id) >= {{least:UInt32}} AND min(ts) <= toDateTime({{spans:UInt32}}, 'UTC') "
            f"AND {every}(aqi) {op} {{value:Float64}}") in sql
    assert f"toFloat64({worst}(aqi)) AS value" in sql
    assert "ts > toDateTime({since:UInt32}, 'UTC') AND ts <= toDateTime({now:UInt32}, 'UTC')" in sql


def test_an_air_rule_above_150_needs_every_reading_above_and_reports_the_highest():
    sql, _ = alert_sql.condition(rule("threshold", **AIR), NOW)
    assert "min(aqi) > {value:Float64}" in sql and "toFloat64(max(aqi)) AS value" in sql
    assert "uniqExact(event_id) >= {least:UInt32}" in sql  # a redelivered reading is one reading


def test_a_window_rule_needs_readings_spanning_the_window():
    """3 readings over 117 minutes: the first at least two thirds of the window back, so that a burst of readings
    in the last minutes does not count as "for 117 minutes"."""
    _, params = alert_sql.condition(rule("threshold", **AIR), NOW)
    assert params["spans"] == NOW - 78 * 60


def test_a_newest_reading_rule_compares_the_newest_reading():
    sql, _ = alert_sql.condition(rule("threshold", **PONDING), NOW)
    assert "HAVING argMax(ponding_depth_cm, ts) >= {value:Float64}" in sql
    assert "toFloat64(argMax(ponding_depth_cm, ts)) AS value" in sql
    assert "uniqExact" not in sql and "min(" not in sql


# --- surge windows ---------------------------------------------------------------------------------------------------

def offsets(sql: str) -> set[int]:
    return {int(n) for n in re.findall(r"toDateTime\(\{now:UInt32\} - (\d+), 'UTC'\)", sql)}


@pytest.mark.parametrize("weeks", range(1, 9))
def test_surge_compares_the_last_hour_with_the_same_hour_of_each_previous_week(weeks):
    sql, params = alert_sql.condition(rule("surge", weeks=weeks), NOW)
    assert offsets(sql) == {w * WEEK for w in range(weeks + 1)} | {w * WEEK + HOUR for w in range(weeks + 1)}
    for w in range(1, weeks + 1):
        assert (f"uniqExactIf(order_id, ts <= toDateTime({{now:UInt32}} - {w * WEEK}, 'UTC') "
                f"AND ts > toDateTime({{now:UInt32}} - {w * WEEK + HOUR}, 'UTC')) AS w{w}") in sql
    assert f"AS w{weeks + 1}" not in sql
    terms = " + ".join(f"w{w}" for w in range(1, weeks + 1))
    assert f"({terms}) / {weeks} AS baseline" in sql
    spread = " + ".join(f"pow(w{w} - baseline, 2)" for w in range(1, weeks + 1))
    assert f"sqrt(({spread}) / {weeks}) AS spread" in sql  # population σ
    assert "current >= {least:UInt32} AND current > baseline + {k:Float64} * spread" in sql
    assert f"前{weeks}周同时段均值" in sql
    assert "status = 'received'" in sql and "category = {category:String}" not in sql
    assert check_params(sql, params) == params


def test_surge_of_one_category_filters_by_the_bound_category():
    sql, params = alert_sql.condition(rule("surge", category=HOSTILE), NOW)
    assert "AND category = {category:String}" in sql and params["category"] == HOSTILE
    assert "OR 1=1" not in sql


# --- incidents and backlog -------------------------------------------------------------------------------------------

def test_incident_queries_read_30_days_of_incident_events():
    for built in (alert_sql.condition(rule("incident", levels=["I"]), NOW),
                  alert_sql.condition(rule("undispatched", minutes=15), NOW)):
        sql, params = built
        assert re.findall(r"\bFROM (\w+)", sql) == ["emergency_events"]
        assert params["history"] == NOW - 30 * DAY
        assert "GROUP BY incident_id" in sql


def test_an_incident_is_matched_by_its_latest_grade_and_not_closed():
    sql, _ = alert_sql.condition(rule("incident", levels=["II"]), NOW)
    assert "argMax(status, ts) != 'closed'" in sql
    assert "has({levels:Array(String)}, argMaxIf(level, ts, level != ''))" in sql


def test_undispatched_means_no_event_but_the_report_before_the_due_time():
    sql, _ = alert_sql.condition(rule("undispatched", minutes=15), NOW)
    assert "countIf(status != 'reported') = 0 AND min(ts) <= toDateTime({due:UInt32}, 'UTC')" in sql


def test_backlog_counts_dispatches_past_their_deadline_less_completed_orders_per_department():
    sql, _ = alert_sql.condition(rule("backlog", above=5), NOW)
    assert re.findall(r"\bFROM (\w+)", sql) == ["hotline_events", "hotline_events"]
    assert "status = 'dispatched'" in sql and "assumeNotNull(deadline) < toDateTime({now:UInt32}, 'UTC')" in sql
    assert "order_id NOT IN (" in sql and "status IN ('completed', 'visited')" in sql
    assert "HAVING uniqExact(order_id) > {above:UInt32}" in sql  # a redelivered event counts once


