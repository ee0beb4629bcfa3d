"""The simulator's scene and encodings: pure Python frames, camera-like encoder settings."""

from __future__ import annotations

import time

import numpy as np
import pytest

from streams.simulator.encoding import encoder, payloader, quantiser, stream_codec
from streams.simulator.picture import PictureSource
from streams.simulator.scene import SQUARE, STREET, Scene

SIZES = [(1280, 720), (704, 576), (640, 360)]


def luma(scene: Scene, index: int) -> np.ndarray:
    w, h = scene.width, scene.height
    return np.frombuffer(bytes(scene.frame(index)), np.uint8)[: w * h].reshape(h, w)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_frames_are_whole_i420_frames_that_move_and_repeat_exactly(width: int, height: int) -> None:
    scene = Scene(width, height, seed=1)
    a, b = scene.frame(0), scene.frame(50)
    assert len(a) == len(b) == width * height * 3 // 2
    assert a != b  # vehicles and people moved in 2 s
    assert Scene(width, height, seed=1).frame(50) == b  # the same seed, the same scene
    assert Scene(width, height, seed=2).frame(50) != b


def test_layouts_and_night() -> None:
    assert Scene(64, 48, seed=2).layout is SQUARE
    assert Scene(64, 48, seed=1).layout is STREET
    day, night = Scene(704, 576, seed=4), Scene(704, 576, seed=4, night=True)
    d, n = day.frame(10), night.frame(10)
    chroma = slice(704 * 576, None)
    assert set(n[chroma]) == {128}  # infrared: black and white
    assert len(set(d[chroma])) > 20  # colours by day
    assert np.mean(luma(night, 10)) < np.mean(luma(day, 10))
    # lit windows, lamps and headlights: the night picture is not black
    assert np.percentile(luma(night, 10), 99) > 150


def test_picture_has_structure_everywhere_below_the_sky() -> None:
    """Not covered to the quality diagnosis: most 8x6 blocks of a 64x48 copy have texture."""
    y = luma(Scene(704, 576, seed=3), 25).astype(float)
    blocks = y[: 576 // 48 * 48, : 704 // 64 * 64].reshape(48, 12, 64, 11).mean(axis=(1, 3))
    stds = [blocks[r : r + 6, c : c + 8].std() for r in range(0, 48, 6) for c in range(0, 64, 8)]
    assert sum(s >= 4 for s in stds) / len(stds) > 0.6


def test_a_frame_costs_little() -> None:
    scene = Scene(1280, 720, seed=1)
    scene.frame(0)  # builds the background and the sprites
    t0 = time.perf_counter()
    for i in range(25):
        scene.frame(i)
    per_frame_ms = (time.perf_counter() - t0) * 1000 / 25
    assert per_frame_ms < 40, per_frame_ms  # ~1 ms here; 40 ms is the whole frame interval


@pytest.mark.parametrize("mode", ["normal", "frozen", "colour_cast", "noise"])
def test_scene_modes_keep_the_stamp_strip(mode: str) -> None:
    src = PictureSource(640, 360, seed=1, strip_rows=18)
    src.set_mode(mode)
    row = bytes(range(256)) * 2 + bytes(128)
    frame = src.frame(7, row)
    assert frame[: 18 * 640] == row * 18
    assert set(frame[640 * 360 : 640 * 360 + 320 * 9]) == {128}


def test_camera_encoding_is_high_cabac_with_two_second_key_frames() -> None:
    text = encoder("camera", "h264", quantiser("camera", "main"))
    assert "profile=high" in text and "cabac=true" in text and "dct8x8=true" in text
    assert "deblock=0,0" in text and "i8x8" in text and "key-int-max=50" in text
    assert "x265enc" in encoder("camera", "h265", 20) and "profile=main" in encoder(
        "camera", "h265", 20
    )
    assert "cabac" not in encoder("fast", "h264", 26)  # ultrafast: CAVLC, no deblocking
    assert quantiser("camera", "sub") > quantiser("camera", "main")
    assert stream_codec("h265", "main") == "h265"
    assert stream_codec("h265", "third") == "h264"
    assert payloader("h265").startswith("rtph265pay name=pay0")
    with pytest.raises(ValueError, match=r"H\.264 only"):
        encoder("fast", "h265", 26)
    with pytest.raises(ValueError, match="unknown encoding"):
        encoder("cheap", "h264", 26)
