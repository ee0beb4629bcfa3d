"""A BGRA frame's pixels out of PyAV without its buffer protocol (a packet's bytes are
read the same way, by the evidence ring's `streams.ingest.blocks`).

PyAV 18.1 (Cython) leaks one reference to `None` each time its buffer protocol is
used on a `Packet` or a `VideoPlane`: `bytes(packet)`, `frame.to_ndarray()`,
`np.frombuffer(plane)`, `memoryview(plane)` (the `__getbuffer__` sets `view.obj` to
`None`, then `PyBuffer_FillInfo` overwrites it without letting go). Measured here: +1
per call, two per decoded frame on the wall's path, ~25,000 a minute for a 16-tile
wall (the soak's console `None` references, issue 16). Python 3.12 makes `None`
immortal, so it costs nothing there, but on 3.11 it hides any real leak the soak looks
for. These read the same bytes through `buffer_ptr`/`buffer_size` instead.
"""

from __future__ import annotations

import ctypes

import numpy as np
import numpy.typing as npt
from av.video.frame import VideoFrame


def bgra_array(frame: VideoFrame) -> npt.NDArray[np.uint8]:
    """A `bgra` frame's pixels as a writable (height, width, 4) array of its own (as
    `frame.to_ndarray()`; rows keep the plane's stride when its lines are padded)."""
    if frame.format.name != "bgra":
        raise ValueError(f"bgra_array needs a bgra frame, not {frame.format.name}")
    plane = frame.planes[0]
    size = plane.buffer_size
    out = np.empty(size, np.uint8)
    ctypes.memmove(out.ctypes.data, plane.buffer_ptr, size)
    rows = out.reshape(frame.height, plane.line_size // 4, 4)
    return rows[:, : frame.width]
