"""Raster primitives for the simulator's scene: I420 canvases, sprites and blits, pure Python.

The simulator's server runs under the system Python, which has no numpy, so every
operation here works on whole row spans (bytearray slice assignment, `bytes.translate`)
and never loops over single pixels per frame. A `Canvas` holds the three I420 planes
(luma full size, chroma half size each way) and, for sprites, an opacity mask;
`Canvas.sprite()` turns it into runs (row, column, bytes) that `blit` copies into a
frame at any position, clipped at the frame's edges.

Colours are (Y, U, V) in video range (`yuv(r, g, b)` converts BT.601).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Colour = tuple[int, int, int]
Runs = tuple[tuple[int, int, bytes], ...]


def yuv(r: int, g: int, b: int) -> Colour:
    """BT.601 video-range (Y, U, V) of an sRGB colour 0..255."""
    rf, gf, bf = r / 255, g / 255, b / 255
    y = 16 + 65.481 * rf + 128.553 * gf + 24.966 * bf
    u = 128 - 37.797 * rf - 74.203 * gf + 112.0 * bf
    v = 128 + 112.0 * rf - 93.786 * gf - 18.214 * bf
    return (_byte(y), _byte(u), _byte(v))


def _byte(v: float) -> int:
    return max(0, min(255, round(v)))


def level_table(scale: float, offset: float, lo: int = 16, hi: int = 235) -> bytes:
    """A `bytes.translate` table: v -> clamp(16 + (v - 16) * scale + offset)."""
    return bytes(max(lo, min(hi, round(16 + (v - 16) * scale + offset))) for v in range(256))


@dataclass(frozen=True, slots=True)
class Sprite:
    """Opaque runs of a small picture: (row, first column, bytes) per plane."""

    width: int
    height: int
    y_runs: tuple[tuple[int, int, bytes], ...]
    u_runs: tuple[tuple[int, int, bytes], ...]
    v_runs: tuple[tuple[int, int, bytes], ...]
    # per frame size: (start, end, bytes) of every run relative to the sprite's top left
    # in the frame (luma) and to its top left in the U plane (U and V runs, V's moved by
    # the plane size), so that a blit needs only two additions per run
    _flat: dict[tuple[int, int], tuple[Runs, Runs]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def flat(self, width: int, height: int) -> tuple[Runs, Runs]:
        got = self._flat.get((width, height))
        if got is None:
            cw, plane = width // 2, (width // 2) * (height // 2)
            luma = tuple(
                (dy * width + dx, dy * width + dx + len(d), d) for dy, dx, d in self.y_runs
            )
            chroma = tuple(
                (base + dy * cw + dx, base + dy * cw + dx + len(d), d)
                for base, runs in ((0, self.u_runs), (plane, self.v_runs))
                for dy, dx, d in runs
            )
            got = self._flat[(width, height)] = (luma, chroma)
        return got


def _spans(mask: bytes | bytearray, start: int, end: int) -> list[tuple[int, int]]:
    """(first, end) index pairs of the runs of 1s in mask[start:end]."""
    out = []
    pos = start
    while pos < end:
        a = mask.find(1, pos, end)
        if a < 0:
            break
        b = mask.find(0, a, end)
        if b < 0:
            b = end
        out.append((a, b))
        pos = b
    return out


class Canvas:
    """I420 planes of width x height (both even), optionally with an opacity mask."""

    def __init__(self, width: int, height: int, fill: Colour, *, masked: bool = False) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"canvas: size must be positive and even, got {width}x{height}")
        self.w, self.h = width, height
        self.cw, self.ch = width // 2, height // 2
        self.y = bytearray((fill[0],)) * (width * height)
        self.u = bytearray((fill[1],)) * (self.cw * self.ch)
        self.v = bytearray((fill[2],)) * (self.cw * self.ch)
        self.mask = bytearray(width * height) if masked else None

    # -- shapes -------------------------------------------------------------------
    def rows(self, y0: int, spans: Sequence[tuple[int, int]], colour: Colour) -> None:
        """Fill row y0 + i from spans[i] = (x0, x1) (clipped) in `colour`."""
        yc, uc, vc = colour
        w, h = self.w, self.h
        for i, (x0, x1) in enumerate(spans):
            r = y0 + i
            a, b = max(0, x0), min(w, x1)
            if not 0 <= r < h or a >= b:
                continue
            self.y[r * w + a : r * w + b] = bytes((yc,)) * (b - a)
            if self.mask is not None:
                self.mask[r * w + a : r * w + b] = b"\x01" * (b - a)
            if r % 2 == 0 or i == 0:
                cr, ca, cb = r // 2, a // 2, (b + 1) // 2
                self.u[cr * self.cw + ca : cr * self.cw + cb] = bytes((uc,)) * (cb - ca)
                self.v[cr * self.cw + ca : cr * self.cw + cb] = bytes((vc,)) * (cb - ca)

    def rect(self, x0: float, y0: float, x1: float, y1: float, colour: Colour) -> None:
        a, b, top, bottom = round(x0), round(x1), round(y0), round(y1)
        if bottom > top:
            self.rows(top, [(a, b)] * (bottom - top), colour)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, colour: Colour) -> None:
        top, bottom = round(cy - ry), round(cy + ry)
        self.rows(top, ellipse_spans(cx, cy, rx, ry, top, bottom), colour)

    def polygon_rows(
        self, y0: float, y1: float, left: Callable[[float], float], right: Callable[[float], float]
    ) -> list[tuple[int, int]]:
        """Spans of rows y0..y1 between left(t) and right(t), t = 0 at the top, 1 at the bottom."""
        top, bottom = round(y0), round(y1)
        n = max(1, bottom - top)
        return [(round(left(i / n)), round(right(i / n))) for i in range(bottom - top)]

    def textured(
        self, x0: int, y0: int, x1: int, y1: int, rows: Sequence[bytes], chroma: tuple[int, int]
    ) -> None:
        """Luma rows y0..y1 from `rows` (full-width texture rows, cycled), flat chroma."""
        w = self.w
        a, b = max(0, x0), min(w, x1)
        for r in range(max(0, y0), min(self.h, y1)):
            self.y[r * w + a : r * w + b] = rows[(r * 7) % len(rows)][a:b]
        uc, vc = chroma
        for cr in range(max(0, y0) // 2, (min(self.h, y1) + 1) // 2):
            self.u[cr * self.cw + a // 2 : cr * self.cw + (b + 1) // 2] = bytes((uc,)) * (
                (b + 1) // 2 - a // 2
            )
            self.v[cr * self.cw + a // 2 : cr * self.cw + (b + 1) // 2] = bytes((vc,)) * (
                (b + 1) // 2 - a // 2
            )

    def relevel(self, y0: int, spans: Sequence[tuple[int, int]], table: bytes) -> None:
        """Map the luma of the given row spans through a translate table (light, shade)."""
        w = self.w
        for i, (x0, x1) in enumerate(spans):
            r = y0 + i
            a, b = max(0, x0), min(w, x1)
            if 0 <= r < self.h and a < b:
                self.y[r * w + a : r * w + b] = self.y[r * w + a : r * w + b].translate(table)

    def grey(self, tables: Callable[[int], bytes]) -> None:
        """Black and white (an infrared night picture): luma row r through tables(r)."""
        w = self.w
        for r in range(self.h):
            self.y[r * w : (r + 1) * w] = self.y[r * w : (r + 1) * w].translate(tables(r))
        self.u[:] = b"\x80" * len(self.u)
        self.v[:] = b"\x80" * len(self.v)

    # -- results -----------------------------------------------------------------------
    def i420(self) -> bytes:
        return bytes(self.y + self.u + self.v)

    def sprite(self) -> Sprite:
        """The opaque parts (mask) as runs; the canvas must be masked."""
        if self.mask is None:
            raise ValueError("canvas: only a masked canvas makes a sprite")
        m, w, cw = self.mask, self.w, self.cw
        y_runs = [
            (r, a - r * w, bytes(self.y[a:b]))
            for r in range(self.h)
            for a, b in _spans(m, r * w, (r + 1) * w)
        ]
        u_runs, v_runs = [], []
        for cr in range(self.ch):
            top, bottom = m[2 * cr * w : (2 * cr + 1) * w], m[(2 * cr + 1) * w : (2 * cr + 2) * w]
            both = bytes(x | y for x, y in zip(top, bottom, strict=True))
            half = bytes(x | y for x, y in zip(both[0::2], both[1::2], strict=True))
            for a, b in _spans(half, 0, cw):
                u_runs.append((cr, a, bytes(self.u[cr * cw + a : cr * cw + b])))
                v_runs.append((cr, a, bytes(self.v[cr * cw + a : cr * cw + b])))
        return Sprite(self.w, self.h, tuple(y_runs), tuple(u_runs), tuple(v_runs))


def ellipse_spans(
    cx: float, cy: float, rx: float, ry: float, top: int, bottom: int
) -> list[tuple[int, int]]:
    spans = []
    for r in range(top, bottom):
        t = (r + 0.5 - cy) / ry if ry > 0 else 0.0
        half = rx * max(0.0, 1 - t * t) ** 0.5
        spans.append((round(cx - half), round(cx + half)))
    return spans


def texture_rows(
    width: int, base: int, amp: int, count: int, rand: Callable[[int], int], grain: int = 1
) -> list[bytes]:
    """`count` luma rows of `base` +- `amp` in squares of `grain` pixels (static texture)."""
    rows = []
    for _ in range(count):
        coarse = [
            max(16, min(235, base + rand(2 * amp + 1) - amp)) for _ in range(width // grain + 1)
        ]
        rows.append(bytes(coarse[x // grain] for x in range(width)))
    return rows


def blit(frame: bytearray, width: int, height: int, sprite: Sprite, x: int, y: int) -> None:
    """Copy `sprite`'s opaque runs into an I420 `frame` with its top left at (x, y) (even)."""
    x -= x % 2
    y -= y % 2
    inside = x >= 0 and y >= 0 and x + sprite.width <= width and y + sprite.height <= height
    cw, ch = width // 2, height // 2
    if inside:
        luma, chroma = sprite.flat(width, height)
        o = y * width + x
        for a, b, data in luma:
            frame[o + a : o + b] = data
        o = width * height + (y // 2) * cw + x // 2
        for a, b, data in chroma:
            frame[o + a : o + b] = data
        return
    _blit_clipped(frame, 0, width, height, sprite.y_runs, x, y)
    base = width * height
    _blit_clipped(frame, base, cw, ch, sprite.u_runs, x // 2, y // 2)
    _blit_clipped(frame, base + cw * ch, cw, ch, sprite.v_runs, x // 2, y // 2)


def _blit_clipped(
    frame: bytearray,
    base: int,
    width: int,
    height: int,
    runs: Sequence[tuple[int, int, bytes]],
    x: int,
    y: int,
) -> None:
    for dy, dx, data in runs:
        r = y + dy
        if not 0 <= r < height:
            continue
        a = x + dx
        b = a + len(data)
        if b <= 0 or a >= width:
            continue
        lo, hi = max(0, -a), len(data) - max(0, b - width)
        frame[base + r * width + a + lo : base + r * width + a + hi] = data[lo:hi]
