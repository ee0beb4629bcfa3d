"""An event opened for playback: its place's cameras play from a minute before its report.

Real parts: a hall-hub (the event, the nearest cameras of its place, the evidence
upload), the console's event queue, a hall-camsim whose recording holds the minutes
before the report (backfilled; the live recorder goes on after it), and the playback
window (offscreen). The pictures' stamps say which recorded moment is shown.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from console.events.wiring import EventQueue
from console.playback.controller import PlaybackController, PlaybackSource
from console.playback.model import PlaybackModel
from console.playback.view import PlaybackWindow
from console.playback.wiring import open_event_playback
from dispatch.hub.process import HubProcess
from dispatch.tasks.messages import AttachmentInfo
from streams.ingest.stamp import decode_stamp
from streams.playback.nvr import track_url
from streams.simulator import CamSim
from streams.simulator.backfill import backfill
from streams.simulator.recording import spans
from tests.integration.console.events.test_event_queue_hub import post_event
from tests.integration.console.tasks.test_event_queue_dispatch_hub import EVENT, login
from tests.kit import pump_until
from tests.kit.hub import client_keys
from tests.kit.paths import ROOT

pytestmark = pytest.mark.integration

SHOTS = ROOT / "artifacts" / "screenshots"


def test_event_opens_its_cameras_a_minute_before_and_exports(
    hub: HubProcess, qapp: QApplication, tmp_path: Path
) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    root = tmp_path / "rec"
    now = int(time.time() * 1000)
    backfill(root, "cam1", now - 80_000, now - 500, fps=5.0)
    sim = CamSim(cameras=1, record_dir=root, encoding="fast")
    sim.start()
    queue = EventQueue.for_hub(hub.req_endpoint, hub.pub_endpoint, keys=client_keys(hub))
    queue.controller.auto_linkage = False
    queue.start()
    track = track_url(sim.url("cam1", "main"))
    # every camera of the site plays the simulator's recording (one recorded camera)
    sources = {f"cam{i}": PlaybackSource(f"cam{i}", f"摄像机{i}", track) for i in range(1, 9)}
    attached: list[AttachmentInfo | None] = []
    model = PlaybackModel()
    ctrl = PlaybackController(
        model,
        sources,
        export_folder=tmp_path / "evidence",
        coverage=lambda _cid: spans(root / "cam1"),
        attach=lambda eid, p: queue.controller.attach_evidence(eid, "clip", p, attached.append),
    )
    window = PlaybackWindow(model, ctrl)
    window.resize(1280, 860)
    try:
        login(queue)
        event_id = str(post_event(hub, EVENT)["id"])
        pump_until(lambda: queue.model.row(event_id) is not None, 10, what="event in the queue")
        row = queue.model.row(event_id)
        assert row is not None
        reported = int(row.event.reported_at.timestamp() * 1000)
        assert open_event_playback(queue.controller, ctrl, event_id)
        pump_until(lambda: bool(model.view.cameras), 15, what="the event's cameras")
        cams = [c.camera_id for c in model.view.cameras]
        assert cams and len(cams) <= 4 and all(c.startswith("cam") for c in cams)
        assert model.view.event_id == event_id and model.view.event_ms == reported

        window.show()
        seen: dict[str, int] = {}

        def first_pictures() -> bool:
            for cid, pic in window.pictures.items():
                if pic.image is not None and cid not in seen:
                    ms = decode_stamp(pic.image)
                    if ms is not None:
                        seen[cid] = ms
            return len(seen) == len(cams)

        pump_until(first_pictures, 30, what="a picture on every camera")
        for cid, ms in seen.items():
            # a minute before the report (the key frame before it, and a picture or two
            # the display may have missed)
            assert reported - 61_500 <= ms <= reported - 57_000, (cid, ms - reported)
        for _ in range(10):
            qapp.processEvents()
        SHOTS.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(SHOTS / "playback_event_offscreen.png"))

        # mark a span and export it: MP4 + sidecar, attached to the event through the hub
        ctrl.seek(reported - 40_000)
        pump_until(lambda: (model.view.position_ms or 0) >= reported - 40_500, 20, what="seek")
        ctrl.mark_in()
        a = model.view.mark_in
        assert a is not None
        model.update(mark_out=a + 5_000)
        fut = ctrl.export()
        assert fut is not None
        paths = fut.result(120)
        assert len(paths) == len(cams)
        pump_until(lambda: len(attached) == len(cams), 30, what="attached at the hub")
        assert all(info is not None and info.kind == "clip" for info in attached)
        # the uploads finish in any order: the same files, by their digests
        digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
        assert {info.sha256 for info in attached if info is not None} == digests
        assert "已导出并附加到事件" in window.message.text()
    finally:
        window.close()
        ctrl.close()
        queue.stop()
        sim.stop()
