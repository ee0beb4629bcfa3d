"""Read an MBTiles file: raster map tiles in SQLite (the MBTiles 1.3 layout).

The `tiles` table stores rows in TMS order (row 0 at the south); this reader takes and
gives XYZ rows (row 0 at the north), as the map's tile grid uses them. Tiles are PNG or
JPEG bytes (the `format` metadata; the bytes' own signature wins). The constructor only
remembers the path: `open()` connects (read-only), `close()` disconnects; both are safe
to call twice. A file that is not an MBTiles raises `MBTilesError` with the reason.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"


class MBTilesError(Exception):
    """The file cannot be read as an MBTiles tile package."""


@dataclass(frozen=True)
class TilesetInfo:
    """What the package says about itself (metadata table), with safe defaults."""

    name: str
    format: str
    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float] | None
    """(west, south, east, north) degrees, in the package's own datum."""


def tms_row(z: int, row: int) -> int:
    """XYZ row ↔ TMS row at zoom z (the flip is its own inverse)."""
    return (1 << z) - 1 - row


def tile_format(data: bytes) -> str | None:
    """ "png", "jpg" or None, from the bytes' signature."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(JPEG_SIGNATURE):
        return "jpg"
    return None


def _parse_bounds(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        w, s, e, n = (float(p) for p in text.split(","))
    except ValueError:
        return None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        return None
    return w, s, e, n


def _parse_int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


class MBTiles:
    """One MBTiles file, opened read-only."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._db: sqlite3.Connection | None = None

    @property
    def path(self) -> Path:
        return self._path

    def open(self) -> None:
        if self._db is not None:
            return
        if not self._path.is_file():
            raise MBTilesError(f"{self._path}: no such tile package")
        uri = self._path.resolve().as_uri() + "?mode=ro"
        try:
            db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1")
        except sqlite3.Error as exc:
            raise MBTilesError(f"{self._path}: not an MBTiles file ({exc})") from None
        self._db = db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise MBTilesError(f"{self._path}: not open")
        return self._db

    def metadata(self) -> dict[str, str]:
        """The metadata table as text (empty when the table is missing)."""
        try:
            rows = self._conn().execute("SELECT name, value FROM metadata").fetchall()
        except sqlite3.Error:
            return {}
        return {str(k): str(v) for k, v in rows if k is not None and v is not None}

    def info(self) -> TilesetInfo:
        meta = self.metadata()
        lo, hi = (
            self._conn().execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
        )
        min_zoom = _parse_int(meta.get("minzoom"), lo if lo is not None else 0)
        max_zoom = _parse_int(meta.get("maxzoom"), hi if hi is not None else 0)
        return TilesetInfo(
            name=meta.get("name", self._path.stem),
            format=meta.get("format", "png"),
            min_zoom=max(0, min(min_zoom, 30)),
            max_zoom=max(0, min(max_zoom, 30)),
            bounds=_parse_bounds(meta.get("bounds")),
        )

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The bytes of XYZ tile (z, x, y), or None when the package has none there."""
        if z < 0 or not (0 <= x < (1 << z) and 0 <= y < (1 << z)):
            return None
        row = (
            self._conn()
            .execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, tms_row(z, y)),
            )
            .fetchone()
        )
        return bytes(row[0]) if row is not None and row[0] is not None else None
