"""Alerts for other systems: ``/api/alerts`` (the active alerts as JSON) and ``/api/alerts/<id>/cap`` (one
alert as an OASIS CAP 1.2 document)."""
from __future__ import annotations

from flask import Flask, Response, abort, jsonify

from alerts import store
from alerts.cap import open_alerts_json, to_cap
from cockpit.runtime import current
from domain.districts import city_boundaries

MAX_ID = 256


def register(server: Flask) -> None:
    @server.route("/api/alerts")
    def active_alerts():
        rt = current()
        s = rt.settings
        snapshots = store.current(rt.warehouse, active_only=True).to_dict("records")
        return jsonify(open_alerts_json(snapshots, s.city.timezone, boundaries=city_boundaries(s.city.adcode)))

    @server.route("/api/alerts/<path:alert_id>/cap")
    def cap(alert_id: str):
        if len(alert_id) > MAX_ID:
            abort(404)
        rt = current()
        s = rt.settings
        found = store.current(rt.warehouse, alert_id=alert_id).to_dict("records")
        if not found:
            abort(404)
        xml = to_cap(found[0], sender=s.alerts.sender, boundaries=city_boundaries(s.city.adcode),
                     timezone=s.city.timezone, rule=rt.files.rules.get(found[0]["rule_id"]))
        return Response(xml, mimetype="application/cap+xml")
