"""A simulated city's 12345 hotline: work orders arriving through the day and living out their lifecycle.

Event time is simulated; ``HotlineSimulator.advance(until)`` returns every event up to ``until`` in time order,
so the same code back-fills history at full speed and then keeps pace with the clock. Seeded: the same seed
gives the same events for the same hours, whenever the simulation started.

Time intervals are half-open, (start, until]: a simulator started at ``start`` emits only events stamped after
it, and ``advance(until)`` those stamped in (the previous until, until]; so a simulator restarted at any instant
T emits exactly the events stamped after T, none at or before it. An event is stamped with the whole second of
its simulated instant (:func:`stamp`, as ``ts`` carries it), so the steps stamped in (a, b] are those simulated
in [first_after(a), first_after(b)), which is what the simulators compare.
"""
from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from dataclasses import dataclass, field
from itertools import accumulate
from zoneinfo import ZoneInfo

import shapely

from domain.districts import DistrictIndex
from simulator.diurnal import HOTLINE, relative
from simulator.scenarios import Conditions

HOURLY = relative(HOTLINE)  # factor of the mean arrival rate by local hour
# Relative order volume by district, roughly following resident population (Guangzhou).
DISTRICT_WEIGHT = {"440103": 1.1, "440104": 1.2, "440105": 1.8, "440106": 2.2, "440111": 3.7, "440112": 1.2,
                   "440113": 2.8, "440114": 1.7, "440115": 0.9, "440117": 0.7, "440118": 1.5}
# category: (weight, department, [(subcategory, complaint text)])
CATEGORIES = {
    "城市管理": (24, "城市管理和综合执法局", [("占道经营", "路边有流动摊贩占道经营，影响通行"),
                                     ("违章搭建", "小区楼顶疑似违章搭建，请核查"),
                                     ("垃圾清运", "生活垃圾两天未清运，气味很大")]),
    "环境保护": (12, "生态环境局", [("噪声扰民", "夜间施工噪声扰民，影响休息"), ("油烟污染", "餐馆油烟直排，楼上住户受影响")]),
    "交通出行": (14, "交通运输局", [("公交线路", "公交车班次太少，等车超过半小时"), ("违法停车", "人行道长期被车辆占用")]),
    "住房建设": (10, "住房和城乡建设局", [("物业管理", "物业不作为，电梯多次故障"), ("房屋安全", "老旧楼房外墙开裂脱落")]),
    "市场监管": (9, "市场监督管理局", [("消费维权", "预付卡商家关门，无法退款"), ("食品安全", "购买的食品过期仍在售卖")]),
    "劳动社保": (8, "人力资源和社会保障局", [("欠薪", "公司拖欠工资三个月"), ("社保办理", "社保转移办理进度咨询")]),
    "公共安全": (5, "公安局", [("治安隐患", "路口监控损坏，夜间照明不足")]),
    "教育医疗": (6, "教育局", [("学位咨询", "咨询今年小学学位申请条件")]),
    "水电气": (9, "水务局", [("停水", "小区突然停水，没有提前通知"), ("排水不畅", "下水道堵塞，污水外溢")]),
    "其他": (3, "政务服务数据管理局", [("其他", "对政务服务提出建议")]),
}
# What a surge's extra orders are about where it is not the category's usual mix (a rainstorm's: drainage).
SURGE_SUBCATEGORIES = {"水电气": [("排水不畅", "下水道堵塞，污水外溢"), ("道路积水", "暴雨后路面积水严重，车辆行人无法通行"),
                               ("内涝", "小区地下车库进水，请尽快排涝")]}
CHANNELS = (("phone", 62), ("app", 14), ("wechat", 16), ("web", 6), ("mail", 2))
HOUR, DAY = 3600.0, 86400.0
LEAD_IN = 12 * DAY  # longer than any order's life, so the first published hour has a full city in flight


@dataclass
class _Order:
    order_id: str
    urgent: bool
    category: str
    subcategory: str
    department: str
    content: str
    channel: str
    district: str
    lon: float
    lat: float
    received: float
    plan: list[tuple[float, str]] = field(default_factory=list)
    deadline: float = 0.0
    emitted: int = 0
    satisfaction: str = ""
    resolved: bool = False
    district_sent: list[bool] = field(default_factory=list)


class HotlineSimulator:
    """The city as a pure function of time: arrivals are drawn from a generator seeded by (seed, minute),
    and each order's lifecycle from one seeded by its minute's generator. Any run with the same seed therefore
    produces the same events for the same hours, so a restarted demo re-publishes identical events (which
    the warehouse deduplicates) and orders in flight complete as they would have.

    ``lead_in`` seconds of earlier arrivals are simulated but not emitted, so that the first emitted hour
    already has the orders in flight that a real city has (an order's life spans up to ~11 days). Only events
    stamped after ``start`` are emitted, none at it."""

    def __init__(self, districts: DistrictIndex, *, orders_per_day: int, seed: int, start: float,
                 timezone: str = "Asia/Shanghai", lead_in: float = 0.0, conditions: Conditions | None = None):
        self.districts = districts
        self.conditions = conditions or Conditions(seed)
        self.rate = orders_per_day / DAY
        self.seed = seed
        self.emit_from = first_after(start)
        self.now = start - lead_in
        self.tz = ZoneInfo(timezone)
        self._pending: list[tuple[float, int, _Order]] = []  # (time, tie-break, order) of each next step
        self._seq = 0
        self._minute: tuple[int, list[_Order]] = (-1, [])
        self._day: tuple[int, str] = (-1, "")
        self._codes = districts.codes
        self._code_weights = list(accumulate(DISTRICT_WEIGHT.get(c, 1.0) for c in districts.codes))
        self._cats = list(CATEGORIES)
        self._cat_weights = list(accumulate(CATEGORIES[c][0] for c in self._cats))
        # Each (district, category)'s share of the orders, for the extra orders of a surge.
        code_total, cat_total = self._code_weights[-1], self._cat_weights[-1]
        self._shares = {(code, cat): DISTRICT_WEIGHT.get(code, 1.0) / code_total * CATEGORIES[cat][0] / cat_total
                        for code in self._codes for cat in self.conditions.hotline_categories() if cat in CATEGORIES}
        self._channels, self._channel_weights = zip(*CHANNELS)
        self._channel_weights = list(accumulate(self._channel_weights))
        self._polygons = dict(zip(districts.codes, districts.geometries))
        for geom in districts.geometries:
            shapely.prepare(geom)

    def _local_day(self, t: float) -> str:
        """YYYYMMDD of t in local time, computed once per hour (time zones change on whole hours here)."""
        hour = int(t // 3600)
        if self._day[0] != hour:
            self._day = (hour, dt.datetime.fromtimestamp(t, self.tz).strftime("%Y%m%d"))
        return self._day[1]

    def _hour_factor(self, t: float) -> float:
        return HOURLY[dt.datetime.fromtimestamp(t, self.tz).hour]

    def _arrivals(self, minute: int) -> list[_Order]:
        """The orders received in one absolute minute (the same whenever asked)."""
        if self._minute[0] != minute:
            r = random.Random(f"{self.seed}:{minute}")
            t0 = minute * 60.0
            per_minute = self.rate * self._hour_factor(t0) * 60
            orders = [self._new_order(r, t0 + r.uniform(0, 60)) for _ in range(poisson(r, per_minute))]
            orders += self._surge(minute, per_minute)
            self._minute = (minute, sorted(orders, key=lambda o: o.received))
        return self._minute[1]

    def _surge(self, minute: int, per_minute: float) -> list[_Order]:
        """The extra orders of the scenarios in one minute: (hotline_factor − 1) × the normal rate of each
        district and category they touch, drawn apart from the background so that it stays the same."""
        if not self._shares:
            return []
        r = random.Random(f"{self.seed}:surge:{minute}")
        t0 = minute * 60.0
        return [self._new_order(r, t0 + r.uniform(0, 60), code, category, surge=True)
                for (code, category), share in self._shares.items()
                for _ in range(poisson(r, per_minute * share
                                       * (self.conditions.hotline_factor(t0, code, category) - 1)))]

    def _new_order(self, r: random.Random, t: float, code: str = "", category: str = "", *,
                   surge: bool = False) -> _Order:
        category = category or r.choices(self._cats, cum_weights=self._cat_weights)[0]
        _, department, subs = CATEGORIES[category]
        subcategory, text = r.choice(SURGE_SUBCATEGORIES.get(category, subs) if surge else subs)
        code = code or r.choices(self._codes, cum_weights=self._code_weights)[0]
        lon, lat = random_point(r, self._polygons[code])
        order_id = f"WO{self._local_day(t)}{r.getrandbits(40):010X}"
        order = _Order(order_id=order_id, urgent=r.random() < 0.06, category=category, subcategory=subcategory,
                       department=department, content=f"{self.districts.names[code]}：{text}",
                       channel=r.choices(self._channels, cum_weights=self._channel_weights)[0], district=code,
                       lon=lon, lat=lat, received=t)
        order.plan = self._lifecycle(order, random.Random(r.getrandbits(64)))
        return order

    def _lifecycle(self, o: _Order, r: random.Random) -> list[tuple[float, str]]:
        """Times of each transition; a few orders are signed late, finish overdue or get reopened."""
        t = o.received
        limit = 24 * HOUR if o.urgent else 5 * DAY
        dispatched = t + r.uniform(2, 10 if o.urgent else 45) * 60
        o.deadline = dispatched + limit
        accepted = dispatched + r.lognormvariate(-1.5 if o.urgent else 0.8, 0.8) * HOUR
        processing = accepted + r.uniform(0.2, 2) * HOUR
        completed = dispatched + limit * min(r.lognormvariate(-1.3, 0.6), 1.6)
        completed = max(completed, processing + 0.2 * HOUR)
        visited = completed + r.uniform(2, 30) * HOUR
        plan = [(t, "received"), (dispatched, "dispatched"), (accepted, "accepted"), (processing, "processing"),
                (completed, "completed"), (visited, "visited")]
        if r.random() < 0.04:
            again = visited + r.uniform(1, 6) * HOUR
            plan += [(again, "reopened"), (again + r.uniform(1, 3) * HOUR, "processing"),
                     (again + r.uniform(6, 48) * HOUR, "completed")]
        p = r.random() + (0.25 if visited - o.deadline > -HOUR else 0)  # late orders please fewer citizens
        o.satisfaction = "satisfied" if p < 0.74 else "basically_satisfied" if p < 0.9 else "dissatisfied"
        o.resolved = o.satisfaction != "dissatisfied" or r.random() < 0.3
        o.district_sent = [r.random() > 0.1 for _ in plan]  # some producers send no district
        return plan

    def _schedule(self, order: _Order) -> None:
        at = order.plan[order.emitted][0]
        self._seq += 1
        heapq.heappush(self._pending, (at, self._seq, order))

    def _event(self, o: _Order, at: float, status: str) -> dict:
        o.emitted += 1
        event = {"event_id": f"{o.order_id}.{o.emitted}", "schema": "hotline.v1",
                 "ts": stamp(at, self.tz), "order_id": o.order_id, "status": status, "category": o.category,
                 "subcategory": o.subcategory, "channel": o.channel, "urgency": "urgent" if o.urgent else "normal",
                 "location": {"lon": o.lon, "lat": o.lat, "crs": "GCJ02"}}
        if o.district_sent[o.emitted - 1]:  # else ingest derives it from the location
            event["district_code"] = o.district
        if status == "received":
            event["content"] = o.content
        if status != "received":
            event["department"] = o.department
        if status == "dispatched":
            event["deadline"] = dt.datetime.fromtimestamp(o.deadline, self.tz).isoformat(timespec="seconds")
        if status == "visited":
            event["satisfaction"], event["resolved"] = o.satisfaction, o.resolved
        return event

    def advance(self, until: float) -> list[dict]:
        """Every event stamped in (now, until] (and after ``start``), in time order."""
        out: list[tuple[float, int, dict]] = []
        t, stop = first_after(self.now), first_after(until)
        while t < stop:
            minute = t // 60
            end = min((minute + 1) * 60, stop)
            for order in self._arrivals(minute):
                if t <= order.received < end:
                    if order.plan[-1][0] < self.emit_from:  # lived and ended in the lead-in: nothing to tell
                        order.emitted = len(order.plan)
                    else:
                        self._schedule(order)
            while self._pending and self._pending[0][0] < end:
                _, seq, order = heapq.heappop(self._pending)
                at, status = order.plan[order.emitted]
                if at >= self.emit_from:
                    out.append((at, seq, self._event(order, at, status)))
                else:  # lead-in: the step happens, nobody hears of it
                    order.emitted += 1
                if order.emitted < len(order.plan):
                    self._schedule(order)
            t = end
        self.now = max(self.now, until)
        out.sort(key=lambda item: (item[0], item[1]))
        return [event for _, _, event in out]


def stamp(at: float, tz: ZoneInfo) -> str:
    """``ts`` of an event simulated at ``at``: its whole second (the fraction dropped) in local time."""
    return dt.datetime.fromtimestamp(math.floor(at), tz).isoformat()


def first_after(t: float) -> int:
    """The first simulated instant :func:`stamp`-ed after ``t``: events stamped in (a, b] are those simulated in
    [first_after(a), first_after(b))."""
    return math.floor(t) + 1


def poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, round(rng.gauss(lam, lam ** 0.5)))
    n, p, limit = 0, 1.0, pow(2.718281828459045, -lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


def random_point(r: random.Random, polygon: shapely.Geometry) -> tuple[float, float]:
    """A uniformly random point (lon, lat) inside a polygon, rounded to 6 decimals (~0.1 m) and still inside."""
    x0, y0, x1, y1 = polygon.bounds
    while True:
        lon, lat = round(r.uniform(x0, x1), 6), round(r.uniform(y0, y1), 6)
        if shapely.contains_xy(polygon, lon, lat):
            return lon, lat
