"""HJ 633 AQI, checked against the standard's own tables (copied here from DOMAIN.md, not imported)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.aqi import (
    HJ633_2012,
    HJ633_2026,
    daily_aqi,
    edition_for,
    hourly_aqi,
    iaqi,
    level_of,
)

SHANGHAI = timezone(timedelta(hours=8))
BEFORE = datetime(2025, 6, 1, 12, tzinfo=SHANGHAI)  # HJ 633-2012
AFTER = datetime(2026, 6, 1, 12, tzinfo=SHANGHAI)  # HJ 633—2026

HEADER = (("so2", "24h"), ("so2", "1h"), ("no2", "24h"), ("no2", "1h"), ("pm10", "24h"),
          ("co", "24h"), ("co", "1h"), ("o3", "1h"), ("o3", "8h"), ("pm25", "24h"))
# IAQI | SO2 24h | SO2 1h | NO2 24h | NO2 1h | PM10 24h | CO 24h | CO 1h | O3 1h | O3 8h | PM2.5 24h
TABLE_2012 = (
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (50, 50, 150, 40, 100, 50, 2, 5, 160, 100, 35),
    (100, 150, 500, 80, 200, 150, 4, 10, 200, 160, 75),
    (150, 475, 650, 180, 700, 250, 14, 35, 300, 215, 115),
    (200, 800, 800, 280, 1200, 350, 24, 60, 400, 265, 150),
    (300, 1600, None, 565, 2340, 420, 36, 90, 800, 800, 250),
    (400, 2100, None, 750, 3090, 500, 48, 120, 1000, None, 350),
    (500, 2620, None, 940, 3840, 600, 60, 150, 1200, None, 500),
)
TABLE_2026 = (
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (50, 50, 150, 40, 100, 50, 2, 5, 160, 100, 35),
    (100, 150, 500, 80, 200, 120, 4, 10, 200, 160, 60),
    (150, 475, 650, 180, 700, 250, 14, 35, 300, 215, 115),
    (200, 800, 800, 280, 1200, 350, 24, 60, 400, 265, 150),
    (300, 1600, None, 565, 2340, 420, 36, 90, 800, 800, 250),
    (400, 2100, None, 750, 3090, 500, 48, 120, 1000, None, 350),
    (500, 2620, None, 940, 3840, 600, 60, 150, 1200, None, 500),
)
TABLES = ((HJ633_2012, TABLE_2012), (HJ633_2026, TABLE_2026))
CELLS = [
    pytest.param(edition, pollutant, averaging, bp, row[0], id=f"{edition.name}-{pollutant}-{averaging}-{bp}")
    for edition, table in TABLES
    for row in table
    for (pollutant, averaging), bp in zip(HEADER, row[1:])
    if bp is not None
]
# breakpoints with a next row in their column (not the top, not SO2 1h / O3 8h at 800)
BELOW_TOP = [
    pytest.param(edition, pollutant, averaging, bp, row[0], id=f"{edition.name}-{pollutant}-{averaging}-{bp}")
    for edition, table in TABLES
    for row, above in zip(table, table[1:])
    for (pollutant, averaging), bp, next_bp in zip(HEADER, row[1:], above[1:])
    if next_bp is not None
]


@pytest.mark.parametrize("edition, pollutant, averaging, bp, expected", CELLS)
def test_every_breakpoint_maps_to_its_iaqi(edition, pollutant, averaging, bp, expected):
    assert iaqi(pollutant, bp, averaging, edition) == expected
    assert iaqi(pollutant, float(bp), averaging, edition) == expected


@pytest.mark.parametrize("edition, pollutant, averaging, bp, expected", BELOW_TOP)
def test_just_above_a_breakpoint_rounds_up_to_the_next_integer(edition, pollutant, averaging, bp, expected):
    # no column rises by a whole IAQI point over 0.01 (steepest: CO 24h, 25 per mg/m³)
    assert iaqi(pollutant, bp + 0.01, averaging, edition) == expected + 1


@pytest.mark.parametrize("edition, pollutant, averaging, c, expected", [
    # (50−0)/(50−0)×(12.3−0)+0 = 12.3 → 13
    (HJ633_2012, "so2", "24h", 12.3, 13),
    # (100−50)/(150−50)×(100−50)+50 = 75 exactly
    (HJ633_2012, "so2", "24h", 100, 75),
    # (100−50)/(150−50)×(50.4−50)+50 = 50.2 → 51
    (HJ633_2012, "pm10", "24h", 50.4, 51),
    # (150−100)/(700−200)×(450−200)+100 = 125 exactly
    (HJ633_2012, "no2", "1h", 450, 125),
    # (100−50)/(4−2)×(3.3−2)+50 = 82.5 → 83
    (HJ633_2012, "co", "24h", 3.3, 83),
    # (200−150)/(265−215)×(240−215)+150 = 175 exactly
    (HJ633_2012, "o3", "8h", 240, 175),
    # (500−400)/(1200−1000)×(1100−1000)+400 = 450 exactly
    (HJ633_2012, "o3", "1h", 1100, 450),
    # exact results that naive float arithmetic pushes to +1:
    # (100−50)/(75−35)×(36.6−35)+50 = 1.25×1.6+50 = 52
    (HJ633_2012, "pm25", "24h", 36.6, 52),
    # (100−50)/(4−2)×(2.2−2)+50 = 25×0.2+50 = 55
    (HJ633_2012, "co", "24h", 2.2, 55),
    # (50−0)/(35−0)×4.9 = 7
    (HJ633_2012, "pm25", "24h", 4.9, 7),
    # (100−50)/(160−100)×(102.4−100)+50 = 2+50 = 52
    (HJ633_2012, "o3", "8h", 102.4, 52),
    # 2026: (100−50)/(60−35)×(40−35)+50 = 60 exactly
    (HJ633_2026, "pm25", "24h", 40, 60),
    # 2026: (100−50)/(120−50)×(100−50)+50 = 85.71… → 86
    (HJ633_2026, "pm10", "24h", 100, 86),
])
def test_mid_segment_values_computed_by_hand(edition, pollutant, averaging, c, expected):
    assert iaqi(pollutant, c, averaging, edition) == expected


@pytest.mark.parametrize("pollutant, c, in_2012, in_2026", [
    # 2026: (150−100)/(115−60)×(75−60)+100 = 113.6… → 114
    ("pm25", 75, 100, 114),
    # 2026: (150−100)/(250−120)×(150−120)+100 = 111.5… → 112
    ("pm10", 150, 100, 112),
])
def test_domain_check_examples(pollutant, c, in_2012, in_2026):
    assert iaqi(pollutant, c, "24h", HJ633_2012) == in_2012
    assert iaqi(pollutant, c, "24h", HJ633_2026) == in_2026
    assert hourly_aqi({pollutant: c}, BEFORE).aqi == in_2012
    assert hourly_aqi({pollutant: c}, AFTER).aqi == in_2026


@pytest.mark.parametrize("moment, name", [
    (datetime(2026, 2, 28, 23, 59, 59, tzinfo=SHANGHAI), "HJ 633-2012"),
    (datetime(2026, 3, 1, 0, 0, 0, tzinfo=SHANGHAI), "HJ 633—2026"),
    (datetime(2026, 2, 28, 16, 30, tzinfo=timezone.utc), "HJ 633—2026"),  # 2026-03-01 00:30 in Shanghai
    (datetime(2026, 2, 28, 15, 59, 59, tzinfo=timezone.utc), "HJ 633-2012"),  # 23:59:59 in Shanghai
    (datetime(2026, 3, 1, 0, 0, 0), "HJ 633—2026"),  # naive: read as Shanghai time, like the event contract
    (datetime(2013, 1, 1, tzinfo=SHANGHAI), "HJ 633-2012"),
])
def test_edition_switches_at_2026_03_01_shanghai(moment, name):
    assert edition_for(moment).name == name
    assert hourly_aqi({"pm25": 75}, moment).edition == name


def test_a_replay_of_an_old_day_uses_that_days_edition():
    old = hourly_aqi({"pm25": 75}, datetime(2026, 2, 28, 16, 29, tzinfo=timezone.utc) - timedelta(days=1))
    assert (old.aqi, old.edition) == (100, "HJ 633-2012")


def test_no_primary_pollutant_when_aqi_is_50_or_less():
    result = hourly_aqi({"pm25": 35, "no2": 100, "o3": 20}, BEFORE)
    assert (result.aqi, result.primary) == (50, ())


def test_primary_pollutant_is_the_largest_iaqi_above_50():
    result = hourly_aqi({"pm25": 35.1, "no2": 100}, BEFORE)  # 1.25×0.1+50 = 50.125 → 51
    assert (result.aqi, result.primary) == (51, ("pm25",))


def test_tied_primary_pollutants_are_all_listed_sorted():
    result = hourly_aqi({"pm25": 75, "pm10": 150, "no2": 200, "so2": 10}, BEFORE)
    assert result.aqi == 100
    assert result.primary == ("no2", "pm10", "pm25")
    assert result.iaqi == {"pm25": 100, "pm10": 100, "no2": 100, "so2": 4}  # 50/150×10 = 3.3 → 4


@pytest.mark.parametrize("pm10, aqi, level, category, name, colour", [
    (50, 50, 1, "一级", "优", "#00E400"),
    (51, 51, 2, "二级", "良", "#FFFF00"),  # 0.5×1+50 = 50.5 → 51
    (150, 100, 2, "二级", "良", "#FFFF00"),
    (151, 101, 3, "三级", "轻度污染", "#FF7E00"),  # 0.5×1+100 = 100.5 → 101
    (250, 150, 3, "三级", "轻度污染", "#FF7E00"),
    (251, 151, 4, "四级", "中度污染", "#FF0000"),  # 0.5×1+150 = 150.5 → 151
    (350, 200, 4, "四级", "中度污染", "#FF0000"),
    (350.5, 201, 5, "五级", "重度污染", "#99004C"),  # 100/70×0.5+200 = 200.71… → 201
    (420, 300, 5, "五级", "重度污染", "#99004C"),
    (420.5, 301, 6, "六级", "严重污染", "#7E0023"),  # 100/80×0.5+300 = 300.625 → 301
    (600, 500, 6, "六级", "严重污染", "#7E0023"),
])
def test_levels_and_colours_at_their_boundaries(pm10, aqi, level, category, name, colour):
    result = hourly_aqi({"pm10": pm10}, BEFORE)
    assert (result.aqi, result.level, result.category, result.level_name, result.colour) == (
        aqi, level, category, name, colour)
    assert level_of(aqi) == (level, category, name, colour)


def test_above_the_top_breakpoint_the_iaqi_is_500():
    assert iaqi("pm25", 501, "24h", HJ633_2012) == 500
    assert iaqi("so2", 5000, "24h", HJ633_2026) == 500
    assert iaqi("o3", 1300, "1h", HJ633_2012) == 500
    assert hourly_aqi({"co": 200}, AFTER).aqi == 500


def test_2012_so2_1h_above_800_has_no_1h_iaqi():
    assert iaqi("so2", 800, "1h", HJ633_2012) == 200
    assert iaqi("so2", 801, "1h", HJ633_2012) is None


def test_2012_hourly_so2_above_800_reads_the_24h_column():
    # (300−200)/(1600−800)×(1000−800)+200 = 225
    assert hourly_aqi({"so2": 1000}, BEFORE).iaqi == {"so2": 225}


def test_2026_so2_1h_above_800_is_capped_at_200():
    assert iaqi("so2", 801, "1h", HJ633_2026) == 200
    assert hourly_aqi({"so2": 3000}, AFTER).iaqi == {"so2": 200}


def test_2012_o3_8h_above_800_has_no_8h_iaqi():
    assert iaqi("o3", 800, "8h", HJ633_2012) == 300
    assert iaqi("o3", 801, "8h", HJ633_2012) is None


def test_2012_daily_o3_above_800_reads_the_1h_column():
    # (400−300)/(1000−800)×(900−800)+300 = 350
    assert daily_aqi({"o3": 900}, BEFORE).iaqi == {"o3": 350}


def test_2026_o3_8h_above_800_is_capped_at_300():
    assert iaqi("o3", 801, "8h", HJ633_2026) == 300
    assert daily_aqi({"o3": 1500}, AFTER).iaqi == {"o3": 300}


def test_hourly_uses_1h_columns_and_particulate_24h_columns_on_the_hourly_value():
    result = hourly_aqi({"so2": 150, "no2": 100, "co": 5, "o3": 160, "pm10": 50, "pm25": 35}, BEFORE)
    assert result.iaqi == {"so2": 50, "no2": 50, "co": 50, "o3": 50, "pm10": 50, "pm25": 50}
    assert result.particulates_from_hourly is True
    assert hourly_aqi({"o3": 160}, BEFORE).particulates_from_hourly is False


def test_daily_uses_24h_columns_and_o3_8h():
    result = daily_aqi({"so2": 50, "no2": 40, "co": 2, "o3": 100, "pm10": 50, "pm25": 35}, BEFORE)
    assert result.iaqi == {"so2": 50, "no2": 50, "co": 50, "o3": 50, "pm10": 50, "pm25": 50}
    assert result.particulates_from_hourly is False


def test_no_readings_give_no_aqi():
    result = hourly_aqi({}, AFTER)
    assert (result.aqi, result.primary, result.level, result.colour, result.edition) == (
        None, (), None, None, "HJ 633—2026")


@pytest.mark.parametrize("call", [
    lambda: iaqi("pm25", -0.1, "24h", HJ633_2012),
    lambda: iaqi("pm25", float("nan"), "24h", HJ633_2012),
    lambda: hourly_aqi({"no2": -1}, BEFORE),
    lambda: daily_aqi({"so2": -5}, AFTER),
], ids=["iaqi-negative", "iaqi-nan", "hourly-negative", "daily-negative"])
def test_negative_or_non_finite_concentration_is_a_value_error(call):
    with pytest.raises(ValueError, match="must be finite and ≥ 0"):
        call()


def test_unknown_pollutant_is_a_value_error():
    with pytest.raises(ValueError, match="unknown pollutant 'pm1'"):
        iaqi("pm1", 10, "24h", HJ633_2012)
    with pytest.raises(ValueError, match="unknown pollutant 'noise_db'"):
        hourly_aqi({"pm25": 10, "noise_db": 55}, BEFORE)


def test_a_pollutant_without_that_averaging_is_a_value_error():
    with pytest.raises(ValueError, match="no 1h breakpoints for pm25"):
        iaqi("pm25", 10, "1h", HJ633_2012)
