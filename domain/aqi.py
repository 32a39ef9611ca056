"""Air quality index per HJ 633 (环境空气质量指数（AQI）技术规定), editions 2012 and 2026.

Each edition is data: its breakpoint table (表1), its effective date, and what it does above the columns that end at
800 µg/m³ (SO2 1h, O3 8h). The edition is chosen by the observation's local date in Asia/Shanghai, so a replay of an
old day gives that day's AQI. IAQI is computed exactly (``Fraction`` of the decimal value) and rounded up, so a value
at a breakpoint gives that breakpoint's IAQI, never one more from float noise.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLLUTANTS = ("so2", "no2", "pm10", "co", "o3", "pm25")  # µg/m³, CO mg/m³
COLUMNS = (("so2", "24h"), ("so2", "1h"), ("no2", "24h"), ("no2", "1h"), ("pm10", "24h"),
           ("co", "24h"), ("co", "1h"), ("o3", "1h"), ("o3", "8h"), ("pm25", "24h"))
_ = None  # no breakpoint in this row: see Edition.above_top

# HJ 633-2012 表1: IAQI, then one breakpoint per column of COLUMNS.
ROWS_2012 = (
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (50, 50, 150, 40, 100, 50, 2, 5, 160, 100, 35),
    (100, 150, 500, 80, 200, 150, 4, 10, 200, 160, 75),
    (150, 475, 650, 180, 700, 250, 14, 35, 300, 215, 115),
    (200, 800, 800, 280, 1200, 350, 24, 60, 400, 265, 150),
    (300, 1600, _, 565, 2340, 420, 36, 90, 800, 800, 250),
    (400, 2100, _, 750, 3090, 500, 48, 120, 1000, _, 350),
    (500, 2620, _, 940, 3840, 600, 60, 150, 1200, _, 500),
)
# HJ 633—2026 changes only the IAQI-100 row for particulates.
_CHANGES_2026 = {(100, ("pm10", "24h")): 120, (100, ("pm25", "24h")): 60}
ROWS_2026 = tuple(
    (row[0], *(_CHANGES_2026.get((row[0], column), bp) for column, bp in zip(COLUMNS, row[1:])))
    for row in ROWS_2012
)


@dataclass(frozen=True, eq=False)
class Edition:
    name: str
    effective: date
    rows: tuple[tuple[int | None, ...], ...]
    # IAQI above a column's last breakpoint; None: this column gives no IAQI there. Unlisted columns: 500.
    above_top: Mapping[tuple[str, str], int | None] = field(default_factory=dict)

    def breakpoints(self, pollutant: str, averaging: str) -> tuple[tuple[int, int], ...]:
        """(IAQI, concentration) pairs of one column, lowest first."""
        if (pollutant, averaging) not in COLUMNS:
            raise ValueError(f"HJ 633 has no {averaging} breakpoints for {pollutant}")
        i = COLUMNS.index((pollutant, averaging)) + 1
        return tuple((row[0], row[i]) for row in self.rows if row[i] is not None)


# 2012: SO2 1h > 800 → report the 24h SO2 IAQI; O3 8h > 800 → report the 1h O3 IAQI (表1 notes 2 and 3).
# The nationwide date is 2016-01-01; edition_for also uses it for earlier moments (key cities adopted it from 2012).
HJ633_2012 = Edition("HJ 633-2012", date(2016, 1, 1), ROWS_2012, {("so2", "1h"): None, ("o3", "8h"): None})
# 2026: the caps are how secondary sources read the 2026 text (SO2 1h > 800 → 200, O3 8h > 800 → 300).
HJ633_2026 = Edition("HJ 633—2026", date(2026, 3, 1), ROWS_2026, {("so2", "1h"): 200, ("o3", "8h"): 300})
EDITIONS = (HJ633_2012, HJ633_2026)

# (highest AQI, level, 类别级别, 类别, colour)
LEVELS = (
    (50, 1, "一级", "优", "#00E400"),
    (100, 2, "二级", "良", "#FFFF00"),
    (150, 3, "三级", "轻度污染", "#FF7E00"),
    (200, 4, "四级", "中度污染", "#FF0000"),
    (300, 5, "五级", "重度污染", "#99004C"),
    (500, 6, "六级", "严重污染", "#7E0023"),
)
HOURLY_AVERAGING = {"so2": "1h", "no2": "1h", "co": "1h", "o3": "1h", "pm10": "24h", "pm25": "24h"}
DAILY_AVERAGING = {"so2": "24h", "no2": "24h", "co": "24h", "o3": "8h", "pm10": "24h", "pm25": "24h"}
# When a 2012 column gives no IAQI, the same value is read in this other column (see hourly_aqi / daily_aqi).
_FALLBACK = {("so2", "1h"): "24h", ("o3", "8h"): "1h"}


@dataclass(frozen=True)
class AqiResult:
    aqi: int | None
    iaqi: dict[str, int]
    primary: tuple[str, ...]
    level: int | None
    category: str | None  # 类别级别: 一级 … 六级
    level_name: str | None  # 类别: 优 … 严重污染
    colour: str | None
    edition: str
    particulates_from_hourly: bool = False


def edition_for(moment: datetime) -> Edition:
    """The edition in force on the moment's Asia/Shanghai date (naive moments are read as Shanghai time)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    day = moment.astimezone(SHANGHAI).date()
    return next((e for e in reversed(EDITIONS) if day >= e.effective), EDITIONS[0])


def _check_pollutant(pollutant: str) -> None:
    if pollutant not in POLLUTANTS:
        raise ValueError(f"unknown pollutant {pollutant!r}; expected one of {', '.join(POLLUTANTS)}")


def iaqi(pollutant: str, concentration: float, averaging: str, edition: Edition) -> int | None:
    """IAQI of one concentration, rounded up; 500 above the top breakpoint.

    None when the edition gives this column no IAQI at that value (2012: SO2 1h or O3 8h above 800).
    """
    _check_pollutant(pollutant)
    points = edition.breakpoints(pollutant, averaging)
    if not math.isfinite(concentration) or concentration < 0:
        raise ValueError(f"{pollutant} concentration must be finite and ≥ 0, got {concentration}")
    c = Fraction(str(concentration))  # the decimal as written, not its binary approximation
    for (i_lo, bp_lo), (i_hi, bp_hi) in zip(points, points[1:]):
        if c <= bp_hi:
            return math.ceil(Fraction(i_hi - i_lo, bp_hi - bp_lo) * (c - bp_lo) + i_lo)
    return edition.above_top.get((pollutant, averaging), 500)


def level_of(aqi: int) -> tuple[int, str, str, str]:
    """(level, 类别级别, 类别, colour) of an AQI."""
    return next(row[1:] for row in LEVELS if aqi <= row[0])


def _aqi(readings: Mapping[str, float], moment: datetime, averaging_of: Mapping[str, str],
         particulates_from_hourly: bool) -> AqiResult:
    edition = edition_for(moment)
    values = {}
    for pollutant, concentration in readings.items():
        _check_pollutant(pollutant)
        averaging = averaging_of[pollutant]
        value = iaqi(pollutant, concentration, averaging, edition)
        if value is None:
            value = iaqi(pollutant, concentration, _FALLBACK[(pollutant, averaging)], edition)
        values[pollutant] = value
    if not values:
        return AqiResult(None, {}, (), None, None, None, None, edition.name, False)
    aqi = max(values.values())
    primary = tuple(sorted(p for p, v in values.items() if v == aqi)) if aqi > 50 else ()
    return AqiResult(aqi, values, primary, *level_of(aqi), edition.name,
                     particulates_from_hourly and bool({"pm10", "pm25"} & values.keys()))


def hourly_aqi(readings: Mapping[str, float], moment: datetime) -> AqiResult:
    """Real-time AQI from one hour's readings (keys from POLLUTANTS; others raise ValueError).

    SO2, NO2, CO, O3 use their 1h columns; PM10 and PM2.5 have only 24h columns, applied here to the hourly value
    (``particulates_from_hourly`` then says so). 2012, SO2 1h above 800: the rule asks for the 24h SO2 IAQI, which an
    hourly reading does not have, so the 24h column is applied to the 1h value.
    """
    return _aqi(readings, moment, HOURLY_AVERAGING, particulates_from_hourly=True)


def daily_aqi(readings_24h: Mapping[str, float], moment: datetime) -> AqiResult:
    """Daily AQI from 24h averages, with ``o3`` as the daily maximum 8h average.

    2012, O3 8h above 800: the rule asks for the 1h O3 IAQI, which the contract does not carry, so the 1h column is
    applied to the 8h value (both columns give 300 at 800, so the index stays continuous).
    """
    return _aqi(readings_24h, moment, DAILY_AVERAGING, particulates_from_hourly=False)
