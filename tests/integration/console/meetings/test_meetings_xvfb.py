"""The meeting window in a real window under Xvfb (xcb): the screen saved as
artifacts/screenshots/meetings_console_xvfb.png (look at it: the Chinese names, the gold
frame of the township with the floor, the pictures, the dark tiles of the absent)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from console.meetings.tiles import FLOOR
from tests.kit.paths import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.xvfb]
SHOTS = ROOT / "artifacts" / "screenshots"


def test_the_meeting_window_under_xvfb(xvfb: str, tmp_path: Path) -> None:
    shot = tmp_path / "meetings.png"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(DISPLAY=xvfb, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "-m", "tests.integration.console.meetings.meetings_window", str(shot)],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=ROOT,
    )
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("MEETINGS ")), None)
    assert run.returncode == 0 and line is not None, run.stderr[-2000:]
    report = json.loads(line[9:])
    assert report["platform"] == "xcb"
    assert report["status"] == "已入会 18/20，未入会：王家庄村、李庄村"
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SHOTS / "meetings_console_xvfb.png")
    image = QImage(str(shot))
    assert image.pixelColor(*report["floor_border"]).name() == FLOOR.name()
    absent = image.pixelColor(*report["absent_inside"])
    present = image.pixelColor(*report["present_inside"])
    assert absent.green() < 60 and present.green() > 80, (absent.name(), present.name())
