"""Run by test_playback_xvfb: the playback window on a real X display (Xvfb), English or
Chinese, playing a simulator's recording at x4; prints `PLAYBACK {json}` and saves the
screen to argv[1]."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from console.playback.controller import PlaybackController, PlaybackSource
from console.playback.model import PlaybackModel
from console.playback.view import PlaybackWindow
from streams.ingest.stamp import decode_stamp
from streams.playback.nvr import track_url
from streams.simulator import CamSim
from streams.simulator.backfill import backfill
from streams.simulator.recording import spans
from tests.kit import pump_until


def main(shot: Path) -> int:
    app = QApplication.instance() or QApplication([])
    root = Path(tempfile.mkdtemp(prefix="playback-xvfb-"))
    now = int(time.time() * 1000)
    event_ms = now - 120_000
    backfill(root, "cam1", now - 190_000, now - 60_000, fps=5.0)
    sim = CamSim(cameras=1, record_dir=root, encoding="fast")
    sim.start()
    track = track_url(sim.url("cam1", "main"))
    sources = {
        c: PlaybackSource(c, n, track) for c, n in (("cam1", "东街路口"), ("cam2", "广场北"))
    }
    model = PlaybackModel()
    ctrl = PlaybackController(
        model, sources, export_folder=root / "evidence", coverage=lambda _c: spans(root / "cam1")
    )
    window = PlaybackWindow(model, ctrl)
    window.resize(1280, 720)
    window.show()
    try:
        ctrl.open_for_event("E1", "东街十字路口占道经营", ["cam1", "cam2"], event_ms)
        ctrl.set_speed(4.0)
        ctrl.mark_in()
        pump_until(lambda: all(p.image is not None for p in window.pictures.values()), 30)
        model.update(mark_in=event_ms - 50_000, mark_out=event_ms - 20_000)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        stamps = [decode_stamp(p.image) for p in window.pictures.values() if p.image is not None]
        # 视频摘要 of the marked span (the street moves all the time: one run), then a click
        # on its thumbnail seeks there
        fut = ctrl.summarize()
        assert fut is not None
        runs = fut.result(120)
        pump_until(lambda: len(window.strip_items) == runs, 10)
        for _ in range(10):
            app.processEvents()
        QGuiApplication.primaryScreen().grabWindow(0).save(str(shot))
        ctrl.pause()
        window.strip_items[0].click()
        target = int(window.strip_items[0].property("at_ms"))
        pump_until(lambda: abs((model.view.position_ms or 0) - target) < 2_000, 20)
        report = {
            "platform": QGuiApplication.platformName(),
            "title": window.windowTitle(),
            "speed": model.view.speed,
            "stamps_from_event_ms": [None if s is None else s - event_ms for s in stamps],
            "summary_runs": runs,
            "summary_first_from_event_ms": target - event_ms,
            "message": model.view.message,
        }
        print("PLAYBACK " + json.dumps(report, ensure_ascii=False), flush=True)
    finally:
        window.close()
        ctrl.close()
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
