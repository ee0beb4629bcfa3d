"""The roll-call panel and its video area: the models emit each change, the views follow
them until they are closed, and the views' buttons reach the controller, which answers
in the model (offscreen Qt, real models, controller and views; no hub is started)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QApplication

from console.kit.net import NetThread, QtBridge
from console.rollcall.call_model import CallModel, CallPhase
from console.rollcall.call_model import t as call_t
from console.rollcall.controller import RollcallController, RollcallHub
from console.rollcall.model import (
    RollcallModel,
    Roster,
    WeekChoice,
    log_rows,
    run_rows,
    run_summary,
    schedule_text,
)
from console.rollcall.strings import t
from console.rollcall.view import RollcallPanel
from dispatch.client.connection import HubClient
from dispatch.rollcall.messages import CallInfo, CentreInfo, CoverageInfo, RunInfo, ScheduleInfo
from tests.kit.hostile import (
    ENTITIES,
    HEADING,
    IMAGE,
    LINK,
    LONG,
    RTL,
    assert_literal,
    assert_no_risky_labels,
)

AT = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
MONDAY = date(2025, 3, 3)
CENTRES = [
    CentreInfo(id="t", name="第1镇", level="township", township="t", township_name="第1镇"),
    CentreInfo(
        id="v", name="第1村", level="village", township="t", township_name="第1镇", online=True
    ),
]
SCHEDULE = ScheduleInfo(weekday=0, at="09:00", ring_s=30, batch=2, enabled=True)


def a_call(cid: str, attempt: int, outcome: str) -> CallInfo:
    return CallInfo(
        centre_id=cid,
        centre_name=cid,
        township="第1镇",
        attempt=attempt,
        outcome=outcome,
        outcome_zh="",
        rang_at=AT,
        answered_at=AT if outcome == "answered" else None,
        ended_at=AT,
        answer_s=3.0 if outcome == "answered" else None,
        duration_s=20.0 if outcome == "answered" else None,
        snapshot=None,
        note="",
    )


def a_run(
    status: Literal["running", "stopped", "done"] = "running", ringing: tuple[str, ...] = ()
) -> RunInfo:
    return RunInfo(
        id="r1",
        week=MONDAY,
        status=status,
        started_at=AT,
        ended_at=None,
        started_by="duty",
        batch=2,
        ring_s=30,
        talk_s=20,
        due=["t", "v"],
        exempt=[],
        calls=[a_call("t", 1, "answered")],
        recalls=[],
        ringing=list(ringing),
    )


def idle_client() -> HubClient:
    """A real hub client, never started: the controller is 'logged in' but no request is
    made by the checks tested here."""
    return HubClient(
        "tcp://127.0.0.1:9",
        "tcp://127.0.0.1:9",
        keys=None,
        workstation="test",
        on_change=lambda _c: None,
        on_connection=lambda _s: None,
    )


def panel_on(
    model: RollcallModel, client: RollcallHub | None = None
) -> tuple[RollcallPanel, RollcallController]:
    ctl = RollcallController(lambda: client, NetThread(), QtBridge(), model)
    return RollcallPanel(model, ctl, ctl.call), ctl


def test_the_models_emit_each_change() -> None:
    model = RollcallModel()
    seen: list[tuple[str, object]] = []
    model.roster_changed.connect(lambda r: seen.append(("roster", len(r.centres))))
    model.run_changed.connect(lambda r: seen.append(("run", r.id if r else None)))
    model.weeks_changed.connect(lambda w: seen.append(("weeks", w.weeks)))
    model.week_changed.connect(lambda w: seen.append(("week", len(w.calls))))
    model.status_changed.connect(lambda s: seen.append(("status", s)))
    assert model.roster == Roster() and model.run is None and model.weeks is None

    model.show_roster(CENTRES, [], SCHEDULE)
    model.show_run(a_run())
    model.show_weeks([date(2025, 2, 24)], MONDAY)
    model.show_week(MONDAY, [], [a_call("t", 1, "answered")])
    model.set_status("好")
    model.show_run(None)
    assert seen == [
        ("roster", 2),
        ("run", "r1"),
        ("weeks", (MONDAY, date(2025, 2, 24))),
        ("week", 1),
        ("status", "好"),
        ("run", None),
    ]
    assert model.centre_name("v") == "第1镇 第1村" and model.centre_name("t") == "第1镇"
    assert model.weeks == WeekChoice((MONDAY, date(2025, 2, 24)), MONDAY)

    call = CallModel()
    phases: list[CallPhase] = []
    call.phase_changed.connect(phases.append)
    levels: list[bool] = []
    call.speaking_changed.connect(levels.append)
    frames: list[int] = []
    call.self_frame_shown.connect(lambda a: frames.append(a.shape[0]))
    pixel = np.zeros((2, 2, 4), np.uint8)
    call.self_frame(pixel)  # not in a call: not shown
    call.joining("第1村")
    assert call.joined and call.status == call_t("joining", name="第1村")
    call.joined_call("第1村", AT)
    call.level(0.5, 0.02)
    call.self_frame(pixel)
    call.left(call_t("ended"))
    assert [p.kind for p in phases] == ["joining", "joined", "left"]
    assert phases[1].answered_at == AT and phases[2].text == call_t("ended")
    assert levels == [True] and frames == [2] and not call.joined


def test_views_follow_the_models_until_closed(qapp: QApplication) -> None:
    model = RollcallModel()
    model.show_roster(CENTRES, [], SCHEDULE)  # before the panel: shown at once
    panel, _ctl = panel_on(model)
    area = panel.call_area
    assert panel.roster_table.rowCount() == 2 and panel.ex_centre.count() == 2
    assert panel.schedule.text() == schedule_text(SCHEDULE)
    assert panel.summary.text() == t("no_run") and panel.start_button.isEnabled()

    model.show_run(a_run(ringing=("v",)))
    assert panel.summary.text() == run_summary(model.run) and panel.run_table.rowCount() == 2
    assert not panel.start_button.isEnabled() and panel.end_call_button.isEnabled()
    model.show_weeks([], MONDAY)
    model.show_week(MONDAY, [CoverageInfo(township="", name="县", due=2, reached=1, exempt=0)], [])
    assert panel.week_pick.count() == 1 and "1/2" in panel.week_title.text()
    model.set_status("已保存")
    assert panel.status.text() == "已保存"
    model.call.joining("第1村")
    assert (
        area.joined and area.title.text() == "第1村" and area.join_button.text() == call_t("leave")
    )
    model.call.left(call_t("left"))
    assert not area.joined and area.status.text() == call_t("left")

    observables = (
        model.roster_changed,
        model.run_changed,
        model.weeks_changed,
        model.week_changed,
        model.status_changed,
        model.call.phase_changed,
        model.call.status_changed,
        model.call.self_note_changed,
        model.call.speaking_changed,
        model.call.frame_shown,
        model.call.self_frame_shown,
    )
    assert [len(o) for o in observables] == [1] * len(observables)
    panel.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    panel.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert [len(o) for o in observables] == [0] * len(observables)
    model.show_run(None)  # calls no one
    model.call.joining("第1村")


def test_the_panels_intents_reach_the_controller(qapp: QApplication) -> None:
    offline = RollcallModel()
    before, ctl = panel_on(offline)  # not logged in: the buttons ask nothing
    ctl.start()
    assert ctl.client is None
    before.note_button.click()
    before.end_call_button.setEnabled(True)
    before.end_call_button.click()
    assert offline.status == "" and before.status.text() == ""
    before.close()

    model = RollcallModel()
    panel, ctl = panel_on(model, idle_client())
    ctl.start()  # the network thread is not running: the reads fail, said in the status
    assert ctl.client is not None and t("hub_failed", error="")[:4] in panel.status.text()
    panel.note_button.click()
    assert model.status == t("select_first") == panel.status.text()
    model.show_run(a_run(ringing=("v",)))
    panel.run_table.selectRow(1)  # 第1村: not called yet
    panel.note_button.click()
    assert panel.status.text() == t("not_called")
    model.show_run(a_run())
    panel.end_call_button.setEnabled(True)
    panel.end_call_button.click()
    assert panel.status.text() == t("no_call_now")

    area = panel.call_area
    area.auto.setChecked(False)
    assert not model.call.auto
    area.join_button.click()  # no HTTP address configured: said in the area
    assert area.status.text() == call_t("no_http") == model.call.status
    ctl.stop()
    ctl.stop()
    assert ctl.client is not None and ctl.client.rollcall.listening == 0
    panel.close()


def test_centre_names_notes_and_messages_are_shown_as_typed(qapp: QApplication) -> None:
    """Hole 3: centre names, call notes and hub messages in the roster, the run, the video
    area and the status line read literally; no label of the panel guesses markup."""
    model = RollcallModel()
    centres = [
        CentreInfo(id="t", name=HEADING, level="township", township="t", township_name=RTL),
        CentreInfo(id="v", name=IMAGE, level="village", township="t", township_name=RTL),
    ]
    model.show_roster(centres, [], SCHEDULE)
    panel, _ctl = panel_on(model)
    area = panel.call_area
    run = a_run(ringing=("v",))
    call = run.calls[0].model_copy(update={"centre_name": HEADING, "note": LINK})
    model.show_run(run.model_copy(update={"calls": [call]}))
    cells = [
        item.text()
        for table in (panel.roster_table, panel.run_table)
        for r in range(table.rowCount())
        for c in range(table.columnCount())
        if (item := table.item(r, c)) is not None
    ]
    assert HEADING in cells and IMAGE in cells
    assert RTL not in cells and "[U+202E]置处需无[U+202C] 王五" in cells  # shown, not obeyed
    model.set_status(ENTITIES)
    assert_literal(panel.status, ENTITIES, one_line=True)
    model.call.joining(HEADING)
    assert_literal(area.title, HEADING, one_line=True)
    model.call.left(LONG)
    assert_literal(area.status, LONG)
    assert_no_risky_labels(panel)
    panel.deleteLater()


def test_an_answer_without_video_is_shown_as_its_own_state() -> None:
    run = a_run("done").model_copy(
        update={"calls": [a_call("t", 1, "answered"), a_call("v", 1, "no_camera")]}
    )
    rows = {r.cells[1]: r for r in run_rows(run, {"t": ("第1镇", "t"), "v": ("第1镇", "v")})}
    assert rows["v"].cells[2] == "已应答（无画面）" and rows["v"].cells[3] == "应答（无画面）"
    assert rows["v"].tone == "warn" and rows["t"].tone == "ok"
    assert "已点到 2，" in run_summary(run)  # both centres reached
    log = log_rows(run.calls)
    assert [r.tone for r in log] == ["ok", "warn"] and log[1].cells[3] == "应答（无画面）"
