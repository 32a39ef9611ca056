"""The map's colours, in one place so that every layer and legend agrees (assets/cockpit.css uses the same).

Severity is red / orange / yellow / blue everywhere (DOMAIN.md: 一级 red is the most severe); "done" (closed,
completed) is a muted slate; a silent station is grey. AQI levels use HJ 633's own colours (domain.aqi).
"""
from __future__ import annotations

# rank → (colour, label)
SEVERITY = {4: ("#ff3b3b", "红"), 3: ("#ff8c1a", "橙"), 2: ("#ffd400", "黄"), 1: ("#2f7bff", "蓝"),
            0: ("#5b6b82", "已办结")}
OK = "#2bd47d"  # a station within its limits
NEUTRAL = "#39c5ff"  # a station with no limit to judge against (rain gauge, noise)
SILENT = "#7a818c"  # no reading for too long
# GB 3838 class Ⅰ–Ⅴ and 劣Ⅴ (the colours of China's water-quality maps)
WATER_CLASS = {1: "#1a9bff", 2: "#1a9bff", 3: "#2bd47d", 4: "#ffd400", 5: "#ff8c1a", 6: "#ff3b3b"}


def severity_color(rank: int) -> str:
    return SEVERITY.get(int(rank), SEVERITY[1])[0]
