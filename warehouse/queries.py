"""Named queries: each builder is pure and returns ``(sql, params)``; each query function runs one.

Times are passed as epoch seconds (``UInt32``) so both backends read them the same way whatever their time
zone. Counting never relies on merges: ``uniqExact`` and ``argMax`` make a redelivered event count once.
"""
from __future__ import annotations

import pandas as pd

from warehouse.backends import Warehouse

Query = tuple[str, dict]
OPEN_STATUSES_EXCLUDED = ("completed", "visited")


def district_activity(day_start: int, now: int) -> Query:
    """Per district: orders received and completed since ``day_start``, newest event and ingest time.

    Columns: district_code, received, completed, newest_event (DateTime UTC), newest_ingest (DateTime UTC).
    """
    sql = """
SELECT district_code,
       uniqExactIf(order_id, status = 'received') AS received,
       uniqExactIf(order_id, status = 'completed') AS completed,
       max(ts) AS newest_event,
       max(ingested_at) AS newest_ingest
FROM hotline_events
WHERE ts >= toDateTime({day_start:UInt32}, 'UTC') AND ts <= toDateTime({now:UInt32}, 'UTC')
GROUP BY district_code
ORDER BY district_code"""
    return sql, {"day_start": day_start, "now": now}


def order_states(since: int, period_start: int, now: int) -> Query:
    """Per district, over orders with events since ``since``: state counts for the KPIs of DOMAIN.md.

    Columns: district_code, orders, open_orders, overdue_open, due (deadline in [period_start, now)),
    due_on_time (of those, completed by the deadline), rated (visited in the period with an answer),
    satisfied (satisfied + basically_satisfied).
    """
    sql = """
SELECT district AS district_code,
       count() AS orders,
       countIf(last_status NOT IN ('completed', 'visited')) AS open_orders,
       countIf(last_status NOT IN ('completed', 'visited') AND deadline_s > 0
               AND deadline_s < {now:UInt32}) AS overdue_open,
       countIf(deadline_s >= {period_start:UInt32} AND deadline_s < {now:UInt32}) AS due,
       countIf(deadline_s >= {period_start:UInt32} AND deadline_s < {now:UInt32}
               AND completed_s > 0 AND completed_s <= deadline_s) AS due_on_time,
       countIf(visited_s >= {period_start:UInt32} AND last_answer != '') AS rated,
       countIf(visited_s >= {period_start:UInt32}
               AND last_answer IN ('satisfied', 'basically_satisfied')) AS satisfied
FROM (
    SELECT order_id,
           argMax(status, ts) AS last_status,
           argMax(district_code, ts) AS district,
           maxIf(toUInt32(assumeNotNull(deadline)), isNotNull(deadline)) AS deadline_s,
           minIf(toUInt32(ts), status = 'completed') AS completed_s,
           maxIf(toUInt32(ts), status = 'visited') AS visited_s,
           argMaxIf(satisfaction, ts, status = 'visited') AS last_answer
    FROM hotline_events
    WHERE ts >= toDateTime({since:UInt32}, 'UTC') AND ts <= toDateTime({now:UInt32}, 'UTC')
    GROUP BY order_id
)
GROUP BY district
ORDER BY district"""
    return sql, {"since": since, "period_start": period_start, "now": now}


def hourly_received(since: int, now: int) -> Query:
    """Orders received per hour (hour start, UTC) since ``since``. Columns: hour, received."""
    sql = """
SELECT toStartOfHour(ts) AS hour, uniqExact(order_id) AS received
FROM hotline_events
WHERE status = 'received' AND ts >= toDateTime({since:UInt32}, 'UTC') AND ts <= toDateTime({now:UInt32}, 'UTC')
GROUP BY hour
ORDER BY hour"""
    return sql, {"since": since, "now": now}


def category_received(since: int, now: int) -> Query:
    """Orders received since ``since`` by category, largest first. Columns: category, received."""
    sql = """
SELECT category, uniqExact(order_id) AS received
FROM hotline_events
WHERE status = 'received' AND ts >= toDateTime({since:UInt32}, 'UTC') AND ts <= toDateTime({now:UInt32}, 'UTC')
GROUP BY category
ORDER BY received DESC, category"""
    return sql, {"since": since, "now": now}


def latest_orders(since: int, now: int, limit: int = 10) -> Query:
    """The newest received orders, one row per order. Columns: order_id, ts, district_code, category,
    subcategory, urgency, content."""
    sql = f"""
SELECT order_id, ts, district_code, category, subcategory, urgency, content
FROM hotline_events
WHERE status = 'received' AND ts >= toDateTime({{since:UInt32}}, 'UTC') AND ts <= toDateTime({{now:UInt32}}, 'UTC')
ORDER BY ts DESC, order_id
LIMIT 1 BY order_id
LIMIT {int(limit)}"""
    return sql, {"since": since, "now": now}


OPEN_INCIDENTS = """
SELECT * FROM (
    SELECT incident_id, argMax(district_code, ts) AS district, argMax(status, ts) AS last_status,
           argMaxIf(level, ts, level != '') AS grade
    FROM emergency_events
    WHERE ts >= toDateTime({since:UInt32}, 'UTC') AND ts <= toDateTime({now:UInt32}, 'UTC')
    GROUP BY incident_id
)
WHERE last_status != 'closed'"""  # incidents with events in [since, now] not closed: district and grade (newest)


def incident_levels(since: int, now: int) -> Query:
    """Open incidents (:data:`OPEN_INCIDENTS`) by grade ('' ungraded). Columns: level, incidents."""
    sql = f"""
SELECT grade AS level, count() AS incidents
FROM ({OPEN_INCIDENTS})
GROUP BY grade
ORDER BY grade"""
    return sql, {"since": since, "now": now}


def ingest_health() -> Query:
    """Rows stored (duplicates not yet merged included), newest event and insert times.
    Columns: rows, newest_event, newest_ingest."""
    return "SELECT count() AS rows, max(ts) AS newest_event, max(ingested_at) AS newest_ingest FROM hotline_events", {}


def ingest_partitions(since: int) -> Query:
    """Ingest as ingest_stats saw it since ``since`` (epoch s), per topic and partition: rows and rejects in
    that time, and from the newest window the lag, committed offset, end offset, rows/s and the newest
    event (from the newest window that had one). Windows of the same second (``ts`` is whole seconds; a
    consumer's last window may follow its previous one within it) are told apart by the committed offset,
    which only grows. Columns: topic, partition, rows, rejects, lag, committed,
    high_watermark, rows_per_s, newest_event, observed."""
    sql = """
SELECT topic, partition,
       sum(rows) AS rows, sum(rejects) AS rejects,
       argMax(lag, newest) AS lag, argMax(committed, newest) AS committed,
       argMax(high_watermark, newest) AS high_watermark, argMax(rows_per_s, newest) AS rows_per_s,
       max(newest_event) AS newest_event, max(ts) AS observed
FROM (SELECT *, (ts, ifNull(committed, 0)) AS newest FROM ingest_stats)
WHERE ts >= toDateTime({since:UInt32}, 'UTC')
GROUP BY topic, partition
ORDER BY topic, partition"""
    return sql, {"since": since}


def job_status(since: int) -> Query:
    """Each job of each process as its newest heartbeat since ``since`` (epoch s) says. Columns: job, instance,
    state (ok / failing / stopped), since (DateTime UTC: when that state began), attempts, error, seen (the
    newest heartbeat)."""
    sql = """
SELECT job, instance, argMax(state, ts) AS state, argMax(since, ts) AS since, argMax(attempts, ts) AS attempts,
       argMax(error, ts) AS error, max(ts) AS seen
FROM job_status
WHERE ts >= toDateTime({since:UInt32}, 'UTC')
GROUP BY job, instance
ORDER BY job, instance"""
    return sql, {"since": since}


def event_count() -> Query:
    """Distinct hotline events stored. Column: events."""
    return "SELECT uniqExact(event_id) AS events FROM hotline_events", {}


def reject_counts() -> Query:
    """Rejected messages by reason, one row per Kafka position. Columns: reason, rejects."""
    sql = """
SELECT reason, uniqExact(topic, partition, offset) AS rejects
FROM rejects
GROUP BY reason
ORDER BY reason"""
    return sql, {}


GRAINS = {"minute": "sensor_minute", "hour": "sensor_hour"}


def station_series(station_id: str, metric: str, since: int, now: int, grain: str = "hour") -> Query:
    """One metric of one station per minute or hour, from the rollups. Columns: bucket (DateTime UTC),
    readings (distinct), min_value, max_value, last_value, mean."""
    table = GRAINS[grain]  # whitelisted identifier
    sql = f"""
SELECT {grain} AS bucket,
       uniqExactMerge(readings) AS readings,
       minMerge(min_value) AS min_value,
       maxMerge(max_value) AS max_value,
       argMaxMerge(last_value) AS last_value,
       arrayReduce('avg', arrayMap(p -> tupleElement(p, 2), groupUniqArrayMerge(pairs))) AS mean
FROM {table}
WHERE station_id = {{station:String}} AND metric = {{metric:String}}
  AND {grain} >= toDateTime({{since:UInt32}}, 'UTC') AND {grain} <= toDateTime({{now:UInt32}}, 'UTC')
GROUP BY bucket
ORDER BY bucket"""
    return sql, {"station": station_id, "metric": metric, "since": since, "now": now}


def run(wh: Warehouse, query: Query) -> pd.DataFrame:
    sql, params = query
    return wh.query_df(sql, params)
