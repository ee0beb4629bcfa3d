"""The decode path leaks no references to `None` (issue 16's soak: the console's
`sys.getrefcount(None)` rose ~2 per decoded frame, +25,000 a minute on a 16-tile wall,
from PyAV 18.1's buffer protocol in `bytes(packet)` and `frame.to_ndarray()`)."""

from __future__ import annotations

import gc
import io
import sys

import av
import numpy as np
import pytest
from av.video.frame import VideoFrame

from streams.ingest.avbytes import bgra_array
from streams.ingest.blocks import PacketBlocks
from streams.ingest.decode import to_tile

FRAMES = 120  # per-frame references must show above the few each open takes


def h264(frames: int = FRAMES, size: tuple[int, int] = (352, 288)) -> bytes:
    """A short H.264 clip in memory (noise, so every frame differs)."""
    buf = io.BytesIO()
    rng = np.random.default_rng(16)
    with av.open(buf, "w", format="mp4") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = size[0], size[1], "yuv420p"
        for _ in range(frames):
            img = rng.integers(0, 255, (size[1], size[0], 3), np.uint8)
            out.mux(s.encode(VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(s.encode())
    return buf.getvalue()


CLIP = h264()


def none_delta_decoding(clip: bytes, target: tuple[int, int]) -> tuple[int, int]:
    """(None references gained, frames) over the wall's per-packet work: the ring's copy
    of the packet, decode, scale to the tile."""
    gc.collect()
    before = sys.getrefcount(None)
    frames = 0
    blocks = PacketBlocks()
    with av.open(io.BytesIO(clip)) as c:
        v = c.streams.video[0]
        ctx = v.codec_context
        for packet in c.demux(v):
            if packet.size == 0:
                continue
            blocks.copy(packet.buffer_ptr, packet.buffer_size)
            for frame in ctx.decode(packet):
                to_tile(frame, target)
                frames += 1
    gc.collect()
    return sys.getrefcount(None) - before, frames


def test_decoding_to_tiles_keeps_none_references_flat() -> None:
    none_delta_decoding(CLIP, (480, 270))  # warm up (codec tables, first-use caches)
    gained, frames = none_delta_decoding(CLIP, (480, 270))
    assert frames >= FRAMES - 4  # the decoder keeps the last ones until flushed
    assert gained < FRAMES // 4, f"{gained} references to None over {frames} frames"


@pytest.mark.parametrize("width", [480, 474, 37])  # 474, 37: padded lines (a stride)
def test_the_same_pixels_and_bytes_as_pyav_gives(width: int) -> None:
    blocks = PacketBlocks()
    with av.open(io.BytesIO(CLIP)) as c:
        v = c.streams.video[0]
        seen = 0
        for packet in c.demux(v):
            if packet.size == 0:
                continue
            assert blocks.copy(packet.buffer_ptr, packet.buffer_size) == bytes(packet)
            for frame in v.codec_context.decode(packet):
                scaled = frame.reformat(width, 270, format="bgra")
                ours, theirs = bgra_array(scaled), scaled.to_ndarray()
                assert ours.shape == theirs.shape == (270, width, 4)
                assert np.array_equal(ours, theirs)
                ours[0, 0] = 7  # its own memory: writable, the frame untouched
                assert np.array_equal(scaled.to_ndarray()[0, 0], theirs[0, 0])
                seen += 1
            if seen >= 3:
                break
    assert seen >= 3


def test_a_frame_in_another_format_is_refused() -> None:
    frame = VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
    with pytest.raises(ValueError, match="bgra"):
        bgra_array(frame)
