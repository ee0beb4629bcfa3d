"""Draws the demo county's small offline base map as an MBTiles file (Pillow + sqlite3).

    python scripts/make_demo_tiles.py [--out resources/maps/demo-county.mbtiles]
                                      [--min-zoom 11] [--max-zoom 17]

The tiles show a plain land background, built-up areas around the demo site's grids, a
river and roads, all placed from WGS-84 (lon, lat) points. Like most tile packages
handed out in China the package is in GCJ-02: each point is converted with
dispatch.domain.gcj02 before it is drawn, and the site file says `datum = "gcj02"`, so
the map's conversion is exercised by the demo. No text on the tiles (names come from
the site's geometry layer). The output is deterministic for given arguments.
"""

from __future__ import annotations

import argparse
import io
import math
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.map.projection import lonlat_to_world, tile_at, tile_bounds
from dispatch.domain.gcj02 import wgs_to_gcj

BOUNDS_WGS = (112.485, 37.855, 112.620, 37.945)  # west, south, east, north
LAND = (238, 240, 230)
BUILT = (232, 222, 206)
WATER = (158, 196, 232)
ROAD = (255, 255, 255)
ROAD_EDGE = (205, 196, 180)
MAIN_ROAD = (250, 214, 140)

Point = tuple[float, float]
BUILT_AREAS: list[tuple[Point, Point]] = [  # (west, south), (east, north), WGS-84
    ((112.497, 37.867), (112.577, 37.882)),
    ((112.577, 37.917), (112.605, 37.931)),
]
RIVER: list[Point] = [
    (112.485 + i * 0.0045, 37.899 + 0.0035 * math.sin(i / 3.0)) for i in range(31)
]
ROADS: list[tuple[list[Point], float, tuple[int, int, int]]] = [
    ([(112.485, 37.8790), (112.620, 37.8790)], 18.0, MAIN_ROAD),
    ([(112.5370, 37.855), (112.5370, 37.945)], 14.0, MAIN_ROAD),
    ([(112.5760, 37.8790), (112.5780, 37.9000), (112.5790, 37.9240)], 10.0, ROAD),
    ([(112.577, 37.9190), (112.605, 37.9190)], 8.0, ROAD),
    ([(112.4980, 37.8740), (112.5760, 37.8740)], 6.0, ROAD),
]


def _pixel(z: int, x: int, y: int, lon: float, lat: float) -> Point:
    minx, _miny, maxx, maxy = tile_bounds(z, x, y)
    wx, wy = lonlat_to_world(*wgs_to_gcj(lon, lat))
    scale = 256 / (maxx - minx)
    return (wx - minx) * scale, (maxy - wy) * scale


def _width_px(z: int, x: int, y: int, metres: float) -> int:
    minx, _miny, maxx, _maxy = tile_bounds(z, x, y)
    return max(1, round(metres * 256 / (maxx - minx)))


def draw_tile(z: int, x: int, y: int) -> bytes:
    img = Image.new("RGB", (256, 256), LAND)
    draw = ImageDraw.Draw(img)
    for (w, s), (e, n) in BUILT_AREAS:
        ring = [_pixel(z, x, y, lo, la) for lo, la in ((w, s), (e, s), (e, n), (w, n))]
        draw.polygon(ring, fill=BUILT)
    river = [_pixel(z, x, y, lo, la) for lo, la in RIVER]
    draw.line(river, fill=WATER, width=_width_px(z, x, y, 40.0), joint="curve")
    for points, metres, colour in ROADS:
        line = [_pixel(z, x, y, lo, la) for lo, la in points]
        width = _width_px(z, x, y, metres)
        draw.line(line, fill=ROAD_EDGE, width=width + 2)
        draw.line(line, fill=colour, width=width)
    out = io.BytesIO()
    img.quantize(colors=16).save(out, format="PNG", optimize=True)
    return out.getvalue()


def tiles_for(z: int) -> list[tuple[int, int]]:
    w, s, e, n = BOUNDS_WGS
    c0, r0 = tile_at(z, *lonlat_to_world(*wgs_to_gcj(w, n)))
    c1, r1 = tile_at(z, *lonlat_to_world(*wgs_to_gcj(e, s)))
    return [(c, r) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]


def write_mbtiles(
    path: Path, metadata: dict[str, str], tiles: Sequence[tuple[int, int, int, bytes]]
) -> None:
    """A fresh MBTiles file; tiles as (z, x, XYZ row, bytes), stored with TMS rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
            " tile_data BLOB)"
        )
        db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        db.executemany("INSERT INTO metadata VALUES (?, ?)", sorted(metadata.items()))
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [(z, x, (1 << z) - 1 - y, data) for z, x, y, data in tiles],
        )
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=root / "resources/maps/demo-county.mbtiles")
    parser.add_argument("--min-zoom", type=int, default=11)
    parser.add_argument("--max-zoom", type=int, default=17)
    args = parser.parse_args(argv)
    tiles = [
        (z, x, y, draw_tile(z, x, y))
        for z in range(args.min_zoom, args.max_zoom + 1)
        for x, y in tiles_for(z)
    ]
    w, s = wgs_to_gcj(BOUNDS_WGS[0], BOUNDS_WGS[1])
    e, n = wgs_to_gcj(BOUNDS_WGS[2], BOUNDS_WGS[3])
    metadata = {
        "name": "示范县底图 (demo, generated)",
        "format": "png",
        "type": "baselayer",
        "version": "1",
        "minzoom": str(args.min_zoom),
        "maxzoom": str(args.max_zoom),
        "bounds": f"{w:.6f},{s:.6f},{e:.6f},{n:.6f}",
        "description": "Command Hall demo county, drawn by scripts/make_demo_tiles.py; GCJ-02",
    }
    write_mbtiles(args.out, metadata, tiles)
    print(f"{args.out}: {len(tiles)} tiles, {args.out.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
