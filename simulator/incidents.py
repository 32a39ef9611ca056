"""A simulated city's emergency incidents (突发事件, emergency.v1): reports arriving through the day, more of
them in rain, each living out reported → dispatched → on_scene → (contained →) closed.

Designed like :class:`simulator.hotline.HotlineSimulator`: the city is a pure function of time and seed, so the
same seed gives the same events for the same hours whenever the simulation started, and its intervals are the
same half-open ones, (start, until] on the events' stamped seconds. Background incidents arrive at
``incidents_per_day`` with a diurnal shape per type (traffic at rush hours, fires in the evening); flood,
waterlogging and landslide incidents arrive only with rain above a threshold in their district
(:meth:`simulator.scenarios.Conditions.rain_mm_h`); scenario incidents (``Conditions.scripted_incidents``) happen
exactly at their scripted times.

Every event is a full snapshot of its incident (type, level, description, place, units so far, casualties
known so far), so the latest event of an incident is enough to show it. About 40% of reports come before the
incident is graded (no level until dispatch); units are on events from dispatch on, growing until containment;
casualties from arrival on scene on.
"""
from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from dataclasses import dataclass, field
from itertools import accumulate
from typing import NamedTuple
from zoneinfo import ZoneInfo

import shapely

from domain.districts import DistrictIndex
from simulator.diurnal import DAYTIME, EVENING, RUSH_HOURS
from simulator.hotline import (
    DAY,
    DISTRICT_WEIGHT,
    HOUR,
    first_after,
    poisson,
    random_point,
    stamp,
)
from simulator.scenarios import Conditions, ScriptedIncident

MINUTE = 60.0
LEAD_IN = 2 * DAY  # longer than any incident's life (≤ 40 h), so the first emitted hour has incidents in flight

# Background types: (share of incidents_per_day, hourly shape).
BACKGROUND = {"traffic": (38, RUSH_HOURS), "fire": (22, EVENING), "other": (14, DAYTIME),
              "public_health": (9, DAYTIME), "power_outage": (8, DAYTIME), "crowd": (6, DAYTIME),
              "hazmat": (3, DAYTIME)}
# Rain-driven types: (threshold mm/h, incidents per hour in a district per mm/h above it).
WEATHER = {"waterlogging": (20.0, 0.04), "flood": (30.0, 0.015), "landslide": (30.0, 0.006)}
# Landslide susceptibility by district (Guangzhou's hilly north and east); elsewhere 0.1.
SLOPE_WEIGHT = {"440111": 1.0, "440112": 1.0, "440114": 1.0, "440117": 2.0, "440118": 1.5}
# 国家突发公共事件总体应急预案 grades: I 特别重大, II 重大, III 较大, IV 一般.
LEVELS = (("IV", 860), ("III", 110), ("II", 25), ("I", 5))
_LEVEL_NAMES = [name for name, _ in LEVELS]
_LEVEL_WEIGHTS = list(accumulate(weight for _, weight in LEVELS))


class Grade(NamedTuple):
    dispatch_minutes: float  # median time to dispatch
    duration_factor: float  # of the type's time on scene and of closing up
    units: tuple[int, int]  # responding units at full strength (at most the type's list)
    casualties: tuple[int, int]  # when there are any


GRADE = {"I": Grade(2, 4.0, (8, 12), (30, 60)), "II": Grade(3, 2.5, (5, 8), (10, 29)),
         "III": Grade(5, 1.5, (3, 5), (3, 9)), "IV": Grade(8, 1.0, (1, 3), (1, 2))}


class Kind(NamedTuple):
    work_hours: float  # median time on scene until contained (or closed, for types with no contained step)
    contained: bool
    casualty_chance: float
    units: tuple[str, ...]  # in order of dispatch; {d}: the district's name
    texts: tuple[str, ...]  # what the report says


TYPES = {
    "fire": Kind(1.0, True, 0.15, ("{d}消防救援大队", "{d}公安分局", "市急救医疗指挥中心", "{d}应急管理局",
                                   "市消防救援支队特勤大队", "供电抢修队", "燃气抢修队", "市应急管理局"),
                 ("居民楼发生火灾，有浓烟冒出", "一处厂房起火，火势较大", "临街商铺着火", "路边车辆自燃")),
    "traffic": Kind(1.0, False, 0.35, ("{d}交警大队", "市急救医疗指挥中心", "{d}消防救援大队", "路政抢修队",
                                       "{d}应急管理局", "市交警支队", "市应急管理局"),
                    ("路口多车相撞，交通拥堵", "高架桥上发生追尾事故", "货车侧翻，占用两条车道",
                     "电动车与小汽车碰撞，有人受伤")),
    "flood": Kind(4.0, True, 0.05, ("{d}水务局", "{d}三防办", "{d}消防救援大队", "{d}公安分局", "属地街道办",
                                    "市三防指挥部", "武警救援分队", "市应急管理局"),
                  ("河涌水位上涨漫堤，低洼处进水", "村居被淹，需转移群众", "堤围出现管涌险情")),
    "waterlogging": Kind(1.5, True, 0.02, ("排水抢险队", "{d}交警大队", "{d}水务局", "{d}消防救援大队", "{d}三防办",
                                           "市排水公司"),
                         ("下穿隧道积水，车辆涉水受阻", "路段严重积水，行人通行困难", "小区地下车库进水")),
    "landslide": Kind(5.0, True, 0.2, ("{d}自然资源局", "{d}消防救援大队", "{d}应急管理局", "市急救医疗指挥中心",
                                       "{d}公安分局", "地质灾害应急专家组", "市应急管理局"),
                      ("山体滑坡，道路被阻断", "边坡塌方，威胁坡下房屋")),
    "hazmat": Kind(3.0, True, 0.2, ("{d}消防救援大队", "市消防救援支队特勤大队", "{d}生态环境局", "{d}应急管理局",
                                    "{d}公安分局", "市急救医疗指挥中心", "危化品应急救援队", "市应急管理局"),
                   ("危化品储罐泄漏，气味刺鼻", "工厂有毒气体泄漏", "运输车辆化学品泄漏")),
    "public_health": Kind(3.0, False, 0.6, ("市急救医疗指挥中心", "{d}卫生健康局", "{d}疾控中心", "{d}市场监管局",
                                            "市卫生健康委", "市疾控中心"),
                          ("学校多名学生出现呕吐腹泻", "餐馆疑似集体食物中毒", "工地多名工人中暑")),
    "crowd": Kind(1.5, False, 0.05, ("{d}公安分局", "属地街道办", "市急救医疗指挥中心", "{d}城管执法局", "市公安局",
                                     "{d}应急管理局"),
                  ("地铁站客流拥挤，需限流疏导", "大型活动人员聚集，存在踩踏风险", "商圈人流过密")),
    "power_outage": Kind(2.5, True, 0.0, ("供电局抢修队", "{d}应急管理局", "{d}工信局", "{d}消防救援大队"),
                         ("居民小区大面积停电", "变电站故障，多条线路停电", "电缆被挖断导致停电")),
    "other": Kind(1.0, False, 0.1, ("{d}公安分局", "属地街道办", "{d}应急管理局", "市急救医疗指挥中心"),
                  ("路面塌陷，形成深坑", "多人被困电梯", "广告牌松动，有坠落危险")),
}
LATE_DISPATCH = 0.03  # share of 一般/较大 incidents dispatched 30–90 min late (what "not dispatched in N min" finds)


@dataclass
class _Incident:
    incident_id: str
    type: str
    level: str
    district: str
    lon: float
    lat: float
    description: str
    graded_on_report: bool
    units: list[str]
    strength: dict[str, int]  # status → number of units on it
    casualties: dict[str, int]  # status → casualties known
    plan: list[tuple[float, str]] = field(default_factory=list)
    emitted: int = 0

    @property
    def reported(self) -> float:
        return self.plan[0][0]


class IncidentSimulator:
    """The city's incidents as a pure function of time: arrivals are drawn from a generator seeded by
    (seed, minute), each incident's details and lifecycle from one seeded by its arrival, and a scripted
    incident's from (seed, incident id). ``lead_in`` seconds of earlier arrivals are simulated but not emitted,
    so that the first emitted hour has the incidents in flight that a real city has. Only events stamped after
    ``start`` are emitted, none at it."""

    def __init__(self, districts: DistrictIndex, conditions: Conditions, *, incidents_per_day: float, seed: int,
                 start: float, timezone: str = "Asia/Shanghai", lead_in: float = 0.0):
        self.districts = districts
        self.conditions = conditions
        self.rate = incidents_per_day / DAY
        self.seed = seed
        self.emit_from = first_after(start)
        self.now = start - lead_in
        self.tz = ZoneInfo(timezone)
        self._pending: list[tuple[float, int, _Incident]] = []  # (time, tie-break, incident) of each next step
        self._seq = 0
        self._minute: tuple[int, list[_Incident]] = (-1, [])
        self._polygons = dict(zip(districts.codes, districts.geometries))
        for geom in districts.geometries:
            shapely.prepare(geom)
        self._code_weights = list(accumulate(DISTRICT_WEIGHT.get(c, 1.0) for c in districts.codes))
        self._types = list(BACKGROUND)
        self._by_hour = [_hourly_rates(h) for h in range(24)]
        self._scripted = [self._scripted_incident(s) for s in conditions.scripted_incidents()]

    def _arrivals(self, minute: int) -> list[_Incident]:
        """The incidents reported in one absolute minute (the same whenever asked)."""
        if self._minute[0] != minute:
            r = random.Random(f"{self.seed}:{minute}")
            t0 = minute * MINUTE
            total, cum_weights = self._by_hour[dt.datetime.fromtimestamp(t0, self.tz).hour]
            incidents = [self._new_incident(r, t0 + r.uniform(0, MINUTE), kind, self._random_district(r))
                         for kind in r.choices(self._types, cum_weights=cum_weights,
                                               k=poisson(r, self.rate * total * MINUTE))]
            for code in self.districts.codes:
                rates = _weather_rates(self.conditions.rain_mm_h(t0, code), code)
                if rates:
                    kinds, per_hour = zip(*rates.items())
                    n = poisson(r, sum(per_hour) * MINUTE / HOUR)
                    incidents += [self._new_incident(r, t0 + r.uniform(0, MINUTE), kind, code)
                                  for kind in r.choices(kinds, weights=per_hour, k=n)]
            self._minute = (minute, incidents)
        return self._minute[1]

    def _random_district(self, r: random.Random) -> str:
        return r.choices(self.districts.codes, cum_weights=self._code_weights)[0]

    def _new_incident(self, r: random.Random, t: float, kind: str, code: str) -> _Incident:
        level = r.choices(_LEVEL_NAMES, cum_weights=_LEVEL_WEIGHTS)[0]
        day = dt.datetime.fromtimestamp(t, self.tz).strftime("%Y%m%d")
        incident = self._incident(f"EM{day}{r.getrandbits(40):010X}", kind, level, code, r.choice(TYPES[kind].texts),
                                  random.Random(r.getrandbits(64)), graded=r.random() < 0.6)
        incident.plan = _lifecycle(kind, level, t, random.Random(r.getrandbits(64)))
        return incident

    def _scripted_incident(self, s: ScriptedIncident) -> _Incident:
        incident = self._incident(s.incident_id, s.type, s.level, s.district, s.description,
                                  random.Random(f"{self.seed}:{s.incident_id}"), graded=True)
        incident.plan = [(s.at + offset, status) for offset, status in s.steps]
        return incident

    def _incident(self, incident_id: str, kind: str, level: str, code: str, text: str, r: random.Random, *,
                  graded: bool) -> _Incident:
        """An incident's place, units and casualties (its plan is set by the caller)."""
        name = self.districts.names[code]
        spec, grade = TYPES[kind], GRADE[level]
        full = min(r.randint(*grade.units), len(spec.units))
        hurt = r.randint(*grade.casualties) if r.random() < spec.casualty_chance else 0
        lon, lat = random_point(r, self._polygons[code])
        return _Incident(incident_id=incident_id, type=kind, level=level, district=code, lon=lon, lat=lat,
                         description=f"{name}：{text}", graded_on_report=graded,
                         units=[u.format(d=name) for u in spec.units[:full]],
                         strength={"reported": 0, "dispatched": math.ceil(full / 3),
                                   "on_scene": math.ceil(2 * full / 3), "contained": full, "closed": full},
                         casualties={"on_scene": round(hurt * r.uniform(0.5, 1)), "contained": hurt, "closed": hurt})

    def _schedule(self, incident: _Incident) -> None:
        self._seq += 1
        heapq.heappush(self._pending, (incident.plan[incident.emitted][0], self._seq, incident))

    def _event(self, i: _Incident, at: float, status: str) -> dict:
        i.emitted += 1
        event = {"event_id": f"{i.incident_id}.{i.emitted}", "schema": "emergency.v1",
                 "ts": stamp(at, self.tz), "incident_id": i.incident_id, "type": i.type, "status": status,
                 "district_code": i.district, "location": {"lon": i.lon, "lat": i.lat, "crs": "GCJ02"},
                 "description": i.description}
        if status != "reported" or i.graded_on_report:
            event["level"] = i.level
        if i.strength[status]:
            event["units"] = i.units[:i.strength[status]]
        if status in i.casualties:
            event["casualties"] = i.casualties[status]
        return event

    def advance(self, until: float) -> list[dict]:
        """Every event stamped in (now, until] (and after ``start``), in time order."""
        out: list[dict] = []  # in time order: the heap pops each minute's steps in order
        t, stop = first_after(self.now), first_after(until)
        while t < stop:
            minute = t // 60
            end = min((minute + 1) * 60, stop)
            for incident in self._arrivals(minute) + self._scripted:
                if t <= incident.reported < end:
                    self._schedule(incident)
            while self._pending and self._pending[0][0] < end:
                _, _, incident = heapq.heappop(self._pending)
                at, status = incident.plan[incident.emitted]
                if at >= self.emit_from:
                    out.append(self._event(incident, at, status))
                else:  # lead-in: the step happens, nobody hears of it
                    incident.emitted += 1
                if incident.emitted < len(incident.plan):
                    self._schedule(incident)
            t = end
        self.now = max(self.now, until)
        return out


def _hourly_rates(hour: int) -> tuple[float, list[float]]:
    """(factor of the background rate, cumulative weights of BACKGROUND's types) in one local hour."""
    total = sum(share for share, _ in BACKGROUND.values())
    weights = [share / total * shape[hour] * 24 / sum(shape) for share, shape in BACKGROUND.values()]
    return sum(weights), list(accumulate(weights))


def _weather_rates(rain_mm_h: float, code: str) -> dict[str, float]:
    """Incidents per hour of each rain-driven type in a district at a rainfall intensity (none when dry)."""
    return {kind: per_mm * (rain_mm_h - threshold) * (SLOPE_WEIGHT.get(code, 0.1) if kind == "landslide" else 1)
            for kind, (threshold, per_mm) in WEATHER.items() if rain_mm_h > threshold}


def _lifecycle(kind: str, level: str, t: float, r: random.Random) -> list[tuple[float, str]]:
    """Times of each status: dispatch in minutes (faster for higher grades; a few 一般/较大 ones late), on scene
    in tens of minutes, containment in hours (longer for higher grades), then closure. At most ~40 h in all."""
    spec, grade = TYPES[kind], GRADE[level]
    if level in ("III", "IV") and r.random() < LATE_DISPATCH:
        dispatched = t + r.uniform(30, 90) * MINUTE
    else:
        dispatched = t + min(r.lognormvariate(math.log(grade.dispatch_minutes), 0.5), 25) * MINUTE
    on_scene = dispatched + min(r.lognormvariate(math.log(15), 0.5), 120) * MINUTE
    done = on_scene + min(max(spec.work_hours * grade.duration_factor * r.lognormvariate(0, 0.6), 0.2), 24) * HOUR
    plan = [(t, "reported"), (dispatched, "dispatched"), (on_scene, "on_scene")]
    if not spec.contained:
        return plan + [(done, "closed")]
    return plan + [(done, "contained"), (done + min(r.uniform(0.3, 2) * grade.duration_factor, 12) * HOUR, "closed")]
