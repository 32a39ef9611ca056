"""What the benchmarks share: which warehouses to measure."""
from __future__ import annotations

import socket
import tempfile
import uuid


def warehouse_urls(clickhouse: str) -> dict[str, str]:
    """Backend name → URL of a fresh database: chDB always, the ClickHouse server when it answers.
    The URLs end in ``_`` so a caller may append a suffix to get several databases."""
    run = uuid.uuid4().hex[:6]
    urls = {"chDB": f"chdb://{tempfile.mkdtemp()}/wh?database=bench_{run}_"}
    host, port = clickhouse.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        urls["ClickHouse 18.16"] = f"clickhouse://{clickhouse}/bench_{run}_"
    except OSError:
        print(f"(no ClickHouse server at {clickhouse}: server figures skipped)")
    return urls
