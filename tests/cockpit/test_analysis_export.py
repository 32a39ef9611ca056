"""The analyst's CSV export over HTTP (the real callback, signed in, both warehouse backends): what a hostile
table cell becomes in the file a spreadsheet opens."""
import base64
import csv
import io

import pytest

from cockpit.app import create_app
from tests.cockpit.calls import post
from tests.helpers import signed_in_client

HOSTILE = [" =HYPERLINK(\"http://x\")", "\u3000=1+1", "＝cmd|' /C calc'!A0", "＋1", "－1", "＠SUM(A1)", ";=1",
           "\t=1", "\r=1", "=1", "正常文本"]


@pytest.fixture
def app(warehouse, settings_for):
    return create_app(settings_for(), warehouse)


def test_the_export_neutralises_every_formula_start_it_is_sent(app, warehouse):
    analyst = signed_in_client(app.server, warehouse, "analyst")
    analyst.get("/analysis")  # Dash finishes registering callbacks on a first request
    columns = [{"id": "text", "name": "诉求内容"}, {"id": "n", "name": "受理工单"}]
    rows = [{"text": text, "n": i} for i, text in enumerate(HOSTILE)]
    reply = post(analyst, app, "analysis-download.data", 1, rows, rows, columns, "?source=hotline", None)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    sent = reply.get_json()["response"]["analysis-download"]["data"]
    assert sent["filename"].endswith(".csv")
    raw = base64.b64decode(sent["content"])
    cells = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert cells[0] == ["诉求内容", "受理工单"]
    assert [r[0] for r in cells[1:]] == ["'" + t for t in HOSTILE[:-1]] + ["正常文本"]
    assert [r[1] for r in cells[1:]] == [str(i) for i in range(len(HOSTILE))]
