"""A real window under Xvfb: `hall-console --screenshot` on the xcb platform, whole screen shot."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage

from tests.integration.console.wall.test_wall_support import (
    ARTIFACTS,
    camsim_site_dict,
    image_array,
    site_toml,
)

pytestmark = [pytest.mark.integration, pytest.mark.xvfb]


def test_console_in_a_real_window(xvfb: str, camsim: Any, tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text(site_toml(camsim_site_dict(camsim)), encoding="utf-8")
    shot = tmp_path / "screen.png"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "HALL_"))}
    env.update(DISPLAY=xvfb, QT_QPA_PLATFORM="xcb", HALL_CONFIG_DIR=str(tmp_path / "cfg"))
    exe = Path(sys.executable).parent / "hall-console"
    run = subprocess.run(
        [
            str(exe),
            "--site",
            str(site),
            "--layout",
            "9",
            "--screenshot",
            str(shot),
            "--screenshot-after",
            "8",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = [ln for ln in run.stdout.splitlines() if ln.startswith("SCREENSHOT ")]
    assert report, run.stdout
    info = json.loads(report[-1].removeprefix("SCREENSHOT "))
    assert info["platform"] == "xcb"
    assert info["tiles"] == 9, info
    assert info["tiles_with_picture"] == min(9, len(camsim.camera_ids)), info
    # a command-hall console opens maximised, not at 1600x900 (no window manager here)
    assert info["maximised"] is True, info
    assert info["window"] == [1920, 1080], info
    img = QImage(str(shot))
    assert (img.width(), img.height()) == (1920, 1080)  # the whole screen
    px = image_array(img)
    assert float(px[..., :3].std()) > 20  # a real picture, not a blank screen
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "console_xvfb.png")
