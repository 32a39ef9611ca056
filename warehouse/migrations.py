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
"""
from __future__ import annotations

from typing import Callable

from warehouse.backends import Warehouse
from warehouse.features import Features

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


MIGRATIONS: tuple[Migration, ...] = (
    (1, "hotline events and rejects", _v1),
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
