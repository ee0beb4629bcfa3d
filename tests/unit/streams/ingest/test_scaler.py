"""TileScaler: one swscale context for a stream's frames, a fresh buffer for each."""

from __future__ import annotations

import numpy as np
from av.video.frame import VideoFrame

from streams.ingest.decode import TileScaler, to_tile


def _frame(seed: int) -> VideoFrame:
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)
    return VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")


def test_a_kept_scaler_gives_what_a_one_off_gives_in_fresh_buffers() -> None:
    scale = TileScaler()
    a_src, b_src = _frame(1), _frame(2)
    a = scale(a_src, (320, 180))
    a_copy = a.copy()
    b = scale(b_src, (320, 180))
    assert a.shape == b.shape == (180, 320, 4) and a.dtype == np.uint8
    # the second frame did not overwrite the first one's picture (the painter may hold it)
    assert np.array_equal(a, a_copy)
    assert not np.array_equal(a, b)
    # the same pixels as a scaler made for the one frame
    assert np.array_equal(a, to_tile(a_src, (320, 180)))
    assert np.array_equal(b, to_tile(b_src, (320, 180)))
    # another tile size with the same scaler (a layout change)
    c = scale(a_src, (384, 216))
    assert c.shape == (216, 384, 4)
    assert np.array_equal(c, to_tile(a_src, (384, 216)))
