"""Numbers as the screens write them: counts, rates, and a value's change against an earlier one."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


def format_count(value: int | float | None) -> str:
    """1234 → '1,234'; None → '—'."""
    return "—" if value is None else f"{value:,.0f}"


def format_percent(value: float | None) -> str:
    """A ratio as a KPI's number, the unit shown apart: 0.6667 → '66.7'; None → '—'."""
    return "—" if value is None else f"{value * 100:.1f}"


def percent(value: float | None) -> str:
    """A ratio in running text: 0.6667 → '66.7%'; None → '—'."""
    return "—" if value is None else f"{value * 100:.1f}%"


@dataclass(frozen=True)
class Signs:
    """How a change is written on a screen."""

    up: str
    down: str
    flat: str
    points: str  # after a change of a rate, in percentage points
    missing: str  # the text when there is nothing to compare with
    same: str | None = None  # the text of no change; None: the arrow and the amount ('＝0.0%')
    from_zero: bool = False  # a count against 0 as its absolute change ('↑3起（基数为 0）'); False: ``missing``


SCREEN = Signs("▲", "▼", "＝", " 个百分点", "—")  # the wall and the analyst screens
BRIEF = Signs("↑", "↓", "→", "个百分点", "无可比数据", same="持平", from_zero=True)  # the leader's brief


class Change(NamedTuple):
    text: str  # the arrow and the amount, '▲12.5%'; or ``Signs.missing``
    trend: str  # 'up', 'down', 'flat', or '' when there is nothing to compare with

    @property
    def arrow(self) -> str:
        return self.text[:1] if self.trend else ""

    @property
    def amount(self) -> str:
        return self.text[1:] if self.trend else self.text


def change(current: float | None, previous: float | None, *, points: bool = False, flat_within: float = 0.05,
           signs: Signs = SCREEN, unit: str = "") -> Change:
    """``current`` against ``previous``: counts in per cent of ``previous``, rates (``points``, both in per cent)
    in percentage points; a change of at most ``flat_within`` (per cent or points) is flat."""
    if current is None or previous is None or (not points and not previous and not signs.from_zero):
        return Change(signs.missing, "")
    if points:
        delta, amount = current - previous, "{:.1f}" + signs.points
    elif previous:
        delta, amount = (current - previous) / previous * 100, "{:.1f}%"
    else:
        delta, amount = current - previous, "{:,}" + unit + "（基数为 0）"
    trend = "up" if delta > flat_within else "down" if delta < -flat_within else "flat"
    arrow = {"up": signs.up, "down": signs.down, "flat": signs.flat}[trend]
    if trend == "flat" and signs.same is not None:
        return Change(arrow + signs.same, trend)
    return Change(arrow + amount.format(abs(delta)), trend)
