"""Sharing from the meeting console, the parts without a display: the X11 windows named
by `xwininfo` (its output as read), the fitting of a large picture into 1280×720, and the
share track that sends the newest picture at a steady rate (never a queue)."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

import numpy as np
import pytest

from console.meetings.share import fit, list_windows
from streams.webrtc.share_track import LatestFrameTrack

XWININFO = """
xwininfo: Window id: 0x1d5 (the root window) (has no name)

  Root window id: 0x1d5 (the root window) (has no name)
  Parent window id: 0x0 (none)
     3 children:
     0x1e00007 "会议材料.pdf - 文档查看器": ("evince" "Evince")  1200x800+10+10  +10+10
     0x1c00003 "tiny": ("x" "X")  10x10+0+0  +0+0
     0x1a00001 (has no name): ()  1x1+-1+-1  +-1+-1
"""


def fake_run(out: str) -> Any:
    def run(args: list[str], **_kw: object) -> subprocess.CompletedProcess[str]:
        assert args[0] == "xwininfo"
        return subprocess.CompletedProcess(args, 0, out, "")

    return run


def test_the_windows_that_may_be_shared() -> None:
    found = list_windows(fake_run(XWININFO))
    assert [(w.kind, w.name, w.wid) for w in found] == [
        ("window", "会议材料.pdf - 文档查看器", 0x1E00007)
    ]


def test_no_xwininfo_no_windows() -> None:
    def missing(args: list[str], **_kw: object) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(args[0])

    assert list_windows(missing) == []


def test_a_large_picture_is_fitted_and_a_small_one_kept() -> None:
    big = np.zeros((1600, 2560, 3), np.uint8)
    assert fit(big).shape == (720, 1152, 3)
    small = np.zeros((300, 400, 3), np.uint8)
    assert fit(small) is small


def test_the_share_track_sends_the_newest_picture_at_its_rate() -> None:
    now = [0.0]
    track = LatestFrameTrack(fps=5, clock=lambda: now[0])
    with pytest.raises(ValueError, match="not an RGB"):
        track.put(np.zeros((10, 10), np.uint8))
    track.put(np.full((101, 201, 3), 200, np.uint8))  # odd sides are cut to even ones
    track.put(np.full((100, 200, 3), 50, np.uint8))

    async def two() -> list[Any]:
        first = await track.recv()
        now[0] = 0.2
        return [first, await track.recv()]

    frames = asyncio.run(two())
    assert [(f.width, f.height) for f in frames] == [(200, 100), (200, 100)]
    assert [f.pts for f in frames] == [0, 18_000]
    assert int(frames[1].to_ndarray(format="rgb24")[50, 100, 0]) in range(45, 56)
    assert track.puts == 2 and track.sent == 2
