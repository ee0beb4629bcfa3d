"""Synthetic camera pictures as raw I420 frames, in pure Python (no numpy).

The simulator's server runs under the system Python, which may lack numpy, so frames
are made from precomputed byte planes: a pattern that repeats every `PERIOD` rows is
built once, and each frame is a window into it that scrolls two rows per frame (moving
content at the cost of a memory copy). The top strip of every frame carries the stamp
of its capture time (see `streams.stamp`); the stamp's row is passed in by the caller so
this module needs nothing but the standard library.

A later picture mode (black, frozen, blur, covered, colour cast, noise) is one more
branch in `PictureSource.frame`.
"""

from __future__ import annotations

import math

PERIOD = 128  # rows after which the pattern repeats (even; a multiple of every stripe period)
SCROLL = 2  # rows per frame (even, so the chroma planes scroll by whole rows)
NEUTRAL = 128  # chroma value of grey


def _clamp(v: float, lo: int = 16, hi: int = 235) -> int:
    return max(lo, min(hi, round(v)))


def _tint(seed: int) -> tuple[int, int]:
    """A per-camera colour of the stripes, as (U, V) offsets from grey."""
    angle = (seed * 2.399963) % (2 * math.pi)  # golden angle: neighbours look different
    return round(40 * math.cos(angle)), round(40 * math.sin(angle))


class PictureSource:
    """Frames of one stream (width x height, I420) for one camera.

    Construction stores the parameters only; the planes are built on the first frame.
    """

    def __init__(self, width: int, height: int, *, seed: int, strip_rows: int) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"picture: size must be positive and even, got {width}x{height}")
        if strip_rows < 0 or strip_rows % 2 or strip_rows > height:
            raise ValueError(
                f"picture: strip rows must be even and within the picture: {strip_rows}"
            )
        self.width = width
        self.height = height
        self.seed = seed
        self.strip_rows = strip_rows
        self._planes: tuple[bytes, bytes, bytes] | None = None

    @property
    def frame_size(self) -> int:
        return self.width * self.height * 3 // 2

    def _build(self) -> tuple[bytes, bytes, bytes]:
        w, h = self.width, self.height
        w2 = w // 2
        stripe = (16, 32)[self.seed % 2]  # luma pixels per stripe; 2*stripe divides PERIOD
        du, dv = _tint(self.seed)

        base_y = bytes(1 if (x // stripe) % 2 else 0 for x in range(w + PERIOD))
        base_c = bytes(1 if (x // (stripe // 2)) % 2 else 0 for x in range(w2 + PERIOD // 2))
        # per row of the period: brightness of the dark and light stripes (a slow wave)
        y_rows = []
        for r in range(PERIOD):
            wave = math.sin(2 * math.pi * r / PERIOD)
            dark, light = _clamp(70 + 25 * wave), _clamp(170 + 40 * wave)
            table = bytes((dark, light)) + bytes(254)
            y_rows.append(base_y[r : r + w].translate(table))
        u_table = bytes((NEUTRAL - du // 2, NEUTRAL + du)) + bytes(254)
        v_table = bytes((NEUTRAL - dv // 2, NEUTRAL + dv)) + bytes(254)
        half = PERIOD // 2
        u_rows = [base_c[r : r + w2].translate(u_table) for r in range(half)]
        v_rows = [base_c[r : r + w2].translate(v_table) for r in range(half)]
        y_plane = b"".join(y_rows[r % PERIOD] for r in range(h + PERIOD))
        u_plane = b"".join(u_rows[r % half] for r in range(h // 2 + half))
        v_plane = b"".join(v_rows[r % half] for r in range(h // 2 + half))
        return y_plane, u_plane, v_plane

    def frame(self, index: int, stamp_row: bytes) -> bytes:
        """Frame number `index` with `stamp_row` (one luma row, `width` bytes) in the strip."""
        if len(stamp_row) != self.width:
            raise ValueError(f"picture: stamp row is {len(stamp_row)} bytes, need {self.width}")
        if self._planes is None:
            self._planes = self._build()
        y_plane, u_plane, v_plane = self._planes
        w, h, s = self.width, self.height, self.strip_rows
        w2, h2, s2 = w // 2, h // 2, s // 2
        off = (index * SCROLL) % PERIOD
        coff = off // 2
        grey = bytes((NEUTRAL,)) * (w2 * s2)
        y_view, u_view, v_view = memoryview(y_plane), memoryview(u_plane), memoryview(v_plane)
        return b"".join(
            (
                stamp_row * s,
                y_view[(off + s) * w : (off + h) * w],
                grey,
                u_view[(coff + s2) * w2 : (coff + h2) * w2],
                grey,
                v_view[(coff + s2) * w2 : (coff + h2) * w2],
            )
        )
