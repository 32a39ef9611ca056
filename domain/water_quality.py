"""Surface water class of a sample by GB 3838-2002 (地表水环境质量标准), basic items, as a pure table lookup.

``LIMITS`` is Table 1 of the standard for the items the water.v1 contract carries (DO, CODMn, NH3-N, TP) and
the two a laboratory may add (COD, BOD5). Each item has one limit per class Ⅰ–Ⅴ; DO is "not below" the limit,
the others "not above". A value equal to a limit belongs to that class; past the Ⅴ limit it is 劣Ⅴ (grade 6).
Where two classes share a limit (COD and BOD5 for Ⅰ and Ⅱ) the value gets the better class.

TP has two rows: rivers, and lakes/reservoirs (stricter). pH is not graded: the standard gives 6–9 for every
class, so a pH inside 6–9 never lowers the class and one outside it is 劣Ⅴ for that item. DO class Ⅰ may also
be met by a saturation of 90 % or more (``do_saturation`` as a fraction, 0.9).

A sample's class is the worst class over its measured items, as monitoring reports give it; the items at that
class are the ones that decided it (定类项目).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

WORSE_THAN_V = 6
LABELS = {1: "Ⅰ类", 2: "Ⅱ类", 3: "Ⅲ类", 4: "Ⅳ类", 5: "Ⅴ类", WORSE_THAN_V: "劣Ⅴ类"}
WATERBODIES = ("river", "lake", "reservoir")

# item (water.v1 reading key) → (the limit is a minimum, limits of class Ⅰ..Ⅴ in mg/L)
LIMITS: dict[str, tuple[bool, tuple[float, ...]]] = {
    "do_mg_l": (True, (7.5, 6, 5, 3, 2)),
    "codmn_mg_l": (False, (2, 4, 6, 10, 15)),
    "cod_mg_l": (False, (15, 15, 20, 30, 40)),
    "bod5_mg_l": (False, (3, 3, 4, 6, 10)),
    "nh3n_mg_l": (False, (0.15, 0.5, 1.0, 1.5, 2.0)),
    "tp_mg_l": (False, (0.02, 0.1, 0.2, 0.3, 0.4)),
}
TP_LAKES = (0.01, 0.025, 0.05, 0.1, 0.2)  # TP limits for lakes and reservoirs (湖、库)
PH_RANGE = (6.0, 9.0)
DO_SATURATION_CLASS_I = 0.9
ITEMS = (*LIMITS, "ph")

# Readings arrive as floats that may carry conversion noise (0.1 + 0.2); closer than this to a limit counts as on it.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class WaterClass:
    """The class of one sample: ``grade`` 1–5 for Ⅰ–Ⅴ, 6 for 劣Ⅴ."""

    grade: int
    deciding: tuple[str, ...]  # the items at the sample's class, in ITEMS order
    by_item: Mapping[str, int] = field(hash=False)  # the class of every measured item

    @property
    def label(self) -> str:
        return LABELS[self.grade]


def _waterbody(waterbody: str) -> str:
    if waterbody not in WATERBODIES:
        raise ValueError(f"unknown waterbody {waterbody!r}; use one of {', '.join(WATERBODIES)}")
    return waterbody


def _limits(item: str, waterbody: str) -> tuple[bool, tuple[float, ...]]:
    if item == "tp_mg_l" and _waterbody(waterbody) != "river":
        return False, TP_LAKES
    try:
        return LIMITS[item]
    except KeyError:
        raise ValueError(f"unknown GB 3838 item {item!r}; items are {', '.join(ITEMS)}") from None


def _checked(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")
    return float(value)


def item_class(item: str, value: float, waterbody: str = "river", *, do_saturation: float | None = None) -> int:
    """Class 1–6 (6 = 劣Ⅴ) of one item; ``item`` is a water.v1 reading key such as ``"nh3n_mg_l"`` or ``"ph"``.

    ``do_saturation`` (fraction of saturation) only counts for ``do_mg_l``: 0.9 or more is class Ⅰ.
    """
    value = _checked(item, value)
    if item == "ph":
        _waterbody(waterbody)
        if value > 14:
            raise ValueError(f"ph must be within 0–14, got {value!r}")
        low, high = PH_RANGE
        return 1 if low <= value <= high else WORSE_THAN_V
    at_least, limits = _limits(item, waterbody)
    if item == "do_mg_l" and do_saturation is not None:
        if _checked("do_saturation", do_saturation) >= DO_SATURATION_CLASS_I:
            return 1
    for grade, limit in enumerate(limits, start=1):
        if (value >= limit - _TOLERANCE) if at_least else (value <= limit + _TOLERANCE):
            return grade
    return WORSE_THAN_V


def sample_class(readings: Mapping[str, float | None], waterbody: str = "river", *,
                 do_saturation: float | None = None) -> WaterClass:
    """Class of a sample: the worst class over the GB 3838 items among ``readings`` (water.v1 keys).

    Other keys (``water_level_m``, ``turbidity_ntu`` …) and items given as None are not measured and ignored.
    A DO saturation of 90 % or more grades DO as class Ⅰ even without a DO concentration. No measured item at
    all is a ValueError.
    """
    _waterbody(waterbody)
    by_item: dict[str, int] = {}
    for item in ITEMS:
        if readings.get(item) is not None:
            by_item[item] = item_class(item, readings[item], waterbody, do_saturation=do_saturation)
        elif item == "do_mg_l" and do_saturation is not None:
            if _checked("do_saturation", do_saturation) >= DO_SATURATION_CLASS_I:
                by_item[item] = 1
    if not by_item:
        raise ValueError(f"no GB 3838 item among the readings; items are {', '.join(ITEMS)}")
    grade = max(by_item.values())
    return WaterClass(grade, tuple(item for item, g in by_item.items() if g == grade), by_item)
