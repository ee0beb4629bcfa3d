"""The map follows the event queue's model and the patrol; a map click selects in the queue."""

from __future__ import annotations

from datetime import UTC, date, datetime

from PySide6.QtWidgets import QApplication

from console.events.model import Change, EventQueueModel
from console.health.model import HealthModel
from console.map.install import MapLinks, camera_states, last_results, link_map
from console.map.model import CameraState, MapModel
from console.map.panel import MapPanel
from console.reports.model import ReportsModel
from console.rollcall.model import RollcallModel
from dispatch.domain.model import Colour
from dispatch.domain.site import demo_site_path, load_site
from dispatch.patrol.messages import CameraHealth
from dispatch.reports.messages import HotspotItem, HotspotsReply
from dispatch.rollcall.messages import CallInfo
from streams.patrol.types import CameraCheck, OfflineReason
from tests.unit.console.map.sample import map_event


class Selector:
    def __init__(self, model: EventQueueModel) -> None:
        self.model = model

    def select(self, event_id: str | None) -> None:
        self.model.select(event_id)


def queue_model() -> EventQueueModel:
    return EventQueueModel(
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        deadline_fn=lambda _e: None,
        allowed_fn=lambda _e, _r: [],
    )


def health(camera: str, online: bool, faults: dict[str, float]) -> CameraHealth:
    check = CameraCheck(
        camera=camera,
        at=datetime(2026, 1, 1, tzinfo=UTC),
        online=online,
        reason=OfflineReason.NONE if online else OfflineReason.TIMEOUT,
        faults=faults,
    )
    return CameraHealth(check=check, last_good="", open_event=None)


def test_map_follows_the_queue_and_the_patrol(qapp: QApplication) -> None:
    site = load_site(demo_site_path())
    panel = MapPanel(MapModel(site))
    queue = queue_model()
    patrol = HealthModel(site)
    reports = ReportsModel()
    raised: list[int] = []
    asked: list[str | None] = []
    links = link_map(
        panel,
        queue,
        Selector(queue),
        raise_queue=lambda: raised.append(1),
        health=patrol,
        dispatch=lambda: asked.append(queue.selected_id),
        reports=reports,
    )
    grid = panel.model.grids[0].id
    queue.apply_changes([Change(1, map_event("y1", grid=grid), Colour.YELLOW)])
    assert panel.model.events["y1"].colour is Colour.YELLOW
    queue.apply_changes([Change(2, map_event("r1", grid=grid), Colour.RED)])
    assert panel.view.flashing() == {"r1"}  # a new red event flashes on the map
    queue.select("y1")
    assert panel.model.highlighted == {"y1"}
    panel.view.eventClicked.emit("r1")
    assert queue.selected_id == "r1" and raised == [1]
    panel.view.dispatchRequested.emit("y1")  # 派单… from the map: the queue's dispatch
    assert asked == ["y1"]
    cams = [c.id for c in site.cameras[:3]]
    patrol.show_cameras(
        [health(cams[0], True, {}), health(cams[1], False, {}), health(cams[2], True, {"blur": 1})]
    )
    states = [panel.model.cameras[c].state for c in cams]
    assert states == [CameraState.ONLINE, CameraState.OFFLINE, CameraState.FAULTY]
    hot = [
        HotspotItem(
            kind="grid", key=grid, label="g", count=9, baseline=1, p_value=0.001, event_ids=()
        ),
        HotspotItem(
            kind="category", key="noise", label="c", count=9, baseline=1, p_value=0.01, event_ids=()
        ),
    ]
    reports.show_hotspots(HotspotsReply(rid="1", at=datetime(2026, 1, 1, tzinfo=UTC), hotspots=hot))
    assert panel.model.hotspots == {grid}  # the grid warning shades its grid
    links.stop()
    links.stop()
    queue.apply_changes([Change(3, map_event("g1", grid=grid), Colour.GREEN)])
    assert "g1" not in panel.model.events
    panel.close()


def test_each_new_alarm_flashes_once_and_only_current_alarms_are_kept(
    qapp: QApplication,
) -> None:
    site = load_site(demo_site_path())
    panel = MapPanel(MapModel(site))
    flashed: list[str] = []
    panel.model.flash.connect(flashed.append)
    links = MapLinks(panel)
    links.new_alarms(["r1", "r2"])
    links.new_alarms(["r1", "r2", "r3"])  # the queue sends all it holds: only r3 is new
    assert flashed == ["r1", "r2", "r3"]
    links.new_alarms(["r3"])  # r1 and r2 acknowledged or closed: forgotten
    assert links._alarmed == {"r3"}
    links.new_alarms(["r3", "r1"])  # r1 red again later: a new alarm, it flashes again
    assert flashed == ["r1", "r2", "r3", "r1"]
    links.new_alarms([f"e{i}" for i in range(1000)])
    links.new_alarms([])
    assert links._alarmed == set()  # a console that runs for months keeps none of them
    panel.close()


def test_camera_states_pure() -> None:
    assert camera_states({"a": health("a", False, {"black": 1.0})}) == {"a": CameraState.OFFLINE}


def call(centre: str, outcome: str, minute: int) -> CallInfo:
    return CallInfo(
        centre_id=centre,
        centre_name=centre,
        township="t01",
        attempt=1,
        outcome=outcome,
        outcome_zh=outcome,
        rang_at=None,
        answered_at=None,
        ended_at=datetime(2026, 1, 1, 9, minute, tzinfo=UTC),
        answer_s=None,
        duration_s=None,
        snapshot=None,
        note="",
    )


def test_village_centres_show_their_last_roll_call(qapp: QApplication) -> None:
    site = load_site(demo_site_path())
    panel = MapPanel(MapModel(site))
    roll = RollcallModel()
    links = link_map(panel, queue_model(), Selector(queue_model()), rollcall=roll)
    v1, v2 = site.villages[0].id, site.villages[1].id
    calls = [call(v1, "no_answer", 1), call(v1, "answered", 5), call(v2, "link_down", 2)]
    roll.show_week(date(2026, 1, 1), [], calls)
    got = panel.model.rollcall
    assert got[v1].reached and not got[v2].reached  # the latest call counts
    assert last_results([call("x", "no_camera", 1)])["x"].reached  # reached without camera
    assert panel.view.roll.isVisible()
    links.stop()
    panel.close()


def test_the_map_shows_the_events_of_the_chosen_period(qapp: QApplication) -> None:
    from datetime import timedelta

    from console.map.model import Period, in_period

    site = load_site(demo_site_path())
    panel = MapPanel(MapModel(site))
    queue = queue_model()
    links = link_map(panel, queue, Selector(queue))
    grid = panel.model.grids[0].id
    now = datetime.now(UTC)
    ages = {"fresh": timedelta(minutes=1), "week": timedelta(days=5), "old": timedelta(days=20)}
    events = [
        map_event(eid, grid=grid).model_copy(update={"reported_at": now - age})
        for eid, age in ages.items()
    ]
    queue.apply_changes([Change(i + 1, e, Colour.GREEN) for i, e in enumerate(events)])
    assert set(panel.model.events) == set(ages)  # 全部时段 by default
    assert [panel.period.itemText(i) for i in range(4)] == [
        "全部时段",
        "今天",
        "近 7 天",
        "近 30 天",
    ]
    panel.period.setCurrentIndex(2)  # 近 7 天
    assert panel.model.period is Period.WEEK and set(panel.model.events) == {"fresh", "week"}
    panel.period.setCurrentIndex(3)
    assert set(panel.model.events) == set(ages)
    panel.period.setCurrentIndex(1)  # today (Beijing time)
    assert "old" not in panel.model.events and "week" not in panel.model.events
    links.stop()
    panel.close()
    beijing_midnight = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    late = beijing_midnight + timedelta(hours=1)
    assert in_period(beijing_midnight, Period.TODAY, late)
    assert not in_period(beijing_midnight - timedelta(seconds=1), Period.TODAY, late)
