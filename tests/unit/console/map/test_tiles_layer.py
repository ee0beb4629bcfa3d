"""The base-tiles layer: a tile's marker pixel lands where its coordinates say (WGS-84 and
GCJ-02 packages), and the demo's generated package lies under the demo site's roads."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsScene

from console.map.mbtiles import MBTiles, tms_row
from console.map.projection import lonlat_to_world, tile_at, tile_bounds, world_to_lonlat
from console.map.tiles import TileLayer, open_tile_layer, to_scene, zoom_for_scale
from dispatch.domain.gcj02 import gcj_to_wgs, wgs_to_gcj
from dispatch.domain.site import demo_site_path, load_site

Z = 15
MARK = (181, 41)  # the marker's top-left pixel in its tile (3×3 block)


def marker_tile() -> bytes:
    img = Image.new("RGB", (256, 256), (255, 255, 255))
    for dx in range(3):
        for dy in range(3):
            img.putpixel((MARK[0] + dx, MARK[1] + dy), (255, 0, 0))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def package_with_marker(path: Path, lon: float, lat: float) -> tuple[float, float]:
    """One z15 tile holding (lon, lat) in the package's datum; returns the marker's centre
    (lon, lat) in that datum."""
    x, y = tile_at(Z, *lonlat_to_world(lon, lat))
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INT, tile_column INT, tile_row INT, tile_data BLOB)")
    db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (Z, x, tms_row(Z, y), marker_tile()))
    db.commit()
    db.close()
    minx, _miny, maxx, maxy = tile_bounds(Z, x, y)
    mpp = (maxx - minx) / 256
    return world_to_lonlat(minx + (MARK[0] + 1.5) * mpp, maxy - (MARK[1] + 1.5) * mpp)


def render(scene: QGraphicsScene, centre: QPointF, metres_per_px: float, size: int = 512) -> QImage:
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(QColor(0, 0, 0))
    half = size * metres_per_px / 2
    source = QRectF(centre.x() - half, centre.y() - half, 2 * half, 2 * half)
    painter = QPainter(image)
    scene.render(painter, QRectF(0, 0, size, size), source)
    painter.end()
    return image


def pixel_at(
    image: QImage, centre: QPointF, metres_per_px: float, lon: float, lat: float
) -> QColor:
    p = to_scene(*lonlat_to_world(lon, lat))
    half = image.width() / 2
    px = half + (p.x() - centre.x()) / metres_per_px
    py = half + (p.y() - centre.y()) / metres_per_px
    return image.pixelColor(int(px), int(py))


def is_red(c: QColor) -> bool:
    return c.red() > 200 and c.green() < 80 and c.blue() < 80


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_marker_pixel_lands_at_its_coordinates(
    qapp: QApplication, tmp_path: Path, scale: float
) -> None:
    f = tmp_path / "m.mbtiles"
    lon, lat = package_with_marker(f, 112.55, 37.9)
    layer = open_tile_layer(f, "wgs84")
    scene = QGraphicsScene()
    scene.addItem(layer)
    mpp = tile_bounds(Z, 0, 0)[2] - tile_bounds(Z, 0, 0)[0]
    mpp = mpp / 256 * scale  # native scale, and zoomed in 2× (z15 tiles scaled up)
    centre = to_scene(*lonlat_to_world(lon, lat))
    image = render(scene, centre, mpp)
    assert layer.tiles_drawn >= 1
    assert is_red(pixel_at(image, centre, mpp, lon, lat))
    # 8 pixels of the tile away (east, and south) is the white tile, not the marker
    away = 8 * mpp / scale
    assert (
        pixel_at(image, centre, mpp, lon, lat).name()
        != pixel_at(image, centre, mpp, *world_to_lonlat(centre.x() + away, -centre.y())).name()
    )
    assert not is_red(
        pixel_at(image, centre, mpp, *world_to_lonlat(centre.x(), -centre.y() - away))
    )


def test_a_gcj02_package_is_shifted_under_the_wgs84_site(
    qapp: QApplication, tmp_path: Path
) -> None:
    f = tmp_path / "g.mbtiles"
    glon, glat = package_with_marker(f, *wgs_to_gcj(112.55, 37.9))
    wlon, wlat = gcj_to_wgs(glon, glat)
    layer = open_tile_layer(f, "gcj02")
    scene = QGraphicsScene()
    scene.addItem(layer)
    mpp = (tile_bounds(Z, 0, 0)[2] - tile_bounds(Z, 0, 0)[0]) / 256
    centre = to_scene(*lonlat_to_world(wlon, wlat))
    image = render(scene, centre, mpp, size=768)
    assert is_red(pixel_at(image, centre, mpp, wlon, wlat))
    # drawn without conversion the marker would be ~100 px away, where there is none
    assert not is_red(pixel_at(image, centre, mpp, glon, glat))


def test_zoom_follows_the_scale_within_the_package() -> None:
    native = 256 / (tile_bounds(Z, 0, 0)[2] - tile_bounds(Z, 0, 0)[0])
    assert zoom_for_scale(native, 11, 17) == Z
    assert zoom_for_scale(native * 2, 11, 17) == Z + 1
    assert zoom_for_scale(native * 64, 11, 17) == 17
    assert zoom_for_scale(native / 64, 11, 17) == 11
    assert zoom_for_scale(0.0, 11, 17) == 11


def test_demo_package_lies_under_the_demo_site(qapp: QApplication, tmp_path: Path) -> None:
    site = load_site(demo_site_path())
    path = site.map.tiles_path(demo_site_path())
    assert path is not None
    source = MBTiles(path)
    source.open()
    info = source.info()
    assert (info.min_zoom, info.max_zoom) == (11, 17) and info.bounds is not None
    layer = TileLayer(source, info, site.map.datum)
    scene = QGraphicsScene()
    scene.addItem(layer)
    for g in site.grids:  # every grid is inside the package's area
        for lon, lat in g.polygon:
            assert layer.boundingRect().contains(to_scene(*lonlat_to_world(lon, lat)))
    # the north-south main road is drawn at lon 112.5370 (WGS-84) in the GCJ-02 package
    mpp = 2.0
    centre = to_scene(*lonlat_to_world(112.5370, 37.90))
    image = render(scene, centre, mpp)
    image.save(str(tmp_path / "demo-tiles.png"))
    road = pixel_at(image, centre, mpp, 112.5370, 37.9010)
    assert (road.red(), road.green(), road.blue()) == pytest.approx((250, 214, 140), abs=12)
    off_road = pixel_at(image, centre, mpp, 112.5370 + 0.0005, 37.9010)
    assert off_road.name() != road.name()
    source.close()


def test_the_tile_cache_is_bounded(qapp: QApplication, tmp_path: Path) -> None:
    f = tmp_path / "four.mbtiles"
    x, y = tile_at(Z, *lonlat_to_world(112.55, 37.9))
    db = sqlite3.connect(f)
    db.execute("CREATE TABLE tiles (zoom_level INT, tile_column INT, tile_row INT, tile_data BLOB)")
    for dx in (0, 1):
        for dy in (0, 1):
            db.execute(
                "INSERT INTO tiles VALUES (?, ?, ?, ?)",
                (Z, x + dx, tms_row(Z, y + dy), marker_tile()),
            )
    db.commit()
    db.close()
    source = MBTiles(f)
    source.open()
    layer = TileLayer(source, source.info(), "wgs84", cache_tiles=2)
    scene = QGraphicsScene()
    scene.addItem(layer)
    minx, _miny, maxx, maxy = tile_bounds(Z, x, y)
    mpp = (maxx - minx) / 256
    render(scene, to_scene(maxx, maxy - (maxx - minx)), mpp, size=512)  # the 2×2 block
    assert layer.tiles_drawn == 4 and layer.cached_tiles == 2
    source.close()
