"""The playback window on a real X display: two cameras of an event playing a recording at
x4, the timeline, the transport and the export marks. Saves
artifacts/screenshots/playback_xvfb.png (look at it: the Chinese labels, the green
recorded span, the red event line, the blue export span)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.kit.paths import ROOT
from tests.kit.xvfb import run_on_display

pytestmark = [pytest.mark.integration, pytest.mark.xvfb]
SHOTS = ROOT / "artifacts" / "screenshots"


def test_the_playback_window_under_xvfb(xvfb: str, tmp_path: Path) -> None:
    shot = tmp_path / "playback.png"
    module = "tests.integration.console.playback.playback_window"
    report = run_on_display(xvfb, module, [str(shot)], "PLAYBACK")
    assert report["platform"] == "xcb"
    assert report["title"] == "录像回放 — 事件：东街十字路口占道经营"
    assert report["speed"] == 4.0
    # both cameras show the recording from about a minute before the event (and x4 on)
    assert all(s is not None and -62_000 <= s <= 0 for s in report["stamps_from_event_ms"])
    # the summary of the marked span (always moving street): one run from its start, and
    # its thumbnail's click took the playback there
    assert report["summary_runs"] == 1
    assert -50_000 <= report["summary_first_from_event_ms"] <= -45_000
    assert report["message"] == "视频摘要：1 段有移动"
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SHOTS / "playback_xvfb.png")
