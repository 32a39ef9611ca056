import pytest

from config.warehouse_url import parse_warehouse_url


@pytest.mark.parametrize("url, kind, path, host, port, database", [
    ("chdb:///./data/warehouse", "chdb", "./data/warehouse", "", 9000, "cockpit"),
    ("chdb:///var/lib/cockpit?database=city", "chdb", "/var/lib/cockpit", "", 9000, "city"),
    ("clickhouse://u:p@ch.local:9001/ops", "clickhouse", "", "ch.local", 9001, "ops"),
    ("clickhouse://127.0.0.1", "clickhouse", "", "127.0.0.1", 9000, "cockpit"),
])
def test_valid_urls_parse(url, kind, path, host, port, database):
    u = parse_warehouse_url(url)
    assert (u.kind, u.path, u.host, u.port, u.database) == (kind, path, host, port, database)


@pytest.mark.parametrize("url, message", [
    ("mysql://localhost/db", "unsupported scheme 'mysql'"),
    ("chdb://data/warehouse", "three slashes"),
    ("chdb:///", "no data directory"),
    ("chdb:///x?db=y", "unknown chdb URL parameter 'db'"),
    ("clickhouse:///db", "has no host"),
    ("clickhouse://h:99999/db", "malformed URL"),
    ("clickhouse://h/db;drop", "database name 'db;drop'"),
    ("nonsense", "unsupported scheme"),
])
def test_bad_urls_say_what_is_wrong(url, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_warehouse_url(url)


def test_redacted_hides_the_password():
    assert parse_warehouse_url("clickhouse://admin:s3cret@h:9000/d").redacted() == "clickhouse://admin:***@h:9000/d"
