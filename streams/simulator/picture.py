"""Synthetic camera pictures as raw I420 frames, in pure Python (no numpy).

The simulator's server runs under the system Python, which may lack numpy, so frames
are made from precomputed byte planes: a pattern that repeats every `PERIOD` rows is
built once, and each frame is a window into it that scrolls two rows per frame (moving
content at the cost of a memory copy). The top strip of every frame carries the stamp
of its capture time (see `streams.ingest.stamp`); the stamp's row is passed in by the caller so
this module needs nothing but the standard library.

Picture modes (`MODES`) simulate the faults of a real camera for the health patrol:
`black` (lens dead), `frozen` (the same picture over and over), `blur` (only wide,
smooth shapes), `covered` (a dark, textureless cover with a gentle gradient),
`colour_cast` (every colour leaning one way) and `noise` (fresh random noise on every
frame). Planes are built once per mode; `noise` adds a window of a precomputed plane of
coarse random grain (NOISE_GRAIN pixels square, so that it survives H.264 encoding and
scaling) at a random offset through one big-integer addition per frame (no per-pixel
Python loop).
"""

from __future__ import annotations

import math
import os
import random

PERIOD = 128  # rows after which the pattern repeats (even; a multiple of every stripe period)
DRIFT = 139  # frames of one sideways drift cycle (prime, so it never lines up with the scroll)
SCROLL = 2  # rows per frame (even, so the chroma planes scroll by whole rows)
NEUTRAL = 128  # chroma value of grey
CELL_W = 40  # block width of the normal picture, luma pixels
CELL_H = 32  # block height; divides PERIOD
MODES = ("normal", "black", "frozen", "blur", "covered", "colour_cast", "noise")
NOISE_SPAN = 96  # noise adds 0..NOISE_SPAN-1 to luma (after compressing it to leave room)
NOISE_GRAIN = 3  # noise grain size in luma pixels


def _clamp(v: float, lo: int = 16, hi: int = 235) -> int:
    return max(lo, min(hi, round(v)))


def _add_noise(plane: bytes, noise: bytes) -> bytes:
    """`plane` plus `noise` byte by byte (the caller keeps every sum within 255).

    One big-integer addition instead of a per-pixel loop: no byte overflows, so no carry
    crosses a byte boundary.
    """
    total = int.from_bytes(plane, "little") + int.from_bytes(noise, "little")
    return total.to_bytes(len(plane), "little")


def _grain_plane(width: int, rows: int, rng: random.Random) -> bytes:
    """Random luma offsets 0..NOISE_SPAN-1 in NOISE_GRAIN x NOISE_GRAIN squares."""
    g = NOISE_GRAIN
    out = []
    for _ in range(0, rows, g):
        coarse = [rng.randrange(NOISE_SPAN) for _ in range(width // g + 1)]
        row = bytes(coarse[x // g] for x in range(width))
        out.extend([row] * g)
    return b"".join(out[:rows])


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
        self.mode = "normal"
        self._planes: dict[str, tuple[bytes, bytes, bytes]] = {}
        self._grain: bytes | None = None

    def set_mode(self, mode: str) -> None:
        """Switch the picture mode (one of `MODES`); ValueError names the known ones."""
        if mode not in MODES:
            raise ValueError(f"picture: unknown mode {mode!r}; known: {', '.join(MODES)}")
        self.mode = mode

    @property
    def frame_size(self) -> int:
        return self.width * self.height * 3 // 2

    def _build(self, mode: str) -> tuple[bytes, bytes, bytes]:
        w, rows = self.width, self.height + PERIOD
        if mode == "black":
            return self._grey_planes([bytes((16,)) * w] * rows)
        if mode == "covered":
            # a hand or bag over the lens: dark, no texture, a gentle top-to-bottom gradient
            return self._grey_planes(
                [bytes((_clamp(40 + 50 * r / rows),)) * w for r in range(rows)]
            )
        if mode == "blur":
            # only wide, smooth shapes: nothing a 9-pixel box filter could smooth further
            waves = max(1, round(w / 220))  # whole waves across: no seam where rows wrap
            across = [85 * math.sin(2 * math.pi * x * waves / w) for x in range(w)]
            period = [
                bytes(_clamp(125 + a + 30 * math.sin(2 * math.pi * r / PERIOD)) for a in across)
                for r in range(PERIOD)
            ]
            return self._grey_planes([period[r % PERIOD] for r in range(rows)])
        if mode == "colour_cast":
            return self._build_normal(cast=True)
        if mode == "noise":
            y, u, v = self._build_normal()
            squeeze = bytes(i * (256 - NOISE_SPAN) // 256 for i in range(256))  # room for noise
            return y.translate(squeeze), u, v
        return self._build_normal()

    def _grey_planes(self, y_rows: list[bytes]) -> tuple[bytes, bytes, bytes]:
        """Planes with the given luma rows (height + PERIOD of them) and neutral chroma."""
        grey = bytes((NEUTRAL,)) * ((self.width // 2) * (self.height // 2 + PERIOD // 2))
        return b"".join(y_rows), grey, grey

    def _build_normal(self, *, cast: bool = False) -> tuple[bytes, bytes, bytes]:
        """A wall of blocks of random brightness and colour with sharp edges.

        Like a street scene to the quality diagnosis: large flat areas (no "noise"),
        sharp edges (no "blur"), texture at the scale of every block of the covered-lens
        grid, colours that do not all lean one way. Blocks are CELL_W x CELL_H luma pixels;
        CELL_H divides PERIOD so the pattern repeats seamlessly as it scrolls.
        """
        w, h = self.width, self.height
        w2, half = w // 2, PERIOD // 2
        rng = random.Random(self.seed)
        cols = w // CELL_W + 1
        levels = [[rng.randrange(50, 200) for _ in range(cols)] for _ in range(PERIOD // CELL_H)]
        tints = [
            [(rng.randrange(-30, 31), rng.randrange(-30, 31)) for _ in range(cols)]
            for _ in range(PERIOD // CELL_H)
        ]
        y_period = [
            bytes(levels[r // CELL_H][x // CELL_W] for x in range(w)) for r in range(PERIOD)
        ]
        if cast:  # white balance gone: every colour leans red-magenta
            u_period = [bytes((NEUTRAL + 12,)) * w2 for _ in range(half)]
            v_period = [bytes((NEUTRAL + 50,)) * w2 for _ in range(half)]
        else:
            u_period = [
                bytes(NEUTRAL + tints[2 * r // CELL_H][2 * x // CELL_W][0] for x in range(w2))
                for r in range(half)
            ]
            v_period = [
                bytes(NEUTRAL + tints[2 * r // CELL_H][2 * x // CELL_W][1] for x in range(w2))
                for r in range(half)
            ]
        y_plane = b"".join(y_period[r % PERIOD] for r in range(h + PERIOD))
        u_plane = b"".join(u_period[r % half] for r in range(h // 2 + half))
        v_plane = b"".join(v_period[r % half] for r in range(h // 2 + half))
        return y_plane, u_plane, v_plane

    def frame(self, index: int, stamp_row: bytes) -> bytes:
        """Frame number `index` with `stamp_row` (one luma row, `width` bytes) in the strip."""
        if len(stamp_row) != self.width:
            raise ValueError(f"picture: stamp row is {len(stamp_row)} bytes, need {self.width}")
        mode = self.mode
        planes = self._planes.get(mode)
        if planes is None:
            planes = self._planes[mode] = self._build(mode)
        y_plane, u_plane, v_plane = planes
        w, h, s = self.width, self.height, self.strip_rows
        w2, h2, s2 = w // 2, h // 2, s // 2
        if mode == "frozen":
            index = 0
        off = (index * SCROLL) % PERIOD
        coff = off // 2
        # a sideways drift too (2 px a frame, period DRIFT frames, prime): a contiguous
        # slice starting `shift` bytes into a row is the picture shifted left by `shift`
        # (each row's tail comes from the next row), so the scene never repeats within
        # PERIOD/SCROLL * DRIFT frames (~6 min) — pictures seconds apart always differ
        shift = 2 * (index % DRIFT) if w2 > DRIFT else 0
        cshift = shift // 2
        grey = bytes((NEUTRAL,)) * (w2 * s2)
        y_view, u_view, v_view = memoryview(y_plane), memoryview(u_plane), memoryview(v_plane)
        luma: bytes | memoryview = y_view[(off + s) * w + shift : (off + h) * w + shift]
        if mode == "noise":
            if self._grain is None:
                self._grain = _grain_plane(w, 2 * h, random.Random(self.seed))
            start = (os.urandom(1)[0] * h // 256) * w  # a fresh grain window every frame
            luma = _add_noise(bytes(luma), self._grain[start : start + len(luma)])
        return b"".join(
            (
                stamp_row * s,
                luma,
                grey,
                u_view[(coff + s2) * w2 + cshift : (coff + h2) * w2 + cshift],
                grey,
                v_view[(coff + s2) * w2 + cshift : (coff + h2) * w2 + cshift],
            )
        )
