"""The analyst screens' work bounded whatever the URL says (the real refresh callback over HTTP, both warehouse
backends): a period before the warehouse's oldest day or before 1970 is refused with a message and the default
period is queried instead; a query string too long to be a view is not read."""
import pytest

from cockpit.app import create_app
from tests.cockpit.calls import post
from tests.helpers import signed_in_client

OUTPUT = "..analysis-errors.children...analysis-crumbs.children...analysis-kpis.children" \
         "...analysis-districts.hideout...analysis-labels.data...analysis-legend.children...analysis-map-note.children" \
         "...analysis-series.figure...analysis-series-note.children...analysis-kinds.figure...analysis-table.columns" \
         "...analysis-table.data...analysis-table-title.children...analysis-table-note.children...analysis-fresh.data.."


@pytest.fixture
def app(warehouse, settings_for):
    return create_app(settings_for(), warehouse)


def texts(component) -> list[str]:
    """The plain strings in a rendered Dash component tree (as JSON)."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, list):
        return [t for c in component for t in texts(c)]
    if isinstance(component, dict):
        return texts(component.get("props", {}).get("children"))
    return []


@pytest.mark.parametrize("search, message", [
    ("?from=1900-01-01&to=1900-01-08", "开始时间（1900-01-01）早于可查询的最早日期"),
    ("?from=0001-01-01&to=0001-01-02", "开始时间（0001-01-01）早于可查询的最早日期"),
    ("?" + "a=1&" * 1000, "地址参数过长"),
])
def test_an_absurd_period_is_refused_with_a_message_and_the_default_is_shown(app, warehouse, search, message):
    analyst = signed_in_client(app.server, warehouse, "analyst")
    analyst.get("/analysis")
    seen = []
    run = warehouse.query_df
    warehouse.query_df = lambda sql, params=None: seen.append(params or {}) or run(sql, params)
    try:
        reply = post(analyst, app, OUTPUT, search, None)
    finally:
        warehouse.query_df = run
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    errors = texts(reply.get_json()["response"]["analysis-errors"]["children"])
    assert any(t.startswith(message) for t in errors), errors
    assert all(v >= 0 for params in seen for v in params.values() if isinstance(v, int))  # no epoch before 1970
