"""The wall's tile arrangements: 1, 4, 9, 16, 25, 36, one-large-plus-5, one-large-plus-7.

Pure geometry: a shape is a square grid and the cells (row, column, spans) of its
tiles, in the order tiles are numbered (the large tile first).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cell:
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1


@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    size: int  # the grid is size x size
    cells: tuple[Cell, ...]

    @property
    def tiles(self) -> int:
        return len(self.cells)


class UnknownShapeError(ValueError):
    """A layout name that is not one of SHAPE_NAMES."""


def _square(n: int) -> Shape:
    return Shape(str(n * n), n, tuple(Cell(r, c) for r in range(n) for c in range(n)))


def _one_large(size: int) -> Shape:
    big = size - 1
    cells = [Cell(0, 0, big, big)]
    cells += [Cell(r, big) for r in range(big)]
    cells += [Cell(big, c) for c in range(size)]
    return Shape(f"1+{len(cells) - 1}", size, tuple(cells))


SHAPES: dict[str, Shape] = {
    s.name: s for s in [*(_square(n) for n in range(1, 7)), _one_large(3), _one_large(4)]
}
SHAPE_NAMES: tuple[str, ...] = ("1", "4", "9", "16", "25", "36", "1+5", "1+7")


def shape(name: str) -> Shape:
    try:
        return SHAPES[name]
    except KeyError:
        raise UnknownShapeError(
            f"unknown wall layout {name!r}: choose one of {', '.join(SHAPE_NAMES)}"
        ) from None


def cell_rects(s: Shape, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Pixel rectangles (x, y, w, h) of the tiles of `s` in a width x height wall.

    Edges are rounded, then widths and heights are made even (decoders scale to even
    sizes, and a frame of exactly the tile's size is painted 1:1): at most a one-pixel
    seam of background stays between tiles.
    """
    xs = [round(i * width / s.size) for i in range(s.size + 1)]
    ys = [round(i * height / s.size) for i in range(s.size + 1)]
    out = []
    for c in s.cells:
        x, y = xs[c.col], ys[c.row]
        w = xs[c.col + c.colspan] - x
        h = ys[c.row + c.rowspan] - y
        out.append((x, y, w - w % 2, h - h % 2))
    return out
