"""Times as the screens write them: the warehouse's DateTimes (naive UTC from the server driver, aware from chDB),
epoch seconds or datetimes, in the city's zone."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def aware(value: dt.datetime) -> dt.datetime:
    """A datetime (pandas Timestamps included) with its zone; naive means UTC (the warehouse's DateTime('UTC'))."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def epoch(value) -> float:
    """Epoch seconds of a datetime (naive: UTC) or of epoch seconds."""
    return aware(value).timestamp() if isinstance(value, dt.datetime) else float(value)


def local(value, tz: str) -> dt.datetime:
    """A datetime or epoch seconds as a datetime in the zone ``tz``."""
    zone = ZoneInfo(tz)
    return aware(value).astimezone(zone) if isinstance(value, dt.datetime) else dt.datetime.fromtimestamp(value, zone)


def local_time(value, tz: str, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A datetime or epoch seconds written in the zone ``tz`` with a strftime ``pattern``."""
    return local(value, tz).strftime(pattern)


def clock(value, tz: str, now: float) -> str:
    """'14:05' when ``value`` falls on the local day of ``now``, else '12-06 14:05'."""
    at = local(value, tz)
    return at.strftime("%H:%M" if at.date() == local(now, tz).date() else "%m-%d %H:%M")
