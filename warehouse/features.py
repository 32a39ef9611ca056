"""The one place where SQL differs by server version (ClickHouse 18.16 from Debian vs chDB 26.x)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Features:
    version: tuple[int, int]

    @property
    def low_cardinality(self) -> bool:
        # Exists in 18.16 only behind allow_experimental_low_cardinality_type; stable from 19.x.
        return self.version >= (19, 1)

    @property
    def ttl(self) -> bool:
        return self.version >= (19, 6)

    def lc(self, inner: str = "String") -> str:
        """Column type for a low-cardinality string (district codes, statuses, categories)."""
        return f"LowCardinality({inner})" if self.low_cardinality else inner

    def ttl_clause(self, column: str, days: int) -> str:
        """``TTL …`` for servers that have it, else nothing (old rows are then dropped by partition)."""
        return f"TTL {column} + INTERVAL {int(days)} DAY" if self.ttl else ""


def parse_version(text: str) -> tuple[int, int]:
    major, minor, *_ = (text.strip() + ".0.0").split(".")
    return int(major), int(minor)
