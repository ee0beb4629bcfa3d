"""The map panel in the main window, and its links to the other panels.

`add_map` docks the panel (below the camera tree; movable, floatable, and full screen on a
second screen from its own button) and links what needs no hub: a camera clicked on the
map opens on the wall, cameras picked with Shift+drag go to the wall as a group.
`link_map` follows the event queue (the events it shows, reported in the map's chosen
period, in their colours; its selection
highlighted; new red alarms flashed; an event clicked on the map selected in the queue;
"派单…" on an event selects it and opens the queue's dispatch, the grid leader suggested),
the camera patrol (online/offline/faulty), the hot-spot warnings (their grids shaded) and
the roll call (each village centre's last result).
Intents go through the existing controllers; no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from console.events.model import EventQueueModel
from console.health.model import HealthModel
from console.kit.observable import Subscription
from console.map.mbtiles import MBTilesError
from console.map.model import CameraState, MapModel, Period, RollResult, in_period
from console.map.panel import MapPanel
from console.map.strings import t
from console.map.tiles import Datum, open_tile_layer
from dispatch.domain.site import Site
from dispatch.patrol.messages import CameraHealth
from dispatch.reports.messages import HotspotItem
from dispatch.rollcall.core import ANSWERED
from dispatch.rollcall.messages import CallInfo

if TYPE_CHECKING:  # for annotations only: importing them costs ~1 s at start (matplotlib,
    # aiortc), which the console pays only when the report and roll-call panels load
    from console.reports.model import ReportsModel
    from console.rollcall.model import RollcallModel


def camera_states(latest: Mapping[str, CameraHealth]) -> dict[str, CameraState]:
    """The map's state of each patrolled camera from its newest sample."""
    return {
        cid: (
            CameraState.OFFLINE
            if not h.check.online
            else CameraState.FAULTY
            if h.check.faults
            else CameraState.ONLINE
        )
        for cid, h in latest.items()
        if h.check.checked  # 未巡检: no state from this sample
    }


def last_results(calls: Iterable[CallInfo]) -> dict[str, RollResult]:
    """Each centre's result of its latest-ended call."""
    latest: dict[str, CallInfo] = {}
    for c in calls:
        if c.centre_id not in latest or c.ended_at >= latest[c.centre_id].ended_at:
            latest[c.centre_id] = c
    return {cid: RollResult(c.outcome in ANSWERED, c.outcome_zh) for cid, c in latest.items()}


def hot_grids(items: Iterable[HotspotItem]) -> set[str]:
    """The grids named by the hot-spot warnings (category warnings name no place)."""
    return {h.key for h in items if h.kind == "grid"}


class Window(Protocol):
    def place_camera(self, camera_id: str) -> None: ...
    def show_message(self, text: str, timeout_ms: int = ...) -> None: ...


class Wall(Protocol):
    def show_linkage(
        self, camera_ids: list[str], title: str, *, maximise: bool = False
    ) -> list[str]: ...


class Selector(Protocol):
    def select(self, event_id: str | None) -> None: ...


class MapLinks:
    """The map's links to the queue and the patrol; `stop()` ends them (safe twice)."""

    def __init__(self, panel: MapPanel) -> None:
        self.model = panel.model
        self.panel = panel
        self.subscriptions: list[Subscription] = []
        self._alarmed: set[str] = set()

    def stop(self) -> None:
        for sub in self.subscriptions:
            sub.disconnect()
        self.subscriptions.clear()

    def new_alarms(self, ids: Iterable[str]) -> None:
        """The queue's unacknowledged alarms now: each new one flashes on the map once.
        Only the current ones are remembered (a console that runs for months)."""
        now = list(ids)
        for eid in now:
            if eid not in self._alarmed:
                self.model.alarm(eid)
        self._alarmed = set(now)


def add_base_tiles(panel: MapPanel, tiles: Path, datum: Datum) -> str | None:
    """Open the site's tile package under the map; the error text if it cannot be used."""
    try:
        layer = open_tile_layer(tiles, datum)
    except (MBTilesError, OSError) as exc:
        return t("no_tiles", error=str(exc))
    panel.set_base(layer)
    return None


def add_map(
    window: QMainWindow,
    site: Site,
    place: Window,
    wall: Wall,
    beside: QDockWidget | None,
    *,
    tiles: Path | None = None,
) -> MapPanel:
    """Dock the map panel below `beside` (the camera tree) and link it to the wall; with
    `tiles` (the site's `[map] tiles`, resolved), the offline base map under it."""
    model = MapModel(site)
    panel = MapPanel(model)
    if tiles is not None:
        error = add_base_tiles(panel, tiles, site.map.datum)
        if error is not None:
            place.show_message(error)
    dock = QDockWidget(t("title"), window)
    dock.setObjectName("mapDock")
    dock.setWidget(panel)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
    )
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    if beside is not None:
        window.splitDockWidget(beside, dock, Qt.Orientation.Vertical)
        window.resizeDocks([beside, dock], [300, 500], Qt.Orientation.Vertical)
    window.resizeDocks([dock], [420], Qt.Orientation.Horizontal)
    panel.view.cameraClicked.connect(place.place_camera)

    def picked(ids: list[str]) -> None:
        shown = wall.show_linkage(ids, t("picked_title"))
        place.show_message(t("picked", n=len(shown)))

    panel.view.camerasPicked.connect(picked)
    return panel


def link_map(
    panel: MapPanel,
    queue: EventQueueModel,
    selector: Selector,
    *,
    raise_queue: Callable[[], object] | None = None,
    health: HealthModel | None = None,
    dispatch: Callable[[], object] | None = None,
    reports: ReportsModel | None = None,
    rollcall: RollcallModel | None = None,
) -> MapLinks:
    """Follow the event queue (and the patrol, when there is a health model)."""
    install = MapLinks(panel)
    model = panel.model

    def rows(_: object = None) -> None:
        now, period = datetime.now(UTC), model.period
        model.set_events(
            (r.event, r.colour)
            for r in queue.visible()
            if period is Period.ALL or in_period(r.event.reported_at, period, now)
        )

    subs = install.subscriptions
    subs.append(queue.rows_changed.connect(rows))
    subs.append(model.period_changed.connect(rows))

    def selected(event_id: str | None) -> None:
        model.highlight([event_id] if event_id else [])
        if event_id:
            panel.view.show_event(event_id)

    subs.append(queue.selection_changed.connect(selected))
    subs.append(queue.alarms_changed.connect(install.new_alarms))
    rows()

    def clicked(event_id: str) -> None:
        selector.select(event_id)
        if raise_queue is not None:
            raise_queue()

    install.panel.view.eventClicked.connect(clicked)
    if dispatch is not None:
        ask = dispatch

        def dispatch_from_map(event_id: str) -> None:
            selector.select(event_id)  # the queue's dispatch works on its selection
            ask()

        install.panel.view.dispatchRequested.connect(dispatch_from_map)
    if reports is not None:
        hot = reports

        def hotspots(_rows: object) -> None:
            reply = hot.hotspots
            model.set_hotspots(hot_grids(reply.hotspots if reply is not None else []))

        subs.append(reports.hotspots_changed.connect(hotspots))
        hotspots(None)
    if rollcall is not None:
        roll = rollcall

        def called(_: object) -> None:
            week, run = roll.week, roll.run
            calls = [*(week.calls if week else ()), *(run.calls if run else ())]
            model.set_rollcall(last_results(calls))

        subs.append(roll.week_changed.connect(called))
        subs.append(roll.run_changed.connect(called))
        called(None)
    if health is not None:
        patrol = health

        def patrolled(_summary: object) -> None:
            model.set_camera_states(camera_states(patrol.latest))

        subs.append(health.summary_changed.connect(patrolled))
    return install
