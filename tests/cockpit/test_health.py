"""/healthz's ingest part: per topic lag, rate and freshness from ingest_stats' newest windows."""
import pandas as pd

from cockpit.health import ingest_report

COLUMNS = ["topic", "partition", "rows", "rejects", "lag", "committed", "high_watermark", "rows_per_s",
           "newest_event", "observed"]


def test_ingest_report_sums_partitions_per_topic_and_ages_their_newest_event():
    now = pd.Timestamp("2026-11-23 12:00:00", tz="UTC").timestamp()
    rows = [("city.hotline", 0, 10, 0, 3, 7, 10, 1.5, pd.Timestamp("2026-11-23 11:59:00"), pd.Timestamp("2026-11-23 11:59:50")),
            ("city.hotline", 1, 10, 0, 2, 8, 10, 2.0, pd.Timestamp("2026-11-23 11:58:00"), pd.Timestamp("2026-11-23 11:59:40")),
            ("city.water", 0, 5, 1, None, None, None, 0.5, None, pd.Timestamp("2026-11-23 11:59:55"))]
    report = ingest_report(pd.DataFrame(rows, columns=COLUMNS), now)
    assert report == {"lag": 5, "topics": {
        "city.hotline": {"lag": 5, "rows_per_s": 3.5, "newest_event_age_s": 60.0, "reported_age_s": 10.0},
        "city.water": {"lag": 0, "rows_per_s": 0.5, "newest_event_age_s": None, "reported_age_s": 5.0}}}


def test_ingest_report_without_stats_is_empty():
    assert ingest_report(pd.DataFrame(columns=COLUMNS), 0.0) == {"lag": 0, "topics": {}}
