"""A camera whose stream has no video, on the wall: its tile says 无视频流 (No video
stream) in its own state and waits the long backoff, against a real RTSP mount that has
an audio track only (the simulator's /camN/audio-only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from console.cameras.tree import build_tree
from console.kit import i18n
from console.shell.main_window import MainWindow
from console.wall.controller import WallController
from console.wall.layouts import LayoutStore
from console.wall.model import WallModel
from console.wall.sources import camera_names, rtsp_factory
from dispatch.domain.site import parse_site
from streams.ingest.types import CameraState
from tests.integration.console.wall.test_wall_support import camsim_site_dict
from tests.kit import pump_until

pytestmark = pytest.mark.integration


def test_tile_of_an_audio_only_camera_says_no_video(
    qapp: QApplication, camsim: Any, tmp_path: Path
) -> None:
    data = camsim_site_dict(camsim)
    cams = data["cameras"]
    assert isinstance(cams, list)
    audio = camsim.url(camsim.camera_ids[0], "audio")
    cams[0]["main"] = {"url": audio, "width": 1280, "height": 720}
    cams[0]["sub"] = {"url": audio, "width": 704, "height": 576}
    site = parse_site(data)
    cam = site.cameras[0].id
    c = WallController(
        WallModel(), rtsp_factory(site), evidence_dir=tmp_path / "ev", names=camera_names(site)
    )
    w = MainWindow(c, build_tree(site), LayoutStore(tmp_path))
    w.resize(1280, 720)
    w.start("1", default_cameras=[cam])
    w.show()
    try:
        tile = w.wall.tile_for(0)
        assert tile is not None and tile.camera_id == cam
        pump_until(
            lambda: tile.status is not None and tile.status.state is CameraState.NO_VIDEO,
            10,
            what=lambda: tile.status_text(),
        )
        assert tile.overlay_text() == "无视频流"
        assert tile.status is not None and (tile.status.retry_in_s or 0) > 20
        assert "无视频流" in tile.status_text()
        i18n.set_language("en")
        assert tile.overlay_text() == "No video stream"
    finally:
        i18n.set_language("zh_CN")
        w.close()
