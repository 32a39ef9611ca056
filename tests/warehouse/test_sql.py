import datetime as dt

import pytest

from warehouse import sql


@pytest.mark.parametrize("text, expected", [
    ("SELECT {a:UInt32}", "SELECT %(a)s"),
    ("WHERE x LIKE '50%' AND y = {y:String}", "WHERE x LIKE '50%%' AND y = %(y)s"),
    ("has({names:Array(String)}, 'x')", "has(%(names)s, 'x')"),
    ("SELECT 1", "SELECT 1"),
])
def test_placeholders_become_pyformat(text, expected):
    assert sql.to_pyformat(text) == expected


def test_params_must_match_placeholders():
    assert sql.check_params("SELECT {a:UInt8}", {"a": 1}) == {"a": 1}
    with pytest.raises(ValueError, match=r"missing \['a'\], unused \['b'\]"):
        sql.check_params("SELECT {a:UInt8}", {"b": 1})


@pytest.mark.parametrize("value, text", [
    (True, "1"), (7, "7"), (1.5, "1.5"), ("a'b", "a'b"),
    (dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), "1767225600"),
    (["x", "o'k"], "['x','o\\'k']"),
])
def test_literals_for_chdb(value, text):
    assert sql.literal(value) == text


@pytest.mark.parametrize("name", ["events", "_x1"])
def test_identifiers_pass(name):
    assert sql.identifier(name) == name


@pytest.mark.parametrize("name", ["1x", "a b", "t; DROP TABLE x", "", "x" * 65])
def test_identifiers_reject_anything_else(name):
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        sql.identifier(name)
