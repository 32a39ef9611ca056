"""WGS-84 / GCJ-02 / BD-09 conversions over Guangzhou."""
from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

import numpy as np
import pytest

from domain.coords import (
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84_and_gcj02,
    to_wgs84_and_gcj02_many,
    wgs84_to_gcj02,
)

# 11 × 11 points over the city's extent (112.95–114.05 E, 22.5–23.95 N)
GUANGZHOU = [(112.95 + i * 0.11, 22.5 + j * 0.145) for i in range(11) for j in range(11)]


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = radians(lat1), radians(lat2)
    h = sin((p2 - p1) / 2) ** 2 + cos(p1) * cos(p2) * sin(radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * asin(sqrt(h))


def test_wgs84_to_gcj02_and_back_returns_the_point():
    for lon, lat in GUANGZHOU:
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
        assert back == pytest.approx((lon, lat), abs=1e-6)


def test_gcj02_to_bd09_and_back_returns_the_point():
    for lon, lat in GUANGZHOU:
        back = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
        assert back == pytest.approx((lon, lat), abs=1e-6)


def test_gcj02_offset_in_guangzhou_is_a_few_hundred_metres():
    for lon, lat in GUANGZHOU:
        assert 300 < haversine_m(lon, lat, *wgs84_to_gcj02(lon, lat)) < 700


@pytest.mark.parametrize("lon, lat", [(2.35, 48.86), (-74.0, 40.7), (151.2, -33.9), (0.0, 0.0)])
def test_outside_china_gcj02_equals_wgs84(lon, lat):
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_to_wgs84_and_gcj02_gives_both_for_every_crs():
    lon, lat = 113.3245, 23.1375
    wlon, wlat = gcj02_to_wgs84(lon, lat)
    assert to_wgs84_and_gcj02(lon, lat, "GCJ02") == (wlon, wlat, lon, lat)
    assert to_wgs84_and_gcj02(wlon, wlat, "WGS84") == pytest.approx((wlon, wlat, lon, lat), abs=1e-6)
    assert to_wgs84_and_gcj02(*gcj02_to_bd09(lon, lat), "BD09") == pytest.approx((wlon, wlat, lon, lat), abs=1e-6)


@pytest.mark.parametrize("crs", ["EPSG:4326", "wgs84", "", "CGCS2000"])
def test_unknown_crs_raises_value_error(crs):
    with pytest.raises(ValueError, match="unknown crs"):
        to_wgs84_and_gcj02(113.3, 23.1, crs)


def test_matches_published_reference_implementation():
    import eviltransform as evil  # requirements-dev.txt; its argument order is (lat, lon)
    for lon, lat in GUANGZHOU:
        assert wgs84_to_gcj02(lon, lat) == pytest.approx(evil.wgs2gcj(lat, lon)[::-1], abs=1e-6)
        assert gcj02_to_bd09(lon, lat) == pytest.approx(evil.gcj2bd(lat, lon)[::-1], abs=1e-6)
        assert bd09_to_gcj02(lon, lat) == pytest.approx(evil.bd2gcj(lat, lon)[::-1], abs=1e-6)


def test_many_equals_one_by_one_for_mixed_crs():
    lons, lats = zip(*GUANGZHOU)
    crs = ["GCJ02", "WGS84", "BD09"] * len(lons)
    lons, lats = list(lons) * 3, list(lats) * 3
    many = to_wgs84_and_gcj02_many(np.array(lons), np.array(lats), np.array(crs[:len(lons)]))
    for i, (lon, lat, c) in enumerate(zip(lons, lats, crs)):
        assert tuple(a[i] for a in many) == pytest.approx(to_wgs84_and_gcj02(lon, lat, c), abs=1e-12)
