"""The playback window in the console: a status-bar button "事件回放" opens the selected
event's cameras from a minute before its report (`wiring.open_event_playback`).

Each camera's recording is asked for at the camera itself (`camera_url`: its own host
and port with its credentials, never the relay, which keeps no recording), in the NVR
form. The timeline's recorded spans need a recorder's search API, which this console does
not speak yet: without `coverage` the timeline shows the span without green runs; a
simulator's recording folder (`--recordings`, the demo's own) gives them.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QMainWindow, QPushButton

from console.events.controller import EventQueueController
from console.events.model import EventQueueModel
from console.kit.observable import Subscription
from console.playback.controller import Coverage, PlaybackController, PlaybackSource
from console.playback.model import PlaybackModel
from console.playback.strings import tr
from console.playback.view import PlaybackWindow
from console.playback.wiring import open_event_playback
from console.wall.paths import evidence_dir
from dispatch.domain.relay import camera_url
from dispatch.domain.site import Site
from streams.playback.nvr import PlaybackUrlError, track_url
from streams.simulator.recording import spans


def site_sources(site: Site) -> dict[str, PlaybackSource]:
    out = {}
    for cam in site.cameras:
        try:
            out[cam.id] = PlaybackSource(cam.id, cam.name, track_url(camera_url(site, cam, "main")))
        except (PlaybackUrlError, ValueError):
            continue  # a camera without an RTSP address has no recording to ask for
    return out


class PlaybackInstall:
    """Owns the window (made on first use) and its controller; `stop()` is safe twice."""

    def __init__(
        self,
        events: EventQueueController,
        sources: dict[str, PlaybackSource],
        evidence_dir: Path,
        coverage: Coverage | None = None,
    ) -> None:
        self.events = events
        self.model = PlaybackModel()
        self.controller = PlaybackController(
            self.model,
            sources,
            export_folder=evidence_dir,
            coverage=coverage,
            attach=lambda eid, path: events.attach_evidence(eid, "clip", path),
        )
        self.window: PlaybackWindow | None = None
        self._sub: Subscription | None = None

    def open_selected(self) -> bool:
        event_id = self.events.model.selected_id
        if event_id is None:
            return False
        self.show_window()
        return open_event_playback(self.events, self.controller, event_id)

    def show_window(self) -> PlaybackWindow:
        if self.window is None:
            self.window = PlaybackWindow(self.model, self.controller)
            self.window.resize(1280, 860)
        self.window.show()
        self.window.raise_()
        return self.window

    def open_camera(self, camera_id: str, start_ms: int) -> None:
        self.show_window()
        self.controller.open([camera_id], start_ms)

    def open_after_login(self, camera_id: str, queue: EventQueueModel) -> None:
        """`--playback-camera`: the camera from 2 minutes back, once logged in."""

        def logged_in(session: object) -> None:
            if session is not None and not self.controller.streams:
                self.open_camera(camera_id, int(time.time() * 1000) - 120_000)

        self._sub = queue.session_changed.connect(logged_in)

    def stop(self) -> None:
        if self.window is not None:
            self.window.close()
        self.controller.close()


def folder_coverage(folder: Path) -> Coverage:
    """The recorded spans of a `hall-camsim --record` folder (one sub-folder a camera)."""
    return lambda camera_id: spans(folder / camera_id)


def install_playback(
    events: EventQueueController,
    site: Site,
    evidence: Path | None,
    window: QMainWindow,
    recordings: Path | None = None,
) -> PlaybackInstall:
    """The status bar's 事件回放 button; exports go to the wall's evidence folder; the
    timeline's recorded spans come from `recordings` (a simulator's folder) if given."""
    coverage = folder_coverage(recordings) if recordings is not None else None
    part = PlaybackInstall(events, site_sources(site), evidence_dir(evidence), coverage)
    button = QPushButton(tr("button.open_event"))
    button.setObjectName("playbackButton")
    button.clicked.connect(part.open_selected)
    window.statusBar().addPermanentWidget(button)
    return part
