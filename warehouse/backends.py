"""The two warehouse backends behind one interface: chDB (embedded) and ClickHouse server.

Both take SQL with ``{name:Type}`` placeholders and a params dict, return pandas DataFrames, and insert
columns of Python values (``None`` for NULL, aware datetimes, lists for arrays). chDB allows one data directory per process, so sessions are shared per
path and a lock serialises statements (``USE`` is session state).
"""
from __future__ import annotations

import atexit
import json
import threading
from typing import Any

import pandas as pd

from config.warehouse_url import WarehouseURL, parse_warehouse_url
from warehouse import sql as sqltext
from warehouse.errors import WarehouseError, WarehouseUnavailable
from warehouse.features import Features, parse_version


def _first_line(error: BaseException) -> str:
    """The driver's message on one line, without the server's stack trace."""
    text = str(error).split("Stack trace", 1)[0]
    return " ".join(text.split()).rstrip(". ") or type(error).__name__


def _server_error(error: BaseException, database: str) -> WarehouseError:
    """The project's error for a server-side failure, with a hint where one helps."""
    text = _first_line(error)
    if "Code: 81." in text or "UNKNOWN_DATABASE" in text:
        return WarehouseError(f"database {database!r} does not exist; run 'python run_cockpit.py migrate'")
    return WarehouseError(text)


class Warehouse:
    """Common interface; use :func:`connect`."""

    url: WarehouseURL

    @property
    def database(self) -> str:
        return self.url.database

    def query_df(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        raise NotImplementedError

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        raise NotImplementedError

    def insert_columns(self, table: str, data: dict[str, list]) -> int:
        """Insert rows given column by column (column name → Python values); returns the row count."""
        raise NotImplementedError

    def create_database(self) -> None:
        raise NotImplementedError

    def version(self) -> str:
        return str(self.query_df("SELECT version() AS v")["v"].iloc[0])

    def features(self) -> Features:
        return Features(parse_version(self.version()))

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        df = self.query_df(sql, params)
        return None if df.empty else df.iloc[0, 0]

    def close(self) -> None:
        """Release the connection (a no-op for shared chDB sessions)."""


def _check_insert(table: str, data: dict[str, list]) -> int:
    """The row count of an insert, after checking its identifiers and that every column has that many values."""
    sqltext.identifier(table)
    for c in data:
        sqltext.identifier(c)
    lengths = {len(v) for v in data.values()}
    if len(lengths) > 1:
        raise ValueError(f"insert into {table}: columns of different lengths {sorted(lengths)}")
    return lengths.pop() if lengths else 0


class ChdbWarehouse(Warehouse):
    _sessions: dict[str, Any] = {}
    _current_db: dict[str, str] = {}
    _lock = threading.RLock()

    def __init__(self, url: WarehouseURL):
        from chdb import session as chdb_session

        self.url = url
        self._types: dict[str, dict[str, str]] = {}
        with self._lock:
            if url.path not in self._sessions:
                if self._sessions:
                    held = next(iter(self._sessions))
                    raise WarehouseError(f"chDB holds one data directory per process: {held} is open, "
                                         f"{url.path} cannot be opened too")
                try:
                    self._sessions[url.path] = chdb_session.Session(url.path)
                except RuntimeError as e:
                    raise WarehouseUnavailable(f"cannot open chDB at {url.path}: {_first_line(e)}") from e
            self._session = self._sessions[url.path]

    @classmethod
    def close_sessions(cls) -> None:
        """Close every chDB session; run at interpreter exit, before chDB's own static teardown, which can crash
        the exit while a session is open (chdb-core#177). The lock stays taken: a daemon thread still at work
        waits for good instead of querying a closed session."""
        if cls._lock.acquire(timeout=30):
            for session in cls._sessions.values():
                session.close()
            cls._sessions.clear()

    def _run(self, sql: str, fmt: str, params: dict[str, Any] | None, use_db: bool = True):
        params = sqltext.check_params(sql, params)
        bound = {k: sqltext.literal(v) for k, v in params.items()}
        with self._lock:
            try:
                if use_db and self._current_db.get(self.url.path) != self.database:
                    self._session.query(f"USE {self.database}")
                    self._current_db[self.url.path] = self.database
                return self._session.query(sql, fmt, params=bound or None)
            except RuntimeError as e:  # ChdbError subclasses RuntimeError
                raise _server_error(e, self.database) from e

    def query_df(self, sql, params=None):
        return self._run(sql, "DataFrame", params)

    def execute(self, sql, params=None):
        self._run(sql, "CSV", params)

    def create_database(self):
        self._run(f"CREATE DATABASE IF NOT EXISTS {self.database}", "CSV", None, use_db=False)

    def insert_columns(self, table, data):
        rows = _check_insert(table, data)
        if not rows:
            return 0
        types = self._column_types(table)
        unknown = [c for c in data if c not in types]
        if unknown:
            raise ValueError(f"insert into {table}: no such columns {unknown}")
        # read by name by the Python() table function below
        frame = pd.DataFrame({c: _chdb_column(values, types[c]) for c, values in data.items()}, copy=False)  # noqa: F841
        select = ", ".join(f"JSONExtract({c}, '{types[c]}')" if types[c].startswith("Array(") else c for c in data)
        self._run(f"INSERT INTO {table} ({', '.join(data)}) SELECT {select} FROM Python(frame)", "CSV", None)
        return rows

    def _column_types(self, table: str) -> dict[str, str]:
        """A table's column types, read once per table (they change only by migration, before ingest)."""
        if table not in self._types:
            df = self.query_df("SELECT name, type FROM system.columns WHERE database = {db:String} "
                               "AND table = {t:String}", {"db": self.database, "t": table})
            self._types[table] = dict(zip(df["name"], df["type"]))
        return self._types[table]


atexit.register(ChdbWarehouse.close_sessions)


class ClickHouseWarehouse(Warehouse):
    def __init__(self, url: WarehouseURL, database: str | None = None):
        from clickhouse_driver import Client

        self.url = url
        self._client = Client(host=url.host, port=url.port, user=url.user, password=url.password,
                              database=database or url.database, connect_timeout=5, send_receive_timeout=60)
        self._lock = threading.Lock()  # a clickhouse-driver Client is not thread-safe

    def _execute(self, sql: str, params=None, **kwargs):
        from clickhouse_driver import errors as ch

        with self._lock:
            try:
                return self._client.execute(sql, params, **kwargs)
            except (ch.NetworkError, ch.SocketTimeoutError, EOFError, OSError) as e:
                self._client.disconnect()
                raise WarehouseUnavailable(f"ClickHouse at {self.url.host}:{self.url.port} unreachable: "
                                           f"{_first_line(e)}") from e
            except ch.Error as e:
                raise _server_error(e, self.database) from e

    def query_df(self, sql, params=None):
        params = sqltext.check_params(sql, params)
        rows, types = self._execute(sqltext.to_pyformat(sql), params, with_column_types=True, columnar=True)
        names = [name for name, _ in types]
        return pd.DataFrame({n: col for n, col in zip(names, rows)} if rows else {n: [] for n in names},
                            columns=names)

    def execute(self, sql, params=None):
        params = sqltext.check_params(sql, params)
        self._execute(sqltext.to_pyformat(sql) if params else sql, params or None)

    def create_database(self):
        bootstrap = ClickHouseWarehouse(self.url, database="default")
        try:
            bootstrap.execute(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        finally:
            bootstrap.close()

    def insert_columns(self, table, data):
        rows = _check_insert(table, data)
        if rows:
            self._execute(f"INSERT INTO {table} ({', '.join(data)}) VALUES", list(data.values()), columnar=True)
        return rows

    def close(self):
        self._client.disconnect()


def _chdb_column(values: list, column_type: str):
    """A column as chDB's Python() table function reads it: strings as an object column (pandas would
    otherwise convert them to Arrow strings, twice the cost), arrays as JSON text (it cannot read Python
    lists; ClickHouse parses them back to the column type), nullable integers as pandas nullable integers."""
    if column_type.startswith("Array("):  # as an inferred (non-nullable) string column: JSONExtract needs that
        return [json.dumps(v, ensure_ascii=False) for v in values]
    if column_type in ("String", "LowCardinality(String)"):
        return pd.Series(values, dtype=object)
    if column_type in _NULLABLE_INTS:
        return pd.array(values, dtype=_NULLABLE_INTS[column_type])  # pandas names them as ClickHouse does
    return values


_NULLABLE_INTS = {f"Nullable({u}Int{bits})": f"{u}Int{bits}" for u in ("", "U") for bits in (8, 16, 32, 64)}


def connect(url: str | WarehouseURL) -> Warehouse:
    """Open the warehouse named by ``url`` (validated; raises ValueError with a hint)."""
    parsed = parse_warehouse_url(url) if isinstance(url, str) else url
    return ChdbWarehouse(parsed) if parsed.kind == "chdb" else ClickHouseWarehouse(parsed)
