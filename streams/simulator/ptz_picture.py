"""The picture of a PTZ camera: a window over a panorama, moved by the head.

The panorama is the camera's scene drawn `SPAN` times the picture's width and height
(`scene.Scene`, the same street or square, larger); the head's position (`ptz_motion`)
picks the window and the zoom level its size (picture / level). The window is scaled up
by the integer level with extended-slice assignments (each byte repeated, each row
repeated), so a frame costs a crop, its movers and two C-speed copies: no per-pixel
Python. Standard library only (runs under the system Python, loaded by path).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable

if __package__:
    from streams.simulator import ptz_motion as motion
    from streams.simulator import scene as scenes
else:  # loaded by path under the system Python; _server.py registered the siblings first
    motion = importlib.import_module("hall_camsim_ptz_motion")
    scenes = importlib.import_module("hall_camsim_scene")

NEUTRAL = 128


def upscale(plane: bytes | bytearray, width: int, level: int) -> bytes:
    """`plane` (rows of `width` bytes) scaled up by `level`: each byte and row repeated."""
    if level == 1:
        return bytes(plane)
    wide = bytearray(len(plane) * level)
    for j in range(level):
        wide[j::level] = plane
    row = width * level
    return b"".join(bytes(wide[r : r + row]) * level for r in range(0, len(wide), row))


class PtzPicture:
    """Frames (I420, width x height) of one stream of a PTZ camera.

    `clock` gives the head's time (monotonic seconds). Nothing is drawn until
    `prepare()` or the first frame.
    """

    def __init__(
        self,
        width: int,
        height: int,
        head: motion.PtzHead,
        *,
        seed: int,
        strip_rows: int,
        night: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if width % 8 or height % 8:
            raise ValueError(f"ptz picture: size must be a multiple of 8, got {width}x{height}")
        self.width, self.height, self.strip_rows = width, height, strip_rows
        self.head = head
        self.clock = clock
        self.mode = "normal"
        self.scene = scenes.Scene(motion.SPAN * width, motion.SPAN * height, seed=seed, night=night)

    def set_mode(self, mode: str) -> None:
        """PTZ cameras show their scene only (fault pictures are for fixed cameras)."""
        if mode != "normal":
            raise ValueError(f"ptz picture: only the normal mode, not {mode!r}")

    def prepare(self) -> None:
        self.scene.prepare()

    def window(self) -> tuple[int, int, int]:
        return motion.window(self.head.position(self.clock()), self.width, self.height)

    def frame(self, index: int, stamp_row: bytes) -> bytes:
        if len(stamp_row) != self.width:
            raise ValueError(f"ptz picture: stamp row is {len(stamp_row)} bytes, need {self.width}")
        w, h, s = self.width, self.height, self.strip_rows
        x0, y0, level = self.window()
        ww, wh = w // level, h // level
        cut = self.scene.window(index, x0, y0, ww, wh)
        luma, chroma = ww * wh, (ww // 2) * (wh // 2)
        y_plane = upscale(cut[:luma], ww, level)
        u_plane = upscale(cut[luma : luma + chroma], ww // 2, level)
        v_plane = upscale(cut[luma + chroma :], ww // 2, level)
        w2, s2 = w // 2, s // 2
        grey = bytes((NEUTRAL,)) * (w2 * s2)
        return b"".join(
            (
                stamp_row * s,
                memoryview(y_plane)[s * w :],
                grey,
                memoryview(u_plane)[s2 * w2 :],
                grey,
                memoryview(v_plane)[s2 * w2 :],
            )
        )
