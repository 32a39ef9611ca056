"""Simulated water (water.v1) and ecology (ecology.v1) stations: every station of the registry reporting at its
type's interval, driven only by the city's :class:`~simulator.scenarios.Conditions` (rain, pollution factors).

Like :mod:`simulator.hotline`, the city is a pure function of time and seed: a reading's noise comes from a
generator seeded by (seed, station, time), and whatever carries over time — a river's response to past rain,
ponding that drains away — is a convolution of the conditions over a bounded past window, never mutable state,
so a restarted simulator re-publishes identical readings. A reading is labelled with the end of its interval
(the hourly value at 15:00 covers 14:00–15:00). Physics per station type (interval):

rain_gauge (5 min): rainfall_mm, the district's rain intensity integrated over the interval, ±10 % gauge error.
river_gauge (5 min): water_level_m = mean level + tide + rise + noise. The mean level lies at 35–60 % of the warning
    level, but at most two warning–guarantee bands below it (high-datum mountain gauges); tidal reaches (warning
    below 3 m: the Pearl River network) add a 12.42 h tide of ~0.5 m with a ±15 % spring–neap cycle. The rise is the
    rain in excess of basin losses (15 mm/h) through a gamma unit hydrograph peaking 2–6 h later (24 h window),
    scaled so that 45 mm/h of excess held for 3 h lifts the mean level to the warning level: the rainstorm
    scenario takes its district over warning hours after its peak; showers barely move a river.
waterlogging (5 min): ponding_depth_cm, rain above the point's drainage capacity (20–30 mm/h) filling a hollow
    that drains with a 20–40 min time constant (an exponentially weighted mean of the excess over 4 h); 0 when dry.
pipe_pressure (5 min): pressure_mpa follows demand — highest at ~03:00, lowest at the 07–08 and 19–20 peaks, about
    0.2 MPa above the station's low-pressure alarm at night; 4 % of station-days bring a 20–60 min dip below the
    alarm (a burst main, a valve operation).
water_quality (4 h): each GB 3838 item at 45–85 % of the target-class limit (DO between its limit and saturation,
    with a diurnal swing); runoff from the past day's rain (6 h decay) raises turbidity, NH3-N, TP and CODMn and
    lowers DO; 5 % of station-days are a discharge episode (loads ×1.4–2).
air (1 h): pm25 (~28 µg/m³) with traffic peaks 07–09 and 18–21 and an afternoon low, pm10 1.4–1.7 × pm25, no2 and co
    on the traffic peaks, so2 nearly flat, o3 highest at 14–16 and lowest before dawn; a mild seasonal cycle
    (particulates highest in January, ozone in autumn) and a city-wide day-to-day factor; particulates × the
    pollution factor (gases × a quarter of its excess), o3 × the ozone factor; rain washes particulates out.
noise (1 h): noise_db (Leq), a few dB under the night limit at night and under the day limit by day, rush-hour bumps.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable
from zoneinfo import ZoneInfo

from domain.stations import Registry, Station
from domain.water_quality import LIMITS, TP_LAKES
from simulator.diurnal import (
    NOISE,
    OZONE,
    PARTICULATES,
    TRAFFIC,
    WATER_DEMAND,
    interpolate,
)
from simulator.scenarios import Conditions

MINUTE, HOUR, DAY = 60, 3600, 86400
GRID = 5 * MINUTE  # every interval is a multiple of it; rain is sampled on it
HISTORY_STEPS = DAY // GRID  # the longest memory of past rain: a day
M2_TIDE = 12.42 * HOUR
SPRING_NEAP = 14.77 * DAY
YEAR = 365.2425 * DAY
LOSS_MM_H = 15.0  # basin losses (infiltration, storage) before rain runs off to a river
WARNING_EXCESS_MM_H = 45.0  # rain excess that, held for 3 h, lifts a river's mean level to its warning level
DO_SATURATION = 8.0  # mg/L in warm (25–30 °C) water



def seasonal(t: float, peak_day: float, amplitude: float) -> float:
    """1 ± amplitude over the year, highest ``peak_day`` days after 1 January."""
    return 1 + amplitude * math.cos(2 * math.pi * (t % YEAR - peak_day * DAY) / YEAR)


def gamma_kernel(lag_h: float, step: float, window: float) -> tuple[float, ...]:
    """Unit hydrograph: a gamma (shape 3) density peaking ``lag_h`` hours on, sampled every ``step`` over
    ``window`` seconds (index 0 = now) and normalised to sum 1."""
    theta = lag_h / 2
    raw = [(k * step / HOUR) ** 2 * math.exp(-k * step / HOUR / theta) for k in range(int(window // step))]
    return tuple(w / sum(raw) for w in raw)


def decay_kernel(tau: float, step: float, window: float) -> tuple[float, ...]:
    """Exponential weights e^(−age/τ) over ``window`` seconds, normalised to sum 1."""
    raw = [math.exp(-k * step / tau) for k in range(int(window // step))]
    return tuple(w / sum(raw) for w in raw)


def tide(t: float, amplitude: float, delay: float) -> float:
    """Semi-diurnal (M2) tide in metres about the mean level, with a spring–neap modulation."""
    return amplitude * (1 + 0.15 * math.cos(2 * math.pi * t / SPRING_NEAP)) * math.cos(2 * math.pi * (t - delay) / M2_TIDE)


def weighted(values: list[float], kernel: tuple[float, ...], above: float = 0.0) -> float:
    """Σ max(0, value − above) × weight: a convolution of the excess over a threshold."""
    return sum((v - above) * w for v, w in zip(values, kernel) if v > above)


@lru_cache(maxsize=4096)
def pressure_dip(seed: int, station_id: str, low_mpa: float, day: int) -> tuple[float, float, float] | None:
    """(start, end, floor MPa) of the station's pressure dip on an epoch day, if it has one (4 % of days)."""
    r = random.Random(f"{seed}:{station_id}:dip:{day}")
    if r.random() >= 0.04:
        return None
    start = day * DAY + r.uniform(0, DAY - HOUR)
    return start, start + r.uniform(20, 60) * MINUTE, low_mpa - r.uniform(0.01, 0.04)


@lru_cache(maxsize=64)
def day_weather(seed: int, day: int) -> tuple[float, float]:
    """City-wide (particulate, ozone) factors of an epoch day's weather."""
    r = random.Random(f"{seed}:air:{day}")
    return r.uniform(0.8, 1.25), r.uniform(0.85, 1.2)


Params = dict[str, Any]
Reading = dict[str, float]


# ---- station types: seeded constants of a station, then its reading at t -------------------------------------------

def _rain_params(s: Station, r: random.Random) -> Params:
    return {}


def _rain(sim: SensorSimulator, s: Station, p: Params, t: int, r: random.Random) -> Reading:
    now, before = sim.rain(s.district_code, t, 2, GRID)
    mm = (now + before) / 2 * GRID / HOUR
    return {"rainfall_mm": round(mm * max(0.0, r.gauss(1, 0.1)), 1) if mm else 0.0}


def _river_params(s: Station, r: random.Random) -> Params:
    warning, guarantee = s.attrs["warning_level_m"], s.attrs["guarantee_level_m"]
    headroom = min(warning * (1 - r.uniform(0.35, 0.6)), 2 * (guarantee - warning))
    kernel = gamma_kernel(r.uniform(2, 6), 15 * MINUTE, DAY)
    three_hours = max(sum(kernel[i:i + 12]) for i in range(len(kernel)))
    return {"mean": warning - headroom, "headroom": headroom, "kernel": kernel,
            "warning_response": WARNING_EXCESS_MM_H * three_hours,
            "tide": r.uniform(0.45, 0.5) if warning < 3 else 0.0, "tide_delay": r.uniform(0, 1.5) * HOUR}


def _river(sim: SensorSimulator, s: Station, p: Params, t: int, r: random.Random) -> Reading:
    response = weighted(sim.rain(s.district_code, t, len(p["kernel"]), 15 * MINUTE), p["kernel"], LOSS_MM_H)
    level = (p["mean"] + tide(t, p["tide"], p["tide_delay"]) + p["headroom"] * response / p["warning_response"]
             + r.gauss(0, 0.01))
    return {"water_level_m": round(level, 2)}


def _ponding_params(s: Station, r: random.Random) -> Params:
    return {"capacity": r.uniform(20, 30), "gain": r.uniform(0.6, 0.9),  # steady cm per mm/h over capacity
            "kernel": decay_kernel(r.uniform(20, 40) * MINUTE, GRID, 4 * HOUR)}


def _ponding(sim: SensorSimulator, s: Station, p: Params, t: int, r: random.Random) -> Reading:
    depth = p["gain"] * weighted(sim.rain(s.district_code, t, len(p["kernel"]), GRID), p["kernel"], p["capacity"])
    return {"ponding_depth_cm": round(max(0.0, depth + r.gauss(0, 0.3)), 1) if depth >= 0.5 else 0.0}


def _pressure_params(s: Station, r: random.Random) -> Params:
    return {"night": s.attrs["low_pressure_mpa"] + r.uniform(0.19, 0.22), "swing": r.uniform(0.05, 0.07)}


def _pressure(sim: SensorSimulator, s: Station, p: Params, t: int, r: random.Random) -> Reading:
    pressure = p["night"] - p["swing"] * interpolate(WATER_DEMAND, sim.local_hour(t)) + r.gauss(0, 0.004)
    dip = pressure_dip(sim.seed, s.id, s.attrs["low_pressure_mpa"], t // DAY)
    if dip:
        start, end, floor = dip
        depth = min(1.0, (t - start) / (5 * MINUTE), (end - t) / (5 * MINUTE))  # 5-minute ramps
        if depth > 0:
            pressure += (floor - pressure) * depth
    return {"pressure_mpa": round(pressure, 3)}


def _quality_params(s: Station, r: random.Random) -> Params:
    grade = s.attrs["target_class"] - 1
    lake = s.attrs["waterbody"] != "river"
    do_limit = LIMITS["do_mg_l"][1][grade]
    return {"codmn": LIMITS["codmn_mg_l"][1][grade] * r.uniform(0.45, 0.85),
            "nh3n": LIMITS["nh3n_mg_l"][1][grade] * r.uniform(0.45, 0.85),
            "tp": (TP_LAKES if lake else LIMITS["tp_mg_l"][1])[grade] * r.uniform(0.45, 0.85),
            "do": do_limit + (DO_SATURATION - do_limit) * r.uniform(0.3, 0.7), "do_swing": r.uniform(0.3, 0.8),
            "ph": r.uniform(6.9, 7.8), "turbidity": r.uniform(3, 10) if lake else r.uniform(8, 30),
            "kernel": tuple(math.exp(-k / 24) / 4 for k in range(96))}  # 15-min steps (h), 6 h decay: mm of runoff


def _quality(sim: SensorSimulator, s: Station, p: Params, t: int, r: random.Random) -> Reading:
    runoff = weighted(sim.rain(s.district_code, t, 96, 15 * MINUTE), p["kernel"])
    e = random.Random(f"{sim.seed}:{s.id}:episode:{t // DAY}")
    episode = e.uniform(1.4, 2.0) if e.random() < 0.05 else 1.0
    sun = math.sin(2 * math.pi * (sim.local_hour(t) - 9) / 24)  # photosynthesis: highest mid-afternoon
    load = episode * r.lognormvariate(0, 0.12)
    return {"do_mg_l": round(max(0.2, p["do"] + p["do_swing"] * sun - min(2.5, runoff / 40) - (episode - 1)), 2),
            "codmn_mg_l": round(p["codmn"] * load * (1 + runoff / 150), 1),
            "nh3n_mg_l": round(p["nh3n"] * load * (1 + runoff / 60), 3),
            "tp_mg_l": round(p["tp"] * load * (1 + runoff / 80), 3),
            "ph": round(p["ph"] + 0.2 * sun - min(0.4, runoff / 200) + r.gauss(0, 0.1), 2),
            "turbidity_ntu": round(p["turbidity"] * r.lognormvariate(0, 0.15) + runoff, 1)}


def _air_params(s: Station, r: random.Random) -> Params:
    return {"pm": 28 * r.uniform(0.95, 1.1), "pm10_ratio": r.uniform(1.4, 1.7), "traffic": r.uniform(0.6, 1.3),
            "so2": r.uniform(5, 12), "o3": 58 * r.uniform(0.9, 1.15)}


def _air(sim: SensorSimulator, s: Station, p: Params, t: int, r: random.Random) -> Reading:
    mid = t - HOUR // 2
    hour = sim.local_hour(mid)
    day_pm, day_o3 = sim.daily_air(mid)
    particulate, ozone = sim.conditions.pollution(mid, s.district_code)
    washout = 0.6 + 0.4 / (1 + sim.rain(s.district_code, mid, 1, GRID)[0] / 5)
    # An episode adds (factor − 1) × the station's normal level on top of the day's weather.
    pm25 = (p["pm"] * interpolate(PARTICULATES, hour) * (seasonal(mid, 15, 0.25) * day_pm + particulate - 1)
            * washout * r.lognormvariate(0, 0.06))
    gases = day_pm + (particulate - 1) / 4
    traffic = p["traffic"] * interpolate(TRAFFIC, hour) * gases
    return {"pm25": round(pm25, 1), "pm10": round(pm25 * p["pm10_ratio"] * r.lognormvariate(0, 0.05), 1),
            "no2": round(32 * traffic * r.lognormvariate(0, 0.1), 1),
            "so2": round(p["so2"] * (0.85 + 0.15 * interpolate(OZONE, hour)) * gases * r.lognormvariate(0, 0.1), 1),
            "co": round(0.7 * traffic ** 0.5 * r.lognormvariate(0, 0.08), 1),
            "o3": round(p["o3"] * interpolate(OZONE, hour) * (seasonal(mid, 275, 0.2) * day_o3 + ozone - 1)
                        * r.lognormvariate(0, 0.1), 1)}


def _noise_params(s: Station, r: random.Random) -> Params:
    return {"day": s.attrs["day_limit_db"] - r.uniform(2, 7), "night": s.attrs["night_limit_db"] - r.uniform(0, 5)}


def _noise(sim: SensorSimulator, s: Station, p: Params, t: int, r: random.Random) -> Reading:
    daytime = interpolate(NOISE, sim.local_hour(t - HOUR // 2))
    return {"noise_db": round(p["night"] + (p["day"] - p["night"]) * daytime + r.gauss(0, 1.5), 1)}


@dataclass(frozen=True)
class Model:
    interval_s: int
    params: Callable[[Station, random.Random], Params]
    reading: Callable[[SensorSimulator, Station, Params, int, random.Random], Reading]


MODELS = {"rain_gauge": Model(5 * MINUTE, _rain_params, _rain),
          "river_gauge": Model(5 * MINUTE, _river_params, _river),
          "waterlogging": Model(5 * MINUTE, _ponding_params, _ponding),
          "pipe_pressure": Model(5 * MINUTE, _pressure_params, _pressure),
          "water_quality": Model(4 * HOUR, _quality_params, _quality),
          "air": Model(HOUR, _air_params, _air),
          "noise": Model(HOUR, _noise_params, _noise)}
INTERVAL_S = {name: m.interval_s for name, m in MODELS.items()}


class SensorSimulator:
    """Every station of ``registry`` at its type's interval (``INTERVAL_S``), as water.v1 / ecology.v1 dicts.

    ``advance(until)`` returns every reading with event time in (now, until], after ``start``, in time order (then
    registry order): intervals are half-open, so a simulator started at T gives no reading at T, only those after
    it (readings fall on whole multiples of ``GRID``, so their stamps are exact). The same seed and conditions give
    the same readings for the same times, whenever asked."""

    def __init__(self, registry: Registry, conditions: Conditions, *, seed: int, start: float,
                 timezone: str = "Asia/Shanghai"):
        self.stations = list(registry)
        self.conditions = conditions
        self.seed = seed
        self.emit_after = start
        self.now = start
        self.tz = ZoneInfo(timezone)
        self._params = {s.id: MODELS[s.type].params(s, random.Random(f"{seed}:{s.id}")) for s in self.stations}
        self._districts = sorted({s.district_code for s in self.stations})
        # Rain on the 5-minute grid, asked of the conditions once (advancing by seconds asks for the same steps).
        self._rain_at = lru_cache(maxsize=1 << 16)(lambda district, step: conditions.rain_mm_h(step * GRID, district))
        self._first_step = 0
        self._rain_steps: dict[str, list[float]] = {}

    def rain(self, district: str, t: int, n: int, every: int) -> list[float]:
        """Rain intensity (mm/h) at t, t − every, … (n values, at most a day back), for t being advanced over;
        t and every multiples of ``GRID``."""
        i, stride = t // GRID - self._first_step, every // GRID
        return self._rain_steps[district][i:i - n * stride:-stride]

    def _load_rain(self, first: int, last: int) -> None:
        """The rain of every district on the grid from a day before ``first`` to ``last``."""
        self._first_step = first // GRID - HISTORY_STEPS - 1
        steps = range(self._first_step, last // GRID + 1)
        self._rain_steps = {d: [self._rain_at(d, k) for k in steps] for d in self._districts}

    def local_hour(self, t: float) -> float:
        local = dt.datetime.fromtimestamp(t, self.tz)
        return local.hour + local.minute / 60 + local.second / 3600

    def daily_air(self, t: float) -> tuple[float, float]:
        """:func:`day_weather` interpolated between the middles of the days."""
        x = t / DAY - 0.5
        day, frac = math.floor(x), x % 1
        (a, c), (b, d) = day_weather(self.seed, day), day_weather(self.seed, day + 1)
        return a + (b - a) * frac, c + (d - c) * frac

    def advance(self, until: float) -> list[dict]:
        """Every reading with event time in (now, until] (and after start), in time order."""
        out = []
        first, last = (math.floor(max(self.now, self.emit_after)) // GRID + 1) * GRID, math.floor(until)
        if first <= last:
            self._load_rain(first, last)
        for t in range(first, last + 1, GRID):
            ts = dt.datetime.fromtimestamp(t, self.tz).isoformat(timespec="seconds")
            out += [self._event(s, t, ts) for s in self.stations if t % INTERVAL_S[s.type] == 0]
        self.now = max(self.now, until)
        return out

    def _event(self, s: Station, t: int, ts: str) -> dict:
        model = MODELS[s.type]
        readings = model.reading(self, s, self._params[s.id], t, random.Random(f"{self.seed}:{s.id}:{t}"))
        event = {"event_id": f"{s.id}.{t}", "schema": f"{s.family}.v1", "ts": ts, "district_code": s.district_code,
                 "station_id": s.id, "station_type": s.type, "readings": readings}
        if s.family == "water":
            event["interval_s"] = model.interval_s
        else:
            event["averaging"] = "1h"
        return event
