"""Synthetic camera pictures as raw I420 frames, in pure Python (no numpy).

The simulator's server runs under the system Python, which may lack numpy. A healthy
camera shows a street or a square (`streams.simulator.scene`: a background drawn once,
vehicles and people blitted per frame; by day in colour, at night as a black-and-white
infrared picture). The top strip of every frame carries the stamp of its capture time
(see `streams.ingest.stamp`); the stamp's row is passed in by the caller so this module
needs nothing but the standard library.

Picture modes (`MODES`) simulate the faults of a real camera for the health patrol:
`black` (lens dead), `frozen` (the scene's first frame over and over), `blur` (only wide,
smooth shapes), `covered` (a dark, textureless cover with a gentle gradient),
`colour_cast` (the scene with every colour leaning red-magenta) and `noise` (the scene
with fresh coarse random grain on every frame). The fault pictures without a scene
(black, blur, covered) are planes built once that scroll two rows a frame; `noise` adds
a window of a precomputed plane of grain (NOISE_GRAIN pixels square, so that it survives
H.264 encoding and scaling) at a random offset through one big-integer addition per
frame (no per-pixel Python loop).
"""

from __future__ import annotations

import importlib
import math
import os
import random

if __package__:
    from streams.simulator import scene as scenes
else:  # loaded by path under the system Python; _server.py registered the sibling first
    scenes = importlib.import_module("hall_camsim_scene")

PERIOD = 128  # rows after which a fault pattern repeats (even)
SCROLL = 2  # rows per frame (even, so the chroma planes scroll by whole rows)
NEUTRAL = 128  # chroma value of grey
MODES = ("normal", "black", "frozen", "blur", "covered", "colour_cast", "noise")
SCENE_MODES = ("normal", "frozen", "colour_cast", "noise")  # the scene, maybe spoilt
NOISE_SPAN = 96  # noise adds 0..NOISE_SPAN-1 to luma (after compressing it to leave room)
NOISE_GRAIN = 3  # noise grain size in luma pixels
# white balance gone: every colour leans red-magenta
CAST_U = bytes(min(255, NEUTRAL + 12 + (i - NEUTRAL) // 2) for i in range(256))
CAST_V = bytes(min(255, NEUTRAL + 50 + (i - NEUTRAL) // 2) for i in range(256))
SQUEEZE = bytes(i * (256 - NOISE_SPAN) // 256 for i in range(256))  # room for the noise


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

    Construction stores the parameters only; the scene and planes are built on the first
    frame that needs them. `night` shows the scene as a night-time infrared picture.
    """

    def __init__(
        self, width: int, height: int, *, seed: int, strip_rows: int, night: bool = False
    ) -> None:
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
        self.night = night
        self.mode = "normal"
        self.scene = scenes.Scene(width, height, seed=seed, night=night)
        self._planes: dict[str, tuple[bytes, bytes, bytes]] = {}
        self._grain: bytes | None = None

    def set_mode(self, mode: str) -> None:
        """Switch the picture mode (one of `MODES`); ValueError names the known ones."""
        if mode not in MODES:
            raise ValueError(f"picture: unknown mode {mode!r}; known: {', '.join(MODES)}")
        self.mode = mode

    def prepare(self) -> None:
        """Draw what the current mode needs now (the scene, or a fault's planes)."""
        if self.mode in SCENE_MODES:
            self.scene.prepare()
        elif self.mode not in self._planes:
            self._planes[self.mode] = self._build(self.mode)

    @property
    def frame_size(self) -> int:
        return self.width * self.height * 3 // 2

    def _build(self, mode: str) -> tuple[bytes, bytes, bytes]:
        """Planes (height + PERIOD rows) of a fault picture without a scene."""
        w, rows = self.width, self.height + PERIOD
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
        return self._grey_planes([bytes((16,)) * w] * rows)  # black

    def _grey_planes(self, y_rows: list[bytes]) -> tuple[bytes, bytes, bytes]:
        """Planes with the given luma rows (height + PERIOD of them) and neutral chroma."""
        grey = bytes((NEUTRAL,)) * ((self.width // 2) * (self.height // 2 + PERIOD // 2))
        return b"".join(y_rows), grey, grey

    def frame(self, index: int, stamp_row: bytes) -> bytes:
        """Frame number `index` with `stamp_row` (one luma row, `width` bytes) in the strip."""
        if len(stamp_row) != self.width:
            raise ValueError(f"picture: stamp row is {len(stamp_row)} bytes, need {self.width}")
        if self.mode in SCENE_MODES:
            return self._scene_frame(index, stamp_row)
        return self._fault_frame(index, stamp_row)

    def _scene_frame(self, index: int, stamp_row: bytes) -> bytes:
        mode = self.mode
        w, h, s = self.width, self.height, self.strip_rows
        w2, s2 = w // 2, s // 2
        out = self.scene.frame(0 if mode == "frozen" else index)
        luma, u0, v0 = w * h, w * h, w * h + w2 * (h // 2)
        if mode == "colour_cast":
            out[u0:v0] = out[u0:v0].translate(CAST_U)
            out[v0:] = out[v0:].translate(CAST_V)
        elif mode == "noise":
            if self._grain is None:
                self._grain = _grain_plane(w, 2 * h, random.Random(self.seed))
            start = (os.urandom(1)[0] * h // 256) * w  # a fresh grain window every frame
            squeezed = bytes(out[:luma]).translate(SQUEEZE)
            out[:luma] = _add_noise(squeezed, self._grain[start : start + luma])
        out[: s * w] = stamp_row * s
        grey = bytes((NEUTRAL,)) * (w2 * s2)
        out[u0 : u0 + w2 * s2] = grey
        out[v0 : v0 + w2 * s2] = grey
        return bytes(out)

    def _fault_frame(self, index: int, stamp_row: bytes) -> bytes:
        mode = self.mode
        planes = self._planes.get(mode)
        if planes is None:
            planes = self._planes[mode] = self._build(mode)
        y_plane, u_plane, v_plane = planes
        w, h, s = self.width, self.height, self.strip_rows
        w2, h2, s2 = w // 2, h // 2, s // 2
        off = (index * SCROLL) % PERIOD
        coff = off // 2
        grey = bytes((NEUTRAL,)) * (w2 * s2)
        return b"".join(
            (
                stamp_row * s,
                memoryview(y_plane)[(off + s) * w : (off + h) * w],
                grey,
                memoryview(u_plane)[(coff + s2) * w2 : (coff + h2) * w2],
                grey,
                memoryview(v_plane)[(coff + s2) * w2 : (coff + h2) * w2],
            )
        )
