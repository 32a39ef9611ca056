"""Versioned, idempotent schema migrations.

Each migration is (version, name, statements(features)). ``migrate`` creates the database, applies the
versions above the highest recorded in ``schema_migrations`` and records each one. Statements use
``IF NOT EXISTS`` so a migration interrupted half-way can simply run again.

Table design (why the keys are what they are):
- ``hotline_events``: every state transition of a 12345 work order. ReplacingMergeTree keyed by
  (district_code, ts, event_id) so a redelivered event collapses on merge; queries never rely on merges and
  count with ``uniqExact`` / ``argMax`` so a duplicate never counts twice before then either. District first
  because screens filter and group by district; time next for time-range scans; monthly partitions.
- ``rejects``: bad messages, keyed by their Kafka position so a redelivered reject collapses too.
- ``emergency_events``: like hotline_events, per incident transition.
- ``water_readings`` / ``ecology_readings``: one row per sensor message, wide (one nullable column per metric)
  with the values derived at ingest (GB 3838 class and level state; AQI, level, primary pollutants, edition),
  keyed by (station_id, ts, event_id) because screens read a station's series and the latest per station.
- ``sensor_minute`` / ``sensor_hour``: rollups by materialized view (see ``_v3``).
- ``ingest_stats``: per consumer and partition, rows/s, rejects/s, lag and newest event time (see ``_v4``);
  daily partitions and a 30-day TTL (on servers without TTL, old partitions are dropped by hand).
- ``job_status``: each process's heartbeat per job (see ``_v8``), read as the newest row per job and process.
- ``session_ends`` and ``signin_failures``: what every web server behind one address must agree on — when a
  user's sessions were ended, and the failed sign-ins (see ``_v9``).
"""
from __future__ import annotations

from typing import Callable

from domain.contract import ECOLOGY_METRICS, WATER_METRICS
from warehouse.backends import Warehouse
from warehouse.features import Features

H3_RESOLUTION = 11  # of the cell stored with each work-order and incident event (~25 m edge)

Migration = tuple[int, str, Callable[[Features], list[str]]]


def _v1(f: Features) -> list[str]:
    lc = f.lc()
    return [
        f"""CREATE TABLE IF NOT EXISTS hotline_events (
            event_id String,
            order_id String,
            ts DateTime('UTC'),
            status {lc},
            category {lc},
            subcategory String,
            channel {lc},
            urgency {lc},
            district_code {lc},
            lon Nullable(Float64),
            lat Nullable(Float64),
            map_lon Nullable(Float64),
            map_lat Nullable(Float64),
            department String,
            deadline Nullable(DateTime('UTC')),
            content String,
            satisfaction {lc},
            resolved Nullable(UInt8),
            extra String,
            topic {lc},
            partition UInt16,
            offset UInt64,
            ingested_at DateTime('UTC')
        ) ENGINE = ReplacingMergeTree(ingested_at)
        PARTITION BY toYYYYMM(ts)
        ORDER BY (district_code, ts, event_id)""",
        f"""CREATE TABLE IF NOT EXISTS rejects (
            topic {lc},
            partition UInt16,
            offset UInt64,
            key String,
            raw String,
            reason {lc},
            detail String,
            received_at DateTime('UTC')
        ) ENGINE = ReplacingMergeTree(received_at)
        PARTITION BY toYYYYMM(received_at)
        ORDER BY (topic, partition, offset)""",
    ]


def _v2(f: Features) -> list[str]:
    lc = f.lc()
    position = f"""extra String,
            topic {lc},
            partition UInt16,
            offset UInt64,
            ingested_at DateTime('UTC')"""
    place = f"""district_code {lc},
            lon Nullable(Float64),
            lat Nullable(Float64),
            map_lon Nullable(Float64),
            map_lat Nullable(Float64)"""
    water = ",\n            ".join(f"{m} Nullable(Float64)" for m in WATER_METRICS)
    ecology = ",\n            ".join(f"{m} Nullable(Float64)" for m in ECOLOGY_METRICS)
    return [
        f"""CREATE TABLE IF NOT EXISTS emergency_events (
            event_id String,
            incident_id String,
            ts DateTime('UTC'),
            type {lc},
            level {lc},
            status {lc},
            casualties Nullable(UInt32),
            units Array(String),
            description String,
            {place},
            {position}
        ) ENGINE = ReplacingMergeTree(ingested_at)
        PARTITION BY toYYYYMM(ts)
        ORDER BY (district_code, ts, event_id)""",
        _readings_table("water_readings", f"""interval_s UInt32,
            {water},
            water_class UInt8,
            state {lc}""", lc, place, position),
        _readings_table("ecology_readings", f"""averaging {lc},
            {ecology},
            aqi Nullable(UInt16),
            aqi_level UInt8,
            primary_pollutants Array(String),
            aqi_edition {lc},
            particulates_from_hourly UInt8""", lc, place, position),
    ]


def _readings_table(name: str, columns: str, lc: str, place: str, position: str) -> str:
    """A sensor readings table: one row per message, a station's series in key order."""
    return f"""CREATE TABLE IF NOT EXISTS {name} (
            event_id String,
            station_id String,
            station_type {lc},
            ts DateTime('UTC'),
            {columns},
            {place},
            {position}
        ) ENGINE = ReplacingMergeTree(ingested_at)
        PARTITION BY toYYYYMM(ts)
        ORDER BY (station_id, ts, event_id)"""


def _v3(f: Features) -> list[str]:
    """Minute and hour rollups of every sensor metric, kept by materialized views. Only aggregates that a
    duplicate cannot change: distinct readings, min, max, the last value, and the distinct (event, value)
    pairs from which the mean is taken — so a redelivered reading never moves a rollup."""
    lc = f.lc()
    statements = []
    for grain, bucket in (("minute", "toStartOfMinute"), ("hour", "toStartOfHour")):
        statements.append(f"""CREATE TABLE IF NOT EXISTS sensor_{grain} (
            station_id String,
            metric {lc},
            {grain} DateTime('UTC'),
            readings AggregateFunction(uniqExact, String),
            min_value AggregateFunction(min, Float64),
            max_value AggregateFunction(max, Float64),
            last_value AggregateFunction(argMax, Float64, DateTime('UTC')),
            pairs AggregateFunction(groupUniqArray, Tuple(String, Float64))
        ) ENGINE = AggregatingMergeTree()
        PARTITION BY toYYYYMM({grain})
        ORDER BY (station_id, metric, {grain})""")
        for source, metrics in (("water_readings", WATER_METRICS), ("ecology_readings", ECOLOGY_METRICS)):
            names = ", ".join(f"'{m}'" for m in metrics)
            statements.append(f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {source}_{grain}_mv TO sensor_{grain} AS
            SELECT station_id, metric, {bucket}(ts) AS {grain},
                   uniqExactState(event_id) AS readings,
                   minState(assumeNotNull(value)) AS min_value,
                   maxState(assumeNotNull(value)) AS max_value,
                   argMaxState(assumeNotNull(value), ts) AS last_value,
                   groupUniqArrayState((event_id, assumeNotNull(value))) AS pairs
            FROM {source}
            ARRAY JOIN [{names}] AS metric, [{", ".join(metrics)}] AS value
            WHERE isNotNull(value)
            GROUP BY station_id, metric, {grain}""")
    return statements


def _v4(f: Features) -> list[str]:
    """Ingest observability: one row per consumer, topic and partition every ``ingest.stats_seconds``.
    Plain MergeTree (each row is a distinct observation), ordered for "the latest row per partition"."""
    lc = f.lc()
    return [f"""CREATE TABLE IF NOT EXISTS ingest_stats (
        ts DateTime('UTC'),
        consumer String,
        group_id {lc},
        topic {lc},
        partition UInt16,
        seconds Float32,
        rows UInt32,
        rejects UInt32,
        rows_per_s Float32,
        rejects_per_s Float32,
        committed Nullable(Int64),
        high_watermark Nullable(Int64),
        lag Nullable(Int64),
        newest_event Nullable(DateTime('UTC'))
    ) ENGINE = MergeTree()
    PARTITION BY toYYYYMMDD(ts)
    ORDER BY (topic, partition, ts)
    {f.ttl_clause("ts", 30)}"""]


def _v5(f: Features) -> list[str]:
    """The H3 cell (``H3_RESOLUTION``, of the WGS-84 point; 0 when the event has no location) of each work-order and
    incident event, for the map's grid and drill-down to a cell: coarser cells are its parents, computed with
    bit masks in the query (map_queries.h3_parent_masks), so one stored cell serves every resolution."""
    return [f"ALTER TABLE {table} ADD COLUMN h3 UInt64 DEFAULT 0 AFTER map_lat"
            for table in ("hotline_events", "emergency_events")]


def _v6(f: Features) -> list[str]:
    """Alerts: ``alerts`` holds each alert's latest snapshot (a new version per change, the newest wins);
    ``alert_actions`` is the append-only audit log (who, when, what, from which state to which), from which
    the lifecycle state of every alert can be rebuilt."""
    lc = f.lc()
    return [
        f"""CREATE TABLE IF NOT EXISTS alerts (
            alert_id String,
            rule_id {lc},
            rule_name String,
            kind {lc},
            subject_type {lc},
            subject_id String,
            subject_name String,
            district_code {lc},
            lon Nullable(Float64),
            lat Nullable(Float64),
            state {lc},
            severity {lc},
            escalations UInt8,
            auto_escalated UInt8,
            department String,
            person String,
            value Float64,
            peak Float64,
            detail String,
            first_seen DateTime('UTC'),
            last_seen DateTime('UTC'),
            updated_at DateTime('UTC'),
            version UInt64
        ) ENGINE = ReplacingMergeTree(version)
        ORDER BY alert_id""",
        f"""CREATE TABLE IF NOT EXISTS alert_actions (
            alert_id String,
            seq UInt64,
            ts DateTime('UTC'),
            actor String,
            action {lc},
            from_state {lc},
            to_state {lc},
            severity {lc},
            note String,
            department String,
            person String,
            rule_id {lc}
        ) ENGINE = MergeTree()
        PARTITION BY toYYYYMM(ts)
        ORDER BY (alert_id, seq)""",
    ]


def _v7(f: Features) -> list[str]:
    """Cockpit users: a new version of the row per change, the newest wins. Only hashes are stored: the
    password's (scrypt) and the kiosk token's (SHA-256; a token is 256 random bits, looked up by its hash)."""
    return [f"""CREATE TABLE IF NOT EXISTS users (
            name String,
            role {f.lc()},
            display_name String,
            password_hash String,
            token_hash String,
            disabled UInt8,
            updated_at DateTime('UTC'),
            version UInt64
        ) ENGINE = ReplacingMergeTree(version)
        ORDER BY name"""]


def _v8(f: Features) -> list[str]:
    """Job heartbeats (jobs.status): a row per job and process every beat; ``since`` is when the state began."""
    return [f"""CREATE TABLE IF NOT EXISTS job_status (
            ts DateTime('UTC'),
            job {f.lc()},
            instance String,
            state {f.lc()},
            since DateTime('UTC'),
            attempts UInt32,
            error String
        ) ENGINE = MergeTree()
        PARTITION BY toYYYYMMDD(ts)
        ORDER BY (job, instance, ts)
        {f.ttl_clause("ts", 7)}"""]


def _v9(f: Features) -> list[str]:
    """Shared sign-in state: a row per sign-out (or forced end) of a user's sessions — those opened before the
    newest ``ended_at`` are over — and a row per sign-in attempt by the key it counts against: failures
    (``ok`` 0) and the successes that clear a key's count (``ok`` 1)."""
    return ["""CREATE TABLE IF NOT EXISTS session_ends (
            name String,
            ended_at Float64
        ) ENGINE = MergeTree()
        ORDER BY (name, ended_at)""",
            f"""CREATE TABLE IF NOT EXISTS signin_failures (
            ts DateTime('UTC'),
            key String,
            at Float64,
            ok UInt8
        ) ENGINE = MergeTree()
        PARTITION BY toYYYYMMDD(ts)
        ORDER BY (key, at)
        {f.ttl_clause("ts", 2)}"""]


MIGRATIONS: tuple[Migration, ...] = (
    (1, "hotline events and rejects", _v1),
    (2, "emergency events, water and ecology readings", _v2),
    (3, "minute and hour rollups of sensor readings", _v3),
    (4, "ingest statistics per partition", _v4),
    (5, "H3 cell of work-order and incident events", _v5),
    (6, "alerts and their audit log", _v6),
    (7, "cockpit users", _v7),
    (8, "job heartbeats", _v8),
    (9, "session ends and failed sign-ins", _v9),
)

_LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32, name String, applied_at DateTime('UTC')
) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version"""


def current_version(wh: Warehouse) -> int:
    return int(wh.scalar("SELECT max(version) AS v FROM schema_migrations") or 0)


def migrate(wh: Warehouse, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply pending migrations; return the versions applied (empty when up to date)."""
    wh.create_database()
    wh.execute(_LEDGER)
    done = current_version(wh)
    features = wh.features()
    applied = []
    for version, name, statements in migrations:
        if version <= done:
            continue
        for statement in statements(features):
            wh.execute(statement)
        wh.execute("INSERT INTO schema_migrations (version, name, applied_at) "
                   "SELECT {version:UInt32}, {name:String}, now()", {"version": version, "name": name})
        applied.append(version)
    return applied
