"""The simulated city's daily rhythms: 24 values each, the level at local hh:00 (relative units; each
simulator says how it scales them). One place, so that the hotline, incidents and sensors share a day."""
from __future__ import annotations

# 12345 hotline arrivals: quiet nights, office-hours peaks at 10:00 and 15:00.
HOTLINE = (0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.7, 1.3, 1.7, 1.8, 1.6,
           1.1, 1.2, 1.6, 1.7, 1.6, 1.4, 1.0, 0.9, 0.85, 0.75, 0.55, 0.4)
# Incidents: traffic accidents at the rush hours, fires in the evening, the rest by day.
RUSH_HOURS = (0.4, 0.3, 0.25, 0.25, 0.3, 0.5, 0.9, 1.8, 2.0, 1.3, 1.0, 1.0,
              1.1, 1.0, 1.0, 1.1, 1.4, 2.0, 2.1, 1.5, 1.1, 0.9, 0.7, 0.5)
EVENING = (0.5, 0.45, 0.4, 0.35, 0.35, 0.4, 0.5, 0.7, 0.8, 0.9, 1.0, 1.2,
           1.2, 1.0, 1.0, 1.0, 1.1, 1.4, 1.7, 1.9, 1.8, 1.5, 1.0, 0.7)
DAYTIME = (0.4, 0.3, 0.25, 0.2, 0.2, 0.3, 0.5, 0.8, 1.1, 1.3, 1.4, 1.4,
           1.3, 1.3, 1.4, 1.4, 1.4, 1.4, 1.4, 1.3, 1.2, 1.0, 0.8, 0.6)
# Air: particulates with traffic peaks and an afternoon low (mixing layer), traffic gases, ozone (sunlight).
PARTICULATES = (1.05, 1.0, 0.95, 0.9, 0.88, 0.9, 1.0, 1.15, 1.28, 1.22, 1.05, 0.95,
                0.88, 0.82, 0.78, 0.78, 0.84, 0.96, 1.1, 1.22, 1.22, 1.16, 1.1, 1.08)
TRAFFIC = (0.95, 0.85, 0.78, 0.72, 0.72, 0.8, 1.0, 1.3, 1.45, 1.3, 1.05, 0.9,
           0.82, 0.78, 0.76, 0.8, 0.92, 1.1, 1.35, 1.42, 1.3, 1.15, 1.05, 1.0)
OZONE = (0.5, 0.45, 0.4, 0.36, 0.33, 0.3, 0.3, 0.35, 0.48, 0.68, 0.92, 1.18,
         1.42, 1.62, 1.78, 1.8, 1.68, 1.45, 1.15, 0.88, 0.7, 0.6, 0.55, 0.52)
# Water demand (0 least, 1 most): pipe pressure is highest when it is least.
WATER_DEMAND = (0.35, 0.2, 0.08, 0.0, 0.05, 0.2, 0.55, 0.92, 1.0, 0.8, 0.65, 0.68,
                0.72, 0.6, 0.5, 0.5, 0.55, 0.7, 0.85, 0.98, 0.97, 0.8, 0.65, 0.5)
# Noise: 0 the night level, 1 the day level.
NOISE = (0.1, 0.03, 0.0, 0.0, 0.0, 0.1, 0.5, 0.9, 1.15, 1.0, 1.0, 1.0,
         1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.15, 1.05, 1.0, 1.0, 0.6, 0.3)


def interpolate(table: tuple[float, ...], hour: float) -> float:
    """A table's value at a fractional local hour, linear between the hours."""
    i, frac = int(hour) % 24, hour % 1
    return table[i] + (table[(i + 1) % 24] - table[i]) * frac


def relative(table: tuple[float, ...]) -> tuple[float, ...]:
    """The table scaled to a mean of 1 (a rate's factor by hour)."""
    mean = sum(table) / len(table)
    return tuple(v / mean for v in table)
