"""Coordinate systems used in China: WGS-84 (GPS, 天地图), GCJ-02 (Amap, Tencent), BD-09 (Baidu).

GCJ-02 is WGS-84 plus a published obfuscation offset (Krasovsky ellipsoid formulas); BD-09 is GCJ-02 plus a
further rotation and shift. GCJ-02 → WGS-84 has no closed form: it is inverted by fixed-point iteration to
below 1e-7 degrees (~1 cm). Outside China's bounding box GCJ-02 equals WGS-84.
"""
from __future__ import annotations

from functools import lru_cache
from math import atan2, cos, pi, sin, sqrt

CRS = ("WGS84", "GCJ02", "BD09")
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = pi * 3000.0 / 180.0


def in_china(lon: float, lat: float) -> bool:
    return 72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271


def _offset(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
    common = (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += common + (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * sin(y / 12.0 * pi) + 320.0 * sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon += common + (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1 - _EE * sin(rad) ** 2
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt(magic)) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt(magic) * cos(rad) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if not in_china(lon, lat):
        return lon, lat
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    if not in_china(lon, lat):
        return lon, lat
    wlon, wlat = lon, lat
    for _ in range(30):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = lon - glon, lat - glat
        wlon, wlat = wlon + elon, wlat + elat
        if abs(elon) < 1e-9 and abs(elat) < 1e-9:
            break
    return wlon, wlat


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    z = sqrt(lon * lon + lat * lat) + 0.00002 * sin(lat * _X_PI)
    theta = atan2(lat, lon) + 0.000003 * cos(lon * _X_PI)
    return z * cos(theta) + 0.0065, z * sin(theta) + 0.006


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 0.0065, lat - 0.006
    z = sqrt(x * x + y * y) - 0.00002 * sin(y * _X_PI)
    theta = atan2(y, x) - 0.000003 * cos(x * _X_PI)
    return z * cos(theta), z * sin(theta)


@lru_cache(maxsize=1 << 16)  # an entity's events repeat its location; the inversion is the costly part
def to_wgs84_and_gcj02(lon: float, lat: float, crs: str) -> tuple[float, float, float, float]:
    """(wgs_lon, wgs_lat, gcj_lon, gcj_lat) for a point given in ``crs``."""
    if crs == "WGS84":
        return (lon, lat, *wgs84_to_gcj02(lon, lat))
    if crs == "BD09":
        lon, lat = bd09_to_gcj02(lon, lat)
    elif crs != "GCJ02":
        raise ValueError(f"unknown crs {crs!r}; one of {', '.join(CRS)}")
    return (*gcj02_to_wgs84(lon, lat), lon, lat)
