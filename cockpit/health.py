"""``/healthz``: is the warehouse reachable, and how fresh is the data? JSON, for monitors and load balancers.

Public: the status only (``ok`` · ``degraded`` · ``down``, and HTTP 200 / 503). In full — rows, freshness, ingest
per topic, jobs, the warehouse's error — for a signed-in admin or a monitor with ``auth.health_token``."""
from __future__ import annotations

import time

import pandas as pd
from flask import Flask, jsonify

from cockpit import job_view
from cockpit.components.freshness import freshness
from cockpit.runtime import current
from cockpit.signin import full_health
from domain.times import epoch
from warehouse import WarehouseError
from warehouse import queries as q

INGEST_WINDOW = 300  # seconds of ingest_stats looked at: a few of its windows


def health_report(rows: int, newest_event: float | None, newest_ingest: float | None, now: float,
                  warn_after: float, alarm_after: float) -> dict:
    level, _ = freshness(newest_event, newest_ingest, now, warn_after, alarm_after)
    return {"status": "ok" if level == "ok" else "degraded", "warehouse": "ok", "freshness": level, "rows": rows,
            "newest_event_age_s": None if newest_event is None else round(now - newest_event, 1),
            "newest_ingest_age_s": None if newest_ingest is None else round(now - newest_ingest, 1)}


def ingest_report(partitions: pd.DataFrame, now: float) -> dict:
    """Per topic, from ingest_stats' newest windows (warehouse.queries.ingest_partitions): the consumer lag
    summed over partitions, rows/s, the newest event's age and how long ago ingest last reported."""
    topics = {}
    for topic, group in partitions.groupby("topic"):
        newest = group["newest_event"].dropna()
        topics[str(topic)] = {
            "lag": int(group["lag"].fillna(0).sum()), "rows_per_s": round(float(group["rows_per_s"].sum()), 1),
            "newest_event_age_s": round(now - pd.Timestamp(newest.max()).timestamp(), 1) if len(newest) else None,
            "reported_age_s": round(now - pd.Timestamp(group["observed"].max()).timestamp(), 1)}
    return {"lag": sum(t["lag"] for t in topics.values()), "topics": topics}


def jobs_report(status: pd.DataFrame, now: float) -> dict:
    """Every job instance's newest heartbeat, and the jobs in trouble (cockpit.job_view.problems)."""
    instances = [{"job": r.job, "instance": r.instance, "state": r.state, "since": _iso(epoch(r.since)),
                  "attempts": int(r.attempts), "error": r.error, "seen_age_s": round(now - epoch(r.seen), 1)}
                 for r in status.itertuples(index=False)]
    trouble = [{**p, "since": _iso(p["since"])} for p in job_view.problems(status, now)]
    return {"instances": instances, "problems": trouble}


def _iso(epoch: float) -> str:
    return pd.Timestamp(epoch, unit="s", tz="UTC").isoformat()


def register(server: Flask) -> None:
    @server.route("/healthz")
    def healthz():
        rt = current()
        now = time.time()
        try:
            df = q.run(rt.warehouse, q.ingest_health())
            partitions = q.run(rt.warehouse, q.ingest_partitions(int(now) - INGEST_WINDOW))
            status = job_view.load(rt.warehouse, now)
        except WarehouseError as e:
            report = {"status": "down", "warehouse": "unreachable", "error": str(e)}
            return jsonify(report if full_health() else {"status": "down"}), 503
        c = rt.settings.cockpit
        rows = int(df["rows"].iloc[0])
        newest = [pd.Timestamp(df[col].iloc[0]).timestamp() if rows else None
                  for col in ("newest_event", "newest_ingest")]
        report = health_report(rows, *newest, now, c.stale_warn_seconds, c.stale_alarm_seconds)
        report["ingest"] = ingest_report(partitions, now)
        report["jobs"] = jobs_report(status, now)
        if report["jobs"]["problems"]:
            report["status"] = "degraded"
        return jsonify(report if full_health() else {"status": report["status"]}), 200
