"""Batching warehouse sink: rows buffered per table, written column by column, retried while unavailable."""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Callable

import pandas as pd

from warehouse import Warehouse, WarehouseUnavailable
from warehouse.migrations import ECOLOGY_METRICS, WATER_METRICS

log = logging.getLogger(__name__)

_POSITION = ["extra", "topic", "partition", "offset", "ingested_at"]
_PLACE = ["district_code", "lon", "lat", "map_lon", "map_lat"]
COLUMNS = {
    "hotline_events": ["event_id", "order_id", "ts", "status", "category", "subcategory", "channel", "urgency",
                       "district_code", "lon", "lat", "map_lon", "map_lat", "department", "deadline", "content",
                       "satisfaction", "resolved", "extra", "topic", "partition", "offset", "ingested_at"],
    "rejects": ["topic", "partition", "offset", "key", "raw", "reason", "detail", "received_at"],
    "emergency_events": ["event_id", "incident_id", "ts", "type", "level", "status", "casualties", "units",
                         "description", *_PLACE, *_POSITION],
    "water_readings": ["event_id", "station_id", "station_type", "ts", "interval_s", *WATER_METRICS, "water_class",
                       "state", *_PLACE, *_POSITION],
    "ecology_readings": ["event_id", "station_id", "station_type", "ts", "averaging", *ECOLOGY_METRICS, "aqi",
                         "aqi_level", "primary_pollutants", "aqi_edition", "particulates_from_hourly", *_PLACE,
                         *_POSITION],
}
_NULLABLE_INT = {"resolved": "UInt8", "casualties": "UInt32", "aqi": "UInt16"}


def to_frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """Rows of one table → a DataFrame with exactly the table's columns (nullable ints kept nullable)."""
    df = pd.DataFrame.from_records(rows, columns=COLUMNS[table])
    for column, dtype in _NULLABLE_INT.items():
        if column in df:
            df[column] = df[column].astype(dtype)
    return df


class WarehouseSink:
    def __init__(self, warehouse: Warehouse, *, max_backoff: float = 30.0):
        self.warehouse = warehouse
        self.max_backoff = max_backoff
        self._rows: dict[str, list[dict]] = defaultdict(list)
        self.written: dict[str, int] = defaultdict(int)

    def add(self, table: str, row: dict) -> None:
        self._rows[table].append(row)

    @property
    def size(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def flush(self, stop: threading.Event, keepalive: Callable[[], None] = lambda: None) -> bool:
        """Write everything buffered. While the warehouse is unavailable, retry with backoff (capped), calling
        ``keepalive`` at least every second meanwhile; return False without writing if ``stop`` is set
        (nothing is lost: offsets stay uncommitted)."""
        delay = 0.5
        for table in list(self._rows):
            frame = to_frame(table, self._rows[table])
            while True:
                try:
                    self.warehouse.insert_df(table, frame, COLUMNS[table])
                    break
                except WarehouseUnavailable as e:
                    log.warning("warehouse unavailable, retrying %s insert of %d rows in %.1fs: %s",
                                table, len(frame), delay, e)
                    deadline = time.monotonic() + delay
                    while time.monotonic() < deadline:
                        keepalive()
                        if stop.wait(min(1.0, max(0.0, deadline - time.monotonic()))):
                            return False
                    delay = min(delay * 2, self.max_backoff)
            self.written[table] += len(frame)
            del self._rows[table]
        return True
