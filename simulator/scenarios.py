"""The simulated city's conditions — rain, air-pollution episodes, hotline surges, scripted incidents — as a
pure function of time: seeded background weather plus named scenarios (演练 drills) that screens and alerts
must react to. Every simulator asks the same :class:`Conditions`, so a storm raises rain gauges, then rivers
(with a lag), ponding, flood incidents and drainage complaints together.

Scenarios (``simulate --scenario NAME[@START][:DISTRICT]``), times relative to the scenario's start:

``rainstorm`` (暴雨)
    Rain ramps up over 1 h to 70 mm/h in the district (and 45% of that elsewhere), holds 3 h, fades over 2 h.
    Effects that the sensor and incident simulators derive from the rain: ponding at waterlogging points
    over 15 cm, rivers over their warning level some hours after the peak, flood and waterlogging incidents;
    hotline 水电气 (drainage) orders ×6 in rain-hit districts from the start until 8 h.
``pollution`` (重污染)
    Particulates ramp over 6 h to ×5 in the district (×3 elsewhere) and ozone to ×1.8, hold 24 h, clear over
    6 h: AQI reaches 重度污染 (201–300) in the district. Rain washes particulates out.
``hotline_surge`` (热线激增)
    One category (城市管理 by default) in the district arrives at ×3 for 3 h.
``major_incident`` (重大事件)
    A level II hazmat incident in the district at the start, then its dispatch, on-scene, containment and
    closure, plus two level III follow-up incidents (traffic control, public health) within the first hour.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

HOUR = 3600.0
NAMES = ("rainstorm", "pollution", "hotline_surge", "major_incident")
DEFAULT_DISTRICT = {"rainstorm": "440106", "pollution": "440111", "hotline_surge": "440106",
                    "major_incident": "440112"}  # 天河, 白云, 天河, 黄埔 in Guangzhou
DURATION = {"rainstorm": 6 * HOUR, "pollution": 36 * HOUR, "hotline_surge": 3 * HOUR, "major_incident": 8 * HOUR}


@dataclass(frozen=True)
class Scenario:
    name: str
    start: float  # epoch seconds
    district: str  # adcode of the district it hits hardest
    category: str = "城市管理"  # hotline_surge only

    def __post_init__(self):
        if self.name not in NAMES:
            raise ValueError(f"unknown scenario {self.name!r}; one of {', '.join(NAMES)}")

    @property
    def end(self) -> float:
        return self.start + DURATION[self.name]


@dataclass(frozen=True)
class ScriptedIncident:
    """An incident a scenario injects: its reports and status changes are at ``at + offset`` for each step."""
    incident_id: str
    type: str
    level: str
    district: str
    description: str
    steps: tuple[tuple[float, str], ...]  # (seconds after ``at``, status)
    at: float


def parse(text: str, now: float, districts: list[str]) -> Scenario:
    """``NAME[@START][:DISTRICT]`` → Scenario. START is ``+90m``, ``+2h``, ``-1h`` (relative to now) or epoch
    seconds; default now. DISTRICT is an adcode of the city; default per scenario (or the first district)."""
    head, _, district = text.partition(":")
    name, _, start = head.partition("@")
    if name not in NAMES:
        raise ValueError(f"unknown scenario {name!r}; one of {', '.join(NAMES)}")
    at = now
    if start:
        units = {"m": 60, "h": HOUR}
        try:
            at = now + float(start[:-1]) * units[start[-1]] if start[-1] in units else float(start)
        except ValueError:
            raise ValueError(f"scenario {text!r}: start {start!r} is not +Nm, +Nh or epoch seconds") from None
    if district and district not in districts:
        raise ValueError(f"scenario {text!r}: {district} is not a district of the city")
    default = DEFAULT_DISTRICT[name] if DEFAULT_DISTRICT[name] in districts else districts[0]  # another city
    return Scenario(name, at, district or default)


def _ramp(t: float, start: float, rise: float, hold: float, fall: float) -> float:
    """0 → 1 over ``rise``, 1 for ``hold``, 1 → 0 over ``fall`` (smooth cosine edges)."""
    x = t - start
    if x <= 0 or x >= rise + hold + fall:
        return 0.0
    if x < rise:
        return 0.5 - 0.5 * math.cos(math.pi * x / rise)
    if x < rise + hold:
        return 1.0
    return 0.5 + 0.5 * math.cos(math.pi * (x - rise - hold) / fall)


class Conditions:
    """What the city is going through at time t. Background showers are seeded per 3-hour block, so the
    answer for a time never depends on when it is asked."""

    def __init__(self, seed: int, scenarios: tuple[Scenario, ...] = ()):
        self.seed = seed
        self.scenarios = scenarios
        self._showers: dict[int, tuple[float, float, float]] = {}

    def _shower(self, block: int) -> tuple[float, float, float]:
        """(peak mm/h, centre time, half-width s) of the background shower in a 3-hour block (peak 0: dry)."""
        if block not in self._showers:
            r = random.Random(f"{self.seed}:rain:{block}")
            wet = r.random() < 0.1
            self._showers[block] = ((r.lognormvariate(1.0, 0.6) if wet else 0.0),
                                    block * 3 * HOUR + r.uniform(0.5, 2.5) * HOUR, r.uniform(0.3, 0.8) * HOUR)
        return self._showers[block]

    def rain_mm_h(self, t: float, district: str) -> float:
        """Rainfall intensity in mm/h."""
        rain = 0.0
        block = int(t // (3 * HOUR))
        for b in (block - 1, block, block + 1):
            peak, centre, width = self._shower(b)
            if peak:
                local = 0.6 + 0.8 * random.Random(f"{self.seed}:{b}:{district}").random()
                rain += peak * local * math.exp(-((t - centre) / width) ** 2)
        for s in self.scenarios:
            if s.name == "rainstorm":
                rain += 70.0 * (1.0 if district == s.district else 0.45) * _ramp(t, s.start, HOUR, 3 * HOUR, 2 * HOUR)
        return rain

    def pollution(self, t: float, district: str) -> tuple[float, float]:
        """(particulate factor, ozone factor), each ≥ 1, on top of the normal diurnal shape."""
        particulate, ozone = 1.0, 1.0
        for s in self.scenarios:
            if s.name == "pollution":
                level = _ramp(t, s.start, 6 * HOUR, 24 * HOUR, 6 * HOUR)
                particulate += (4.0 if district == s.district else 2.0) * level
                ozone += 0.8 * level
        washout = 1.0 / (1.0 + self.rain_mm_h(t, district) / 5.0)
        return 1.0 + (particulate - 1.0) * washout, ozone

    def hotline_factor(self, t: float, district: str, category: str) -> float:
        """Multiplier of the normal arrival rate of a category's orders in a district."""
        factor = 1.0
        for s in self.scenarios:
            if s.name == "hotline_surge" and district == s.district and category == s.category \
                    and s.start <= t < s.end:
                factor *= 3.0
            if s.name == "rainstorm" and category == "水电气" and s.start <= t < s.start + 8 * HOUR:
                factor *= 1.0 + 5.0 * min(1.0, self.rain_mm_h(t, district) / 30.0 + (district == s.district))
        return factor

    def hotline_categories(self) -> set[str]:
        """The categories whose arrival rate :meth:`hotline_factor` may raise."""
        return ({s.category for s in self.scenarios if s.name == "hotline_surge"}
                | ({"水电气"} if any(s.name == "rainstorm" for s in self.scenarios) else set()))

    def scripted_incidents(self) -> list[ScriptedIncident]:
        """The incidents the scenarios inject, in time order."""
        out = []
        for s in self.scenarios:
            tag = f"{s.name[:2].upper()}{int(s.start)}"
            if s.name == "major_incident":
                out.append(ScriptedIncident(f"EM-{tag}-1", "hazmat", "II", s.district, "危化品运输车辆侧翻泄漏，周边疏散",
                                            ((0, "reported"), (300, "dispatched"), (1500, "on_scene"),
                                             (4 * HOUR, "contained"), (7 * HOUR, "closed")), s.start))
                out.append(ScriptedIncident(f"EM-{tag}-2", "traffic", "III", s.district, "事故点周边道路交通管制",
                                            ((0, "reported"), (240, "dispatched"), (1200, "on_scene"),
                                             (5 * HOUR, "closed")), s.start + 900))
                out.append(ScriptedIncident(f"EM-{tag}-3", "public_health", "III", s.district,
                                            "周边居民出现不适症状，医疗救治", ((0, "reported"), (600, "dispatched"),
                                                                 (1800, "on_scene"), (6 * HOUR, "closed")),
                                            s.start + 2400))
            if s.name == "rainstorm":
                out.append(ScriptedIncident(f"EM-{tag}-1", "waterlogging", "III", s.district, "下穿隧道严重积水，车辆被困",
                                            ((0, "reported"), (300, "dispatched"), (1200, "on_scene"),
                                             (3 * HOUR, "contained"), (5 * HOUR, "closed")), s.start + 1.5 * HOUR))
                out.append(ScriptedIncident(f"EM-{tag}-2", "flood", "II", s.district, "河涌水位超保证，低洼村居转移群众",
                                            ((0, "reported"), (600, "dispatched"), (1800, "on_scene"),
                                             (6 * HOUR, "contained"), (10 * HOUR, "closed")), s.start + 3.5 * HOUR))
        return sorted(out, key=lambda i: i.at)
