"""/api/alerts and /api/alerts/<id>/cap on a real warehouse (both backends): an evaluated alert, as other
systems read it."""
import secrets
import time
import xml.etree.ElementTree as ET
from urllib.parse import quote

from alerts.engine import evaluate
from alerts.rules import parse_rule
from cockpit import users
from cockpit.app import create_app
from ingest.consume import make_decoder
from ingest.direct import store_events
from tests.helpers import signed_in_client

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


def test_the_feed_lists_active_alerts_and_exports_each_as_cap(warehouse, settings_for):
    settings = settings_for()
    now = time.time()
    ts = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - 600))
    store_events(warehouse, make_decoder(settings), [
        {"event_id": "INC-1.1", "schema": "emergency.v1", "ts": ts, "incident_id": "INC-1", "type": "flood",
         "level": "II", "status": "reported", "district_code": "440106", "description": "<b>河涌漫堤</b> & 转移",
         "location": {"lon": 113.3245, "lat": 23.1375}}])
    rule = parse_rule({"id": "major", "name": "重大突发事件", "kind": "incident", "severity": "red", "levels": ["II"]})
    assert evaluate(warehouse, [rule], now, escalate_after_minutes=10).opened == 1
    server = create_app(settings, warehouse).server
    assert server.test_client().get("/api/alerts").status_code == 401  # other systems sign in too
    client = signed_in_client(server, warehouse, "duty")

    listed = client.get("/api/alerts").get_json()
    assert [(a["rule_id"], a["subject_id"], a["severity"], a["state"]) for a in listed] == [
        ("major", "INC-1", "red", "open")]
    assert listed[0]["district_name"] == "天河区" and listed[0]["detail"] == "<b>河涌漫堤</b> & 转移"

    reply = client.get(f"/api/alerts/{quote(listed[0]['alert_id'], safe='')}/cap")
    assert reply.status_code == 200 and reply.mimetype == "application/cap+xml"
    doc = ET.fromstring(reply.data)
    assert doc.findtext(f"{CAP}msgType") == "Alert" and doc.findtext(f"{CAP}sender") == settings.alerts.sender
    info = doc.find(f"{CAP}info")
    assert info.findtext(f"{CAP}severity") == "Extreme" and info.findtext(f"{CAP}event") == "重大突发事件"
    assert "<b>河涌漫堤</b> & 转移" in info.findtext(f"{CAP}description")
    assert info.find(f"{CAP}area/{CAP}polygon") is not None
    assert client.get("/api/alerts/no-such-alert/cap").status_code == 404


def test_other_systems_read_the_feed_with_a_token(warehouse, settings_for):
    server = create_app(settings_for(), warehouse).server
    users.put(warehouse, "gateway", "wall", secrets.token_urlsafe(12))
    token = users.issue_token(warehouse, "gateway")
    reply = server.test_client().get("/api/alerts", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200 and reply.get_json() == []
    for bad in (token[:-1], "", "x" * 500):
        assert server.test_client().get("/api/alerts", headers={"Authorization": f"Bearer {bad}"}).status_code == 401
    users.issue_token(warehouse, "gateway")  # a new token: the old one stops working
    server = create_app(settings_for(), warehouse).server
    assert server.test_client().get("/api/alerts", headers={"Authorization": f"Bearer {token}"}).status_code == 401
