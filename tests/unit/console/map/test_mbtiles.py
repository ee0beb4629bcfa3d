"""MBTiles reading: TMS rows flipped to XYZ, metadata with defaults, bad files refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from console.map.mbtiles import (
    JPEG_SIGNATURE,
    PNG_SIGNATURE,
    MBTiles,
    MBTilesError,
    tile_format,
    tms_row,
)


def make_package(
    path: Path, tiles: dict[tuple[int, int, int], bytes], meta: dict[str, str]
) -> None:
    """Tiles keyed by (z, x, TMS row), as MBTiles stores them."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INT, tile_column INT, tile_row INT, tile_data BLOB)")
    db.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", [(*k, v) for k, v in tiles.items()])
    db.commit()
    db.close()


def test_rows_are_flipped_from_tms(tmp_path: Path) -> None:
    f = tmp_path / "t.mbtiles"
    make_package(f, {(3, 5, 1): PNG_SIGNATURE + b"south", (3, 5, 6): JPEG_SIGNATURE + b"n"}, {})
    tiles = MBTiles(f)
    tiles.open()
    tiles.open()  # twice is safe
    try:
        assert tms_row(3, 1) == 6 and tms_row(3, 6) == 1
        south = tiles.tile(3, 5, 6)  # XYZ row 6 (south) is TMS row 1
        assert south is not None and south.endswith(b"south") and tile_format(south) == "png"
        north = tiles.tile(3, 5, 1)
        assert north is not None and tile_format(north) == "jpg"
        assert tiles.tile(3, 5, 2) is None and tiles.tile(3, 9, 1) is None
        assert tiles.tile(-1, 0, 0) is None
        info = tiles.info()
        assert (info.min_zoom, info.max_zoom, info.bounds, info.format) == (3, 3, None, "png")
    finally:
        tiles.close()
        tiles.close()


def test_metadata_is_read_and_bad_values_fall_back(tmp_path: Path) -> None:
    f = tmp_path / "t.mbtiles"
    meta = {"name": "县底图", "format": "jpg", "minzoom": "x", "maxzoom": "16", "bounds": "1,2"}
    make_package(f, {(12, 1, 1): b"?"}, meta)
    tiles = MBTiles(f)
    tiles.open()
    try:
        info = tiles.info()
        assert (info.name, info.format, info.min_zoom, info.max_zoom) == ("县底图", "jpg", 12, 16)
        assert info.bounds is None
    finally:
        tiles.close()
    make_package(tmp_path / "b.mbtiles", {(1, 0, 0): b"?"}, {"bounds": "112.4,37.8,112.7,38.0"})
    good = MBTiles(tmp_path / "b.mbtiles")
    good.open()
    assert good.info().bounds == (112.4, 37.8, 112.7, 38.0)
    good.close()


def test_no_io_until_open_and_bad_files_are_refused(tmp_path: Path) -> None:
    missing = MBTiles(tmp_path / "nothing.mbtiles")  # constructing touches nothing
    with pytest.raises(MBTilesError, match="no such tile package"):
        missing.open()
    junk = tmp_path / "junk.mbtiles"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(MBTilesError, match="not an MBTiles"):
        MBTiles(junk).open()
    other = tmp_path / "other.mbtiles"
    sqlite3.connect(other).execute("CREATE TABLE x (a INT)").connection.close()
    with pytest.raises(MBTilesError, match="not an MBTiles"):
        MBTiles(other).open()
    with pytest.raises(MBTilesError, match="not open"):
        MBTiles(other).tile(0, 0, 0)
