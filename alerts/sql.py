"""Each rule kind as one query the warehouse runs: ``condition(rule, now) → (sql, params)``, pure.

Every query returns the subjects whose condition holds now, one row each, with the columns: subject_id,
subject_name, value (the worst value seen: the alert's peak candidate), district_code, lon, lat (map CRS; NULL
when the subject has no place) and detail (plain text). Identifiers come only from the rule's checked fields
(metric and source are whitelisted in alerts/rules.py); every value is a bound parameter. Counting is by
distinct event or order, so a redelivered message never changes a result.
"""
from __future__ import annotations

from alerts.rules import Rule
from warehouse.queries import Query
from warehouse.sql import identifier

TABLES = {"water": "water_readings", "ecology": "ecology_readings"}
HOUR, DAY = 3600, 86400
HISTORY = 30 * DAY  # an order's or incident's state is read from its events of the last 30 days
# "every reading meets op value" ⇔ the reading least favourable to it does; the worst reading is the other end.
_ALL = {">": "min", ">=": "min", "<": "max", "<=": "max"}
_WORST = {">": "max", ">=": "max", "<": "min", "<=": "min"}


def condition(rule: Rule, now: int) -> Query:
    return BUILDERS[rule.kind](rule, now)


def threshold(rule: Rule, now: int) -> Query:
    table, metric = TABLES[rule.source], identifier(rule.metric) if rule.metric else ""
    params = {"types": list(rule.station_types), "now": now}
    if rule.for_minutes:  # every reading of the window, at least min_readings of them
        window = int(rule.for_minutes * 60)
        params.update(since=now - window, least=rule.min_readings, value=rule.value,
                      spans=now - window * (rule.min_readings - 1) // rule.min_readings)
        value = f"{_WORST[rule.op]}({metric})"
        having = (f"uniqExact(event_id) >= {{least:UInt32}} AND min(ts) <= toDateTime({{spans:UInt32}}, 'UTC') "
                  f"AND {_ALL[rule.op]}({metric}) {rule.op} {{value:Float64}}")
        detail = f"concat('近{rule.for_minutes:g}分钟 ', toString(uniqExact(event_id)), ' 个读数均满足条件')"
        where = f"isNotNull({metric})"
    else:  # the newest reading
        params["since"] = now - int(rule.max_age_minutes * 60)
        if rule.states:
            params["states"] = list(rule.states)
            value = f"argMax({metric}, ts)" if metric else "1"
            having = "has({states:Array(String)}, argMax(state, ts))"
            detail = "concat('状态 ', argMax(state, ts))"
        else:
            params["value"] = rule.value
            value = f"argMax({metric}, ts)"
            having = f"argMax({metric}, ts) {rule.op} {{value:Float64}}"
            detail = "'最新读数'"
        where = f"isNotNull({metric})" if metric else "1"
    sql = f"""
SELECT station_id AS subject_id, '' AS subject_name, toFloat64({value}) AS value,
       any(district_code) AS district_code, any(map_lon) AS lon, any(map_lat) AS lat,
       {detail} AS detail
FROM {table}
WHERE ts > toDateTime({{since:UInt32}}, 'UTC') AND ts <= toDateTime({{now:UInt32}}, 'UTC')
  AND has({{types:Array(String)}}, station_type) AND {where}
GROUP BY station_id
HAVING {having}
ORDER BY station_id"""
    return sql, params


def surge(rule: Rule, now: int) -> Query:
    """Received orders per district and category in the last hour against the same hour of each previous week:
    alert when above mean + k·σ of those weeks (population σ) and at least min_count."""
    weeks = range(1, rule.weeks + 1)
    windows = " OR ".join(f"(ts > toDateTime({{now:UInt32}} - {w * 7 * DAY + HOUR}, 'UTC') "
                          f"AND ts <= toDateTime({{now:UInt32}} - {w * 7 * DAY}, 'UTC'))" for w in (0, *weeks))
    counts = ",\n       ".join(
        f"uniqExactIf(order_id, ts <= toDateTime({{now:UInt32}} - {w * 7 * DAY}, 'UTC') "
        f"AND ts > toDateTime({{now:UInt32}} - {w * 7 * DAY + HOUR}, 'UTC')) AS w{w}" for w in weeks)
    mean = f"({' + '.join(f'w{w}' for w in weeks)}) / {rule.weeks}"
    sigma = f"sqrt(({' + '.join(f'pow(w{w} - baseline, 2)' for w in weeks)}) / {rule.weeks})"
    params = {"now": now, "k": rule.k, "least": rule.min_count}
    category = ""
    if rule.category:
        category, params["category"] = "AND category = {category:String}", rule.category
    sql = f"""
SELECT concat(district_code, '/', category) AS subject_id, category AS subject_name, toFloat64(current) AS value,
       district_code, CAST(NULL AS Nullable(Float64)) AS lon, CAST(NULL AS Nullable(Float64)) AS lat,
       concat('近1小时 ', toString(current), ' 件，前{rule.weeks}周同时段均值 ', toString(round(baseline, 1)),
              '，标准差 ', toString(round(spread, 1))) AS detail
FROM (
    SELECT district_code, category,
           uniqExactIf(order_id, ts > toDateTime({{now:UInt32}} - {HOUR}, 'UTC')) AS current,
           {counts},
           {mean} AS baseline,
           {sigma} AS spread
    FROM hotline_events
    WHERE status = 'received' AND ({windows}) {category}
    GROUP BY district_code, category
)
WHERE current >= {{least:UInt32}} AND current > baseline + {{k:Float64}} * spread
ORDER BY subject_id"""
    return sql, params


def _incidents(value: str, having: str) -> str:
    return f"""
SELECT incident_id AS subject_id, any(type) AS subject_name, toFloat64({value}) AS value,
       argMax(district_code, ts) AS district_code, argMax(map_lon, ts) AS lon, argMax(map_lat, ts) AS lat,
       argMaxIf(description, ts, description != '') AS detail
FROM emergency_events
WHERE ts > toDateTime({{history:UInt32}}, 'UTC') AND ts <= toDateTime({{now:UInt32}}, 'UTC')
GROUP BY incident_id
HAVING {having}
ORDER BY incident_id"""


def incident(rule: Rule, now: int) -> Query:
    """Incidents of the rule's levels, not closed. Value: the grade as a number (Ⅰ = 1)."""
    sql = _incidents("indexOf(['I', 'II', 'III', 'IV'], argMaxIf(level, ts, level != ''))",
                     "argMax(status, ts) != 'closed' AND has({levels:Array(String)}, argMaxIf(level, ts, level != ''))")
    return sql, {"history": now - HISTORY, "now": now, "levels": list(rule.levels)}


def undispatched(rule: Rule, now: int) -> Query:
    """Incidents reported at least ``minutes`` ago with no event after the report. Value: minutes waiting."""
    sql = _incidents("intDiv({now:UInt32} - toUInt32(min(ts)), 60)",
                     "countIf(status != 'reported') = 0 AND min(ts) <= toDateTime({due:UInt32}, 'UTC')")
    return sql, {"history": now - HISTORY, "now": now, "due": now - int(rule.minutes * 60)}


def backlog(rule: Rule, now: int) -> Query:
    """Work orders past their deadline and not completed, per department they were dispatched to: the
    dispatches whose deadline has passed, less the orders with a completion. Set operations on two narrow scans
    rather than every order's state (a GROUP BY of all orders is ten times slower on 10M events). An order
    completed once counts as done, also while a reopening is being worked."""
    sql = """
SELECT department AS subject_id, department AS subject_name, toFloat64(uniqExact(order_id)) AS value,
       '' AS district_code, CAST(NULL AS Nullable(Float64)) AS lon, CAST(NULL AS Nullable(Float64)) AS lat,
       concat('超期在办 ', toString(uniqExact(order_id)), ' 件') AS detail
FROM hotline_events
WHERE status = 'dispatched' AND department != '' AND isNotNull(deadline)
  AND ts > toDateTime({history:UInt32}, 'UTC') AND ts <= toDateTime({now:UInt32}, 'UTC')
  AND assumeNotNull(deadline) < toDateTime({now:UInt32}, 'UTC')
  AND order_id NOT IN (
      SELECT order_id FROM hotline_events
      WHERE status IN ('completed', 'visited')
        AND ts > toDateTime({history:UInt32}, 'UTC') AND ts <= toDateTime({now:UInt32}, 'UTC'))
GROUP BY department
HAVING uniqExact(order_id) > {above:UInt32}
ORDER BY department"""
    return sql, {"history": now - HISTORY, "now": now, "above": rule.above}


BUILDERS = {"threshold": threshold, "surge": surge, "incident": incident, "undispatched": undispatched,
            "backlog": backlog}
