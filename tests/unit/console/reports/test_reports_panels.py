"""The report and hot-spot panels: the model emits each change, the views follow it until
they are closed, and the views' buttons and clicks reach the controller (offscreen Qt,
real model, controller and views; no hub: not logged in)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QApplication

from console.kit.net import NetThread, QtBridge
from console.kit.plain import inert_bidi, shown_tooltip
from console.reports.controller import ReportController
from console.reports.model import HotspotRow, ReportScreen, ReportsModel, hotspot_rows
from console.reports.strings import t
from console.reports.view import HotspotPanel, ReportView
from dispatch.reports.core import (
    Count,
    DispatchFigures,
    Durations,
    HotspotItem,
    MonthlyReport,
    Rate,
    Section,
)
from dispatch.reports.messages import HotspotsReply, ReportReply, pdf_path
from tests.kit.hostile import (
    ENTITIES,
    HEADING,
    IMAGE,
    LINK,
    LONG,
    RTL,
    assert_literal,
    assert_no_risky_labels,
    assert_tooltip_literal,
)

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SPOTS = [
    HotspotItem(
        kind="category",
        key="environment",
        label="环境污染",
        count=6,
        baseline=0.5,
        p_value=1e-5,
        event_ids=("E1", "E2"),
    ),
    HotspotItem(
        kind="grid", key="g7", label="网格7", count=4, baseline=1.0, p_value=2e-3, event_ids=("E3",)
    ),
]


def a_report() -> MonthlyReport:
    none = Durations(count=0, mean_s=None, median_s=None, p90_s=None, max_s=None)
    return MonthlyReport(
        county="示范县",
        month=date(2026, 2, 1),
        start=AT,
        end=AT,
        cutoff=AT,
        generated_at=AT,
        accepted=3,
        by_category=(Count(key="environment", label="环境污染", count=3),),
        by_township=(),
        by_source=(),
        resolution=Rate(numerator=1, denominator=3),
        overdue=Rate(numerator=0, denominator=3),
        overdue_items=(),
        stage_times=(),
        dispatch=DispatchFigures(
            tasks_sent=0,
            tasks_accepted=0,
            ack=none,
            task_returns=0,
            task_escalations=0,
            event_returns=0,
        ),
        mediation=Section(title="调解", available=False, note="无数据"),
        rollcall=Section(title="点名", available=False, note="无数据"),
        cameras=Section(title="设备", available=False, note="无数据"),
        hotspots=(),
    )


def a_screen(title: str) -> ReportScreen:
    return ReportScreen(
        title=title, summary=[("受理事件数", "3")], sections=[], overdue=[], charts=[]
    )


def a_reply() -> ReportReply:
    return ReportReply(rid="r", report=a_report(), pdf_available=True, pdf_path=pdf_path("2026-02"))


def controller(model: ReportsModel, opened: list[tuple[str, ...]]) -> ReportController:
    """The real controller, not logged in (no client): it never starts a request."""
    return ReportController(
        model,
        client=lambda: None,
        submit=NetThread().submit,
        post=QtBridge().post,
        http_url=None,
        save_dir=Path("unused"),
        open_events=opened.append,
    )


def test_the_model_emits_each_change() -> None:
    model = ReportsModel()
    seen: list[tuple[str, object]] = []
    model.status_changed.connect(lambda v: seen.append(("status", v)))
    model.screen_changed.connect(lambda v: seen.append(("screen", v.title)))
    model.export_changed.connect(lambda v: seen.append(("export", v)))
    model.hotspots_changed.connect(lambda v: seen.append(("rows", len(v))))
    model.hotspot_header_changed.connect(lambda v: seen.append(("header", v)))
    model.notices.connect(lambda v: seen.append(("notice", v)))
    assert model.screen is None and model.reply is None and not model.exportable
    assert model.hotspot_header == t("hotspots_title") and model.hotspots is None

    model.working()
    model.failed("boom")
    reply = a_reply()
    model.show_report(reply, a_screen("二月"), exportable=False)
    model.pdf_saved(Path("/tmp/r.pdf"))
    model.show_hotspots(HotspotsReply(rid="h", at=AT, hotspots=SPOTS))
    model.hotspots_failed("timeout")
    assert seen == [
        ("status", t("working")),
        ("status", t("error", message="boom")),
        ("screen", "二月"),
        ("status", ""),
        ("export", False),
        ("status", t("saved", path=Path("/tmp/r.pdf"))),
        ("notice", t("report_saved", path=Path("/tmp/r.pdf"))),
        ("rows", 2),
        ("header", t("hotspots_count", n=2)),
        ("header", t("hotspots_failed", error="timeout")),
    ]
    assert model.reply == reply and model.saved == (Path("/tmp/r.pdf"),)
    assert model.hotspot_rows == tuple(hotspot_rows(SPOTS))
    assert model.hotspot_header == t("hotspots_failed", error="timeout")


def test_views_follow_the_model_until_closed(qapp: QApplication) -> None:
    model = ReportsModel()
    model.show_hotspots(HotspotsReply(rid="h", at=AT, hotspots=SPOTS))
    ctl = controller(model, [])
    view, panel = ReportView(model, ctl), HotspotPanel(model, ctl)
    assert panel.list.count() == 2  # built after the hot spots came: shown at once
    assert panel.header.text() == t("hotspots_count", n=2)
    assert view.title.text() == t("choose_month") and not view.export_button.isEnabled()

    model.show_report(a_reply(), a_screen("二月报"), exportable=True)
    cell = view.table.item(0, 1)
    assert view.title.text() == "二月报" and cell is not None and cell.text() == "3"
    assert view.overdue.item(0).text() == t("no_overdue") and view.export_button.isEnabled()
    model.show_hotspots(HotspotsReply(rid="h2", at=AT, hotspots=[]))
    assert panel.list.count() == 1 and panel.list.item(0).text() == t("no_hotspots")

    observables = (
        model.status_changed,
        model.screen_changed,
        model.export_changed,
        model.hotspots_changed,
        model.hotspot_header_changed,
    )
    assert [len(o) for o in observables] == [1, 1, 1, 1, 1]
    for w in (view, panel):
        w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        w.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert [len(o) for o in observables] == [0, 0, 0, 0, 0]
    model.show_report(a_reply(), a_screen("三月报"), exportable=False)  # calls no one
    model.show_hotspots(HotspotsReply(rid="h3", at=AT, hotspots=SPOTS))


def test_the_views_intents_reach_the_controller(qapp: QApplication) -> None:
    model = ReportsModel()
    opened: list[tuple[str, ...]] = []
    ctl = controller(model, opened)
    view, panel = ReportView(model, ctl), HotspotPanel(model, ctl)
    statuses: list[str] = []
    model.status_changed.connect(statuses.append)
    view.load_button.click()
    assert statuses == [t("working"), t("error", message=t("not_connected"))]
    assert view.status.text() == statuses[-1]
    model.show_report(a_reply(), a_screen("二月报"), exportable=True)
    view.export_button.click()
    assert view.status.text() == t("error", message=t("cannot_export"))

    model.show_hotspots(HotspotsReply(rid="h", at=AT, hotspots=SPOTS))
    panel.list.itemClicked.emit(panel.list.item(1))
    assert opened == [("E3",)]
    rows: list[HotspotRow] = list(model.hotspot_rows)
    assert shown_tooltip(panel.list.item(0).toolTip()) == rows[0].tooltip
    view.close()
    panel.close()


def test_outside_text_in_reports_is_shown_as_typed(qapp: QApplication) -> None:
    """Hole 3: hot-spot names, overdue lines, the title and hub error messages read
    literally; the hot spots' tooltips too; no label guesses markup."""
    model = ReportsModel()
    spot = SPOTS[0].model_copy(update={"label": HEADING})
    model.show_hotspots(HotspotsReply(rid="h", at=AT, hotspots=[spot]))
    ctl = controller(model, [])
    view, panel = ReportView(model, ctl), HotspotPanel(model, ctl)
    assert HEADING in panel.list.item(0).text()
    assert_tooltip_literal(panel.list.item(0).toolTip(), model.hotspot_rows[0].tooltip)
    screen = ReportScreen(
        title=ENTITIES, summary=[(LINK, IMAGE)], sections=[], overdue=[RTL, LONG], charts=[]
    )
    model.show_report(a_reply(), screen, exportable=True)
    assert_literal(view.title, ENTITIES, one_line=True)
    assert [view.overdue.item(i).text() for i in range(2)] == [inert_bidi(RTL), LONG]
    model.failed(HEADING)
    assert_literal(view.status, t("error", message=HEADING), one_line=True)
    model.hotspots_failed(IMAGE)
    assert_literal(panel.header, t("hotspots_failed", error=IMAGE), one_line=True)
    for w in (view, panel):
        assert_no_risky_labels(w)
        w.deleteLater()


def test_a_hot_spot_that_carries_only_its_newest_ids_says_so() -> None:
    """The hub sends at most its newest ids of a flooded hot spot: the row says how many
    a click opens and how many there are, in both languages' strings."""
    full, flooded = hotspot_rows(
        [SPOTS[1].model_copy(update={"count": 1}), SPOTS[0].model_copy(update={"count": 900})]
    )
    assert full.tooltip == t("hotspot_tip", p=2e-3, n=1)
    assert flooded.tooltip == t("hotspot_tip_newest", p=1e-5, n=2, count=900)
    assert "900" in flooded.tooltip and "2" in flooded.tooltip
    assert flooded.event_ids == ("E1", "E2")
