"""WGS-84 ↔ GCJ-02 ("Mars coordinates", the datum of most maps published in China).

GCJ-02 is WGS-84 with a deliberate, smooth offset (a few hundred metres) inside China and
none outside it. `wgs_to_gcj` is the published forward formula (Krasovsky ellipsoid
constants); `gcj_to_wgs` inverts it by fixed-point iteration to well under a centimetre.
Pure: arguments and results are (lon, lat) degrees, GeoJSON order as in the site file.
"""

from __future__ import annotations

import math

_A = 6378245.0
_EE = 0.00669342162296594323


def out_of_china(lon: float, lat: float) -> bool:
    """True where GCJ-02 applies no offset (the usual rectangle test)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    return ret


def _offset_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    return ret


def _delta(lon: float, lat: float) -> tuple[float, float]:
    dlat = _offset_lat(lon - 105.0, lat - 35.0)
    dlon = _offset_lon(lon - 105.0, lat - 35.0)
    radlat = math.radians(lat)
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlon, dlat


def wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 (lon, lat) → GCJ-02 (lon, lat); unchanged outside China."""
    if out_of_china(lon, lat):
        return lon, lat
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj_to_wgs(lon: float, lat: float, tolerance_deg: float = 1e-9) -> tuple[float, float]:
    """GCJ-02 (lon, lat) → WGS-84 (lon, lat), iterated until the forward image is within
    `tolerance_deg` of the input (about 0.1 mm for the default; ≤ 30 rounds)."""
    if out_of_china(lon, lat):
        return lon, lat
    wlon, wlat = lon, lat
    for _ in range(30):
        glon, glat = wgs_to_gcj(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        if abs(elon) < tolerance_deg and abs(elat) < tolerance_deg:
            break
        wlon, wlat = wlon - elon, wlat - elat
    return wlon, wlat
