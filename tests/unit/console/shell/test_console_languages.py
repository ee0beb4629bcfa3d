"""Every panel and the main window, built offscreen in English and in Chinese: no visible
Chinese in English (outside the site's data: names of people and places), and no English
UI words in Chinese (proper nouns and acronyms aside).

Visible means the texts of labels, buttons, tabs, window and dock titles, table headers,
combo box items, placeholders, tooltips and menus. Panels are built after the language is
chosen, as `hall-console --lang en` does (most panels read their strings when built)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QTableView,
    QTableWidget,
    QTabWidget,
    QTreeView,
    QWidget,
)

from console.cameras.tree import build_tree
from console.events.wiring import EventQueue
from console.health.controller import HealthController
from console.health.model import HealthModel
from console.health.strings import trouble_name
from console.health.view import HealthView
from console.kit import i18n
from console.kit.net import NetThread, QtBridge
from console.kit.plain import risky_labels
from console.mediation.controller import MediationController
from console.mediation.model import MediationModel, expiry_text
from console.mediation.strings import role_label
from console.mediation.view import MediationWindow
from console.reports.controller import ReportController
from console.reports.model import ReportsModel
from console.reports.view import HotspotPanel, ReportView
from console.rollcall.controller import RollcallController
from console.rollcall.model import RollcallModel
from console.rollcall.view import RollcallPanel
from console.shell.login import LoginDialog
from console.shell.main_window import MainWindow
from console.wall.controller import WallController
from console.wall.layouts import LayoutStore
from console.wall.model import WallModel
from dispatch.domain.site import Site, demo_site_path, load_site
from dispatch.reports.messages import HotspotsReply
from dispatch.rollcall.messages import (
    CallInfo,
    CentreInfo,
    CoverageInfo,
    ExemptionInfo,
    RunInfo,
    ScheduleInfo,
)
from streams.patrol.types import CameraCheck, OfflineReason
from tests.unit.console.wall.test_wall_fakes import FakeStream

SITE = load_site(demo_site_path())
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
WORD = re.compile(r"[A-Za-z]{2,}")
# proper nouns, acronyms and units that stay as they are in Chinese
LATIN_OK = frozenset(
    {"RTSP", "PTZ", "PDF", "CSV", "PIN", "ID", "IDs", "HTTP", "URL", "QR", "OK", "fps"}
    | {"Ctrl", "Esc", "yyyy", "MM", "dd"}
)


def site_names(site: Site) -> list[str]:
    """Names of people and places from the site (data, shown as they are), longest first."""
    names = {site.name, *(t.name for t in site.townships), *(v.name for v in site.villages)}
    names |= {p.name for p in site.people} | {g.name for g in site.grids}
    names |= {c.name for c in site.cameras}
    return sorted(names, key=len, reverse=True)


EVENT_TITLE = "邻里漏水纠纷"  # an event's title: data, shown as it came
LANGUAGE_NAMES = ["中文", "English"]  # each language is offered in its own name
DATA = [*site_names(SITE), EVENT_TITLE, *LANGUAGE_NAMES]
PATH = re.compile(r"(?:/[\w.-]+)+")  # file paths (evidence folder) are data


def _html_free(text: str) -> str:
    return re.sub(r"<[^>]+>", " ", text)


def _menu_texts(menu: QMenu) -> Iterator[str]:
    yield menu.title()
    for action in menu.actions():
        yield from _action_texts(action)


def _action_texts(action: QAction) -> Iterator[str]:
    yield action.text().replace("&", "")
    yield action.toolTip() if action.toolTip() != action.text() else ""
    sub = action.menu()
    if isinstance(sub, QMenu):
        yield from _menu_texts(sub)


def _header_texts(view: QAbstractItemView) -> Iterator[str]:
    if isinstance(view, QTableView):
        header: QHeaderView | None = view.horizontalHeader()
    elif isinstance(view, QTreeView):
        header = view.header()
    else:
        return
    model = view.model()
    if header is None or header.isHidden() or model is None:
        return
    for col in range(header.count()):
        value = model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        if value is not None:
            yield str(value)


def _own_texts(w: QWidget) -> Iterator[str]:
    yield w.windowTitle() if w.isWindow() or isinstance(w, QDockWidget) else ""
    yield w.toolTip()
    if isinstance(w, QLabel):
        yield w.text()
    elif isinstance(w, QAbstractButton):
        yield w.text().replace("&", "")
    elif isinstance(w, QLineEdit | QPlainTextEdit):
        yield w.placeholderText()
    elif isinstance(w, QGroupBox):
        yield w.title()
    elif isinstance(w, QComboBox):
        yield from (w.itemText(i) for i in range(w.count()))
    elif isinstance(w, QTabWidget):
        yield from (w.tabText(i) for i in range(w.count()))
    elif isinstance(w, QMenu):
        yield from _menu_texts(w)
    if isinstance(w, QAbstractItemView):
        yield from _header_texts(w)
    for action in w.actions():
        yield from _action_texts(action)


def visible_texts(root: QWidget) -> list[str]:
    """Every UI text of `root` and its children, HTML removed, empty ones left out."""
    out: list[str] = []
    for w in [root, *root.findChildren(QWidget)]:
        out.extend(_html_free(t) for t in _own_texts(w) if t)
    if isinstance(root, QMainWindow):
        out.extend(t for a in root.menuBar().actions() for t in _action_texts(a) if t)
    return out


def without_data(text: str) -> str:
    text = PATH.sub(" ", text)
    for name in DATA:
        text = text.replace(name, " ")
    return text


def chinese_in(texts: list[str]) -> list[str]:
    return sorted({t for t in texts if CJK.search(without_data(t))})


def english_in(texts: list[str]) -> list[str]:
    return sorted(
        {t for t in texts if any(w not in LATIN_OK for w in WORD.findall(without_data(t)))}
    )


@pytest.fixture()
def lang(request: pytest.FixtureRequest) -> Iterator[str]:
    before = i18n.language()
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language(before)


def _main_window(cfg: Path) -> MainWindow:
    c = WallController(
        WallModel(), FakeStream, evidence_dir=cfg / "ev", names={c.id: c.name for c in SITE.cameras}
    )
    w = MainWindow(c, build_tree(SITE), LayoutStore(cfg))
    w.start(default_cameras=[c.id for c in SITE.cameras])
    return w


def _event_panel() -> QWidget:
    queue = EventQueue(  # the production wiring; not started, so no hub is needed
        lambda *_a: None,  # type: ignore[arg-type]
        township_names={t.id: t.name for t in SITE.townships},
    )
    return queue.panel()


def _mediation(net: NetThread, bridge: QtBridge) -> MediationWindow:
    model = MediationModel("E1", EVENT_TITLE)
    return MediationWindow(model, MediationController(model, net, bridge, lambda: None, "http://h"))


def _reports(net: NetThread, bridge: QtBridge, save_dir: Path) -> QWidget:
    box = QWidget()
    model = ReportsModel()
    ctl = ReportController(
        model,
        client=lambda: None,
        submit=net.submit,
        post=bridge.post,
        http_url=None,
        save_dir=save_dir,
        open_events=lambda _ids: None,
    )
    view, hot = ReportView(model, ctl), HotspotPanel(model, ctl)
    row = QHBoxLayout(box)
    row.addWidget(hot)
    row.addWidget(view, 1)
    view.set_month(date(2025, 3, 1))
    model.show_hotspots(HotspotsReply(rid="h", at=datetime.now(UTC), hotspots=[]))
    return box


def _health(net: NetThread, bridge: QtBridge) -> QWidget:
    model = HealthModel(SITE)
    return HealthView(
        model, HealthController(model, client=lambda: None, submit=net.submit, post=bridge.post)
    )


def _panels(cfg: Path) -> Iterator[tuple[str, QWidget]]:
    net, bridge = NetThread(), QtBridge()  # not started: building a panel does no I/O
    builders: list[tuple[str, Callable[[], QWidget]]] = [
        ("main window", lambda: _main_window(cfg)),
        ("event queue", _event_panel),
        ("mediation", lambda: _mediation(net, bridge)),
        ("roll call", lambda: _rollcall(net, bridge)),
        ("reports", lambda: _reports(net, bridge, cfg / "reports")),
        ("health", lambda: _health(net, bridge)),
        ("login", lambda: LoginDialog(lambda *_a: None)),
    ]
    for name, build in builders:
        w = build()
        try:
            yield name, w
        finally:
            if isinstance(w, MainWindow):
                w.close()
            w.deleteLater()


@pytest.mark.parametrize("lang", ["en"], indirect=True)
def test_english_shows_no_chinese_outside_data(
    qapp: QApplication, lang: str, tmp_path: Path
) -> None:
    found = {name: chinese_in(visible_texts(w)) for name, w in _panels(tmp_path)}
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize("lang", ["zh_CN"], indirect=True)
def test_chinese_shows_no_english_ui_words(qapp: QApplication, lang: str, tmp_path: Path) -> None:
    found = {name: english_in(visible_texts(w)) for name, w in _panels(tmp_path)}
    assert {k: v for k, v in found.items() if v} == {}


def test_the_checks_can_fail() -> None:
    """The detectors see what they must (and leave data alone)."""
    assert chinese_in(["Roll call", "开始点名"]) == ["开始点名"]
    assert chinese_in([f"{SITE.townships[0].name} online"]) == []
    assert english_in(["导出PDF", "Start roll call", "每周一"]) == ["Start roll call"]


def _table_texts(table: QTableWidget) -> list[str]:
    items = (table.item(r, c) for r in range(table.rowCount()) for c in range(table.columnCount()))
    return [i.text() for i in items if i is not None and i.text()]


def _rollcall(net: NetThread, bridge: QtBridge) -> RollcallPanel:
    model = RollcallModel()
    ctl = RollcallController(lambda: None, net, bridge, model)
    return RollcallPanel(model, ctl, ctl.call)


def _filled_rollcall() -> RollcallPanel:
    """The panel with a roster, a schedule, a run with every state and a week's log."""
    town, village = SITE.townships[0], SITE.villages[0]
    centres = [
        CentreInfo(id="t", name=town.name, level="township", township="t", township_name=town.name),
        CentreInfo(
            id="v",
            name=village.name,
            level="village",
            township="t",
            township_name=town.name,
            online=True,
        ),
    ]
    at = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
    ex = ExemptionInfo(id=1, centre_id="v", start=at.date(), end=at.date(), reason="repair")

    def call(cid: str, attempt: int, outcome: str) -> CallInfo:
        return CallInfo(
            centre_id=cid,
            centre_name=town.name,
            township=town.name,
            attempt=attempt,
            outcome=outcome,
            outcome_zh="（中文）",  # the hub's Chinese word: the console shows its own
            rang_at=at,
            answered_at=at if outcome == "answered" else None,
            ended_at=at,
            answer_s=3.0 if outcome == "answered" else None,
            duration_s=20.0 if outcome == "answered" else None,
            snapshot="x.jpg" if outcome == "answered" else None,
            note="",
        )

    calls = [call("t", 1, "answered"), call("v", 1, "declined"), call("v", 2, "no_answer")]
    run = RunInfo(
        id="r1",
        week=at.date(),
        status="running",
        started_at=at,
        ended_at=None,
        started_by="duty",
        batch=2,
        ring_s=30,
        talk_s=20,
        due=["t", "v"],
        exempt=[],
        calls=calls,
        recalls=["v"],
    )
    panel = _rollcall(NetThread(), QtBridge())  # not started: building does no I/O
    model = panel.model
    schedule = ScheduleInfo(weekday=0, at="09:00", ring_s=30, batch=2, enabled=False)
    model.show_roster(centres, [ex], schedule)
    model.show_run(run)
    model.show_weeks([at.date()], at.date())
    cover = [CoverageInfo(township="t", name=town.name, due=2, reached=1, exempt=0)]
    model.show_week(at.date(), cover, calls)
    return panel


@pytest.mark.parametrize("lang", ["en"], indirect=True)
def test_roll_call_with_data_is_english_too(qapp: QApplication, lang: str) -> None:
    panel = _filled_rollcall()
    tables = (panel.run_table, panel.roster_table, panel.coverage_table, panel.log_table)
    texts = visible_texts(panel) + [t for table in tables for t in _table_texts(table)]
    assert "Roll call r1 (running)" in panel.summary.text()
    assert chinese_in(texts) == []
    panel.deleteLater()


@pytest.mark.parametrize("lang", ["zh_CN"], indirect=True)
def test_roll_call_with_data_in_chinese(qapp: QApplication, lang: str) -> None:
    panel = _filled_rollcall()
    assert panel.summary.text().startswith("点名 r1（进行中）：已呼叫 2/2")
    assert panel.schedule.text().startswith("每周一 09:00 自动点名（已停用）")
    assert english_in(visible_texts(panel) + _table_texts(panel.run_table)) == []
    panel.deleteLater()


@pytest.mark.parametrize("lang", ["en"], indirect=True)
def test_mediation_labels_follow_the_language(lang: str) -> None:
    assert role_label("party", "当事人A") == "Party A" and role_label("court", "法官") == "Judge"
    assert role_label("host", "县综治中心") == "县综治中心"  # not a role of the form: as it came
    assert chinese_in([expiry_text(datetime(2025, 3, 3, tzinfo=UTC), datetime.now(UTC))]) == []


@pytest.mark.parametrize("lang", ["zh_CN"], indirect=True)
def test_mediation_labels_in_chinese(lang: str) -> None:
    assert role_label("party", "当事人A") == "当事人A" and role_label("court", "法官") == "法官"


@pytest.mark.parametrize("lang", ["en"], indirect=True)
def test_camera_trouble_in_english(lang: str) -> None:
    at = datetime(2025, 3, 3, tzinfo=UTC)
    offline = CameraCheck(camera="c1", at=at, online=False, reason=OfflineReason.REFUSED)
    faulty = CameraCheck(camera="c2", at=at, online=True, faults={"blur": 0.9, "noise": 0.7})
    assert trouble_name(offline) == "offline (connection refused)"
    assert trouble_name(faulty) == "blurred, too noisy"
    assert trouble_name(CameraCheck(camera="c3", at=at, online=True)) == "OK"


def test_no_label_of_any_panel_guesses_markup(qapp: QApplication, tmp_path: Path) -> None:
    """Hole 3's guard over the production wiring: every label a panel builds is plain
    text or escaped rich text, so a label added later cannot bring the hole back."""
    found = {name: [lb.text()[:40] for lb in risky_labels(w)] for name, w in _panels(tmp_path)}
    assert {k: v for k, v in found.items() if v} == {}
