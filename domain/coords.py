"""Coordinate systems used in China: WGS-84 (GPS, 天地图), GCJ-02 (Amap, Tencent), BD-09 (Baidu).

GCJ-02 is WGS-84 plus a published obfuscation offset (Krasovsky ellipsoid formulas); BD-09 is GCJ-02 plus a
further rotation and shift. GCJ-02 → WGS-84 has no closed form: it is inverted by fixed-point iteration to
below 1e-9 degrees (~0.1 mm). Outside China's bounding box GCJ-02 equals WGS-84.

Every formula is written once with numpy ufuncs, so it takes a float or an array: ingest converts a whole
batch at once (:func:`to_wgs84_and_gcj02_many`), the scalar functions are for single points.
"""
from __future__ import annotations

import numpy as np

CRS = ("WGS84", "GCJ02", "BD09")
_A = 6378245.0
_EE = 0.00669342162296594323
_PI = np.pi
_X_PI = _PI * 3000.0 / 180.0


def in_china(lon, lat):
    return (72.004 <= lon) & (lon <= 137.8347) & (0.8293 <= lat) & (lat <= 55.8271)


def _offset(lon, lat):
    x, y = lon - 105.0, lat - 35.0
    sin = np.sin
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    common = (20.0 * sin(6.0 * x * _PI) + 20.0 * sin(2.0 * x * _PI)) * 2.0 / 3.0
    dlat += common + (20.0 * sin(y * _PI) + 40.0 * sin(y / 3.0 * _PI)) * 2.0 / 3.0
    dlat += (160.0 * sin(y / 12.0 * _PI) + 320.0 * sin(y * _PI / 30.0)) * 2.0 / 3.0
    dlon += common + (20.0 * sin(x * _PI) + 40.0 * sin(x / 3.0 * _PI)) * 2.0 / 3.0
    dlon += (150.0 * sin(x / 12.0 * _PI) + 300.0 * sin(x / 30.0 * _PI)) * 2.0 / 3.0
    rad = lat / 180.0 * _PI
    magic = 1 - _EE * sin(rad) ** 2
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * np.sqrt(magic)) * _PI)
    dlon = (dlon * 180.0) / (_A / np.sqrt(magic) * np.cos(rad) * _PI)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _wgs84_to_gcj02(lon, lat):
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj02_to_wgs84(lon, lat):
    wlon, wlat = lon, lat
    for _ in range(30):  # converges by ~4 orders of magnitude per step: 3 steps in practice
        glon, glat = _wgs84_to_gcj02(wlon, wlat)
        elon, elat = lon - glon, lat - glat
        wlon, wlat = wlon + elon, wlat + elat
        if np.all(np.abs(elon) < 1e-9) and np.all(np.abs(elat) < 1e-9):
            break
    return wlon, wlat


def _gcj02_to_bd09(lon, lat):
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02(lon, lat):
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _point(convert):
    def scalar(lon: float, lat: float) -> tuple[float, float]:
        x, y = convert(float(lon), float(lat))
        return float(x), float(y)
    scalar.__name__ = convert.__name__.lstrip("_")
    return scalar


wgs84_to_gcj02 = _point(_wgs84_to_gcj02)
gcj02_to_wgs84 = _point(_gcj02_to_wgs84)
gcj02_to_bd09 = _point(_gcj02_to_bd09)
bd09_to_gcj02 = _point(_bd09_to_gcj02)


def to_wgs84_and_gcj02_many(lon: np.ndarray, lat: np.ndarray, crs: np.ndarray) -> tuple[np.ndarray, ...]:
    """(wgs_lon, wgs_lat, gcj_lon, gcj_lat) arrays for points given as arrays, each in its ``crs`` (one of
    :data:`CRS`)."""
    lon, lat, crs = np.asarray(lon, float), np.asarray(lat, float), np.asarray(crs)
    unknown = set(np.unique(crs)) - set(CRS)
    if unknown:
        raise ValueError(f"unknown crs {sorted(unknown)[0]!r}; one of {', '.join(CRS)}")
    wgs, bd = crs == "WGS84", crs == "BD09"
    glon, glat = lon.copy(), lat.copy()
    if bd.any():
        glon[bd], glat[bd] = _bd09_to_gcj02(lon[bd], lat[bd])
    if wgs.any():
        glon[wgs], glat[wgs] = _wgs84_to_gcj02(lon[wgs], lat[wgs])
    wlon, wlat = lon.copy(), lat.copy()
    if (~wgs).any():
        wlon[~wgs], wlat[~wgs] = _gcj02_to_wgs84(glon[~wgs], glat[~wgs])
    return wlon, wlat, glon, glat


def to_wgs84_and_gcj02(lon: float, lat: float, crs: str) -> tuple[float, float, float, float]:
    """(wgs_lon, wgs_lat, gcj_lon, gcj_lat) for a point given in ``crs``."""
    return tuple(float(v[0]) for v in to_wgs84_and_gcj02_many(np.array([lon]), np.array([lat]), np.array([crs])))
