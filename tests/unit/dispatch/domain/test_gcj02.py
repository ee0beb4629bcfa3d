"""WGS-84 ↔ GCJ-02 against the published reference points (googollee/eviltransform's tests)."""

from __future__ import annotations

import pytest

from dispatch.domain.gcj02 import gcj_to_wgs, out_of_china, wgs_to_gcj

# (wgs lat, wgs lon, gcj lat, gcj lon), as published with eviltransform
REFERENCE = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), REFERENCE)
def test_forward_matches_the_reference(wlat: float, wlon: float, glat: float, glon: float) -> None:
    lon, lat = wgs_to_gcj(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9) and lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), REFERENCE)
def test_inverse_is_within_a_millimetre(wlat: float, wlon: float, glat: float, glon: float) -> None:
    lon, lat = gcj_to_wgs(glon, glat)
    assert lon == pytest.approx(wlon, abs=1e-8) and lat == pytest.approx(wlat, abs=1e-8)


def test_the_offset_is_hundreds_of_metres_in_china_and_none_outside() -> None:
    lon, lat = wgs_to_gcj(112.55, 37.9)  # the demo county
    assert 0.001 < abs(lon - 112.55) + abs(lat - 37.9) < 0.02
    assert out_of_china(2.35, 48.85) and wgs_to_gcj(2.35, 48.85) == (2.35, 48.85)
    assert gcj_to_wgs(-74.0, 40.7) == (-74.0, 40.7)
