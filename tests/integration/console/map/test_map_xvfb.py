"""The map in a real window under Xvfb (xcb), full screen as on a second screen: base
tiles under the grids, the warning colours where the events are, the legend; the whole
screen saved as artifacts/screenshots/map_fullscreen_xvfb.png (look at it: the county,
the colours, the Chinese names)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from console.map.items import WARNING
from tests.kit.paths import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.xvfb]

SHOTS = ROOT / "artifacts" / "screenshots"


def near(c: QColor, want: QColor, tol: int = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(c.getRgb()[:3], want.getRgb()[:3], strict=True))


def test_full_screen_map_under_xvfb(xvfb: str, tmp_path: Path) -> None:
    shot = tmp_path / "map.png"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(DISPLAY=xvfb, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "-m", "tests.integration.console.map.map_window", str(shot)],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=ROOT,
    )
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("MAP ")), None)
    assert run.returncode == 0 and line is not None, run.stderr[-2000:]
    report = json.loads(line[4:])
    assert report["platform"] == "xcb" and report["fullscreen"]
    assert report["window"] == report["screen"] == [1920, 1080]
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SHOTS / "map_fullscreen_xvfb.png")
    image = QImage(str(shot))
    assert image.width() == 1920
    for rank, (x, y) in enumerate(report["markers"]):
        assert near(image.pixelColor(x, y), WARNING[rank]), (rank, image.pixelColor(x, y).name())
    # the base tiles: the view's background is white without them; with them almost
    # nothing below the tool row is
    samples = [image.pixelColor(x, y) for x in range(40, 1900, 61) for y in range(60, 1060, 53)]
    white = [c for c in samples if c.name() == "#ffffff"]
    assert len(white) < len(samples) // 20, (len(white), len(samples))
