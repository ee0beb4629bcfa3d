"""The meeting window (offscreen Qt, real model and view, a controller that records the
officer's intents): the status line with who has not joined, who speaks, raised hands,
one tile per invited township with its state, a click on a tile gives it the floor, the
buttons reach the controller, the English switch, outside names shown as text."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from console.kit import i18n
from console.kit.net import NetThread, QtBridge
from console.meetings.controller import MeetingsController
from console.meetings.model import MeetingsModel
from console.meetings.view import MeetingsWindow
from tests.kit.hostile import HEADING, IMAGE, LINK, RTL, assert_literal, assert_no_risky_labels
from tests.kit.meetings import NAMES, fill, sample_meeting
from tests.kit.paths import ROOT

SHOTS = ROOT / "artifacts" / "screenshots"


class Recording(MeetingsController):
    def __init__(self, model: MeetingsModel) -> None:
        super().__init__(lambda: None, NetThread(), QtBridge(), model)
        self.intents: list[tuple[str, object]] = []

    def give_floor(self, centre: str | None) -> None:
        self.intents.append(("floor", centre))

    def mute_all(self) -> None:
        self.intents.append(("mute_all", None))

    def set_locked(self, locked: bool) -> None:
        self.intents.append(("lock", locked))

    def unmute(self, centre: str) -> None:
        self.intents.append(("unmute", centre))

    def stop_share(self) -> None:
        self.intents.append(("stop_share", None))
        self.model.set_sharing("")


def window(qapp: QApplication) -> tuple[MeetingsModel, Recording, MeetingsWindow]:
    model = MeetingsModel()
    ctl = Recording(model)
    w = MeetingsWindow(model, ctl)
    w.resize(1400, 860)
    return model, ctl, w


def test_the_meeting_view_shows_the_room_and_sends_intents(qapp: QApplication) -> None:
    model, ctl, w = window(qapp)
    fill(model, sample_meeting())
    w.show()
    qapp.processEvents()
    assert w.status.text() == "已入会 18/20，未入会：王家庄村、李庄村"
    assert w.speaking.text() == "正在发言：河西镇"
    assert w.hands.text() == "举手：南岭乡、新华镇"
    shown = [b for b in w.tiles if b.isVisible()]
    assert [b.tile.name for b in shown if b.tile] == NAMES
    by = {b.tile.centre: b for b in shown if b.tile}
    assert by["t02"].badges() == ["发言中"] and by["t02"].tile.talking  # type: ignore[union-attr]
    assert by["t09"].badges() == ["未入会"] and by["t07"].badges() == ["已静音"]
    assert by["t05"].badges() == ["举手"]
    assert w.main.caption == "河西镇" and w.main.pic is not None and w.main.pic.width == 960
    QTest.mouseClick(by["t05"], Qt.MouseButton.LeftButton, pos=QPoint(40, 40))
    w.btn_mute_all.click()
    w.btn_lock.click()
    w.btn_take.click()
    assert ctl.intents == [("floor", "t05"), ("mute_all", None), ("lock", True), ("floor", None)]
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.grab().save(str(SHOTS / "meetings_console_offscreen.png"))
    i18n.set_language("en")
    try:
        assert w.status.text() == "Joined 18/20; not joined: 王家庄村, 李庄村"
        assert w.btn_mute_all.text() == "Mute all" and by["t09"].badges() == ["not joined"]
    finally:
        i18n.set_language("zh_CN")
    assert w.btn_mute_all.text() == "全体静音"
    w.close()


def test_outside_names_are_text(qapp: QApplication) -> None:
    model, _ctl, w = window(qapp)
    names = [HEADING, LINK, RTL, *NAMES[3:8], IMAGE, *NAMES[9:]]  # the 9th is absent
    m = sample_meeting(names)
    fill(model, m.model_copy(update={"title": HEADING}))
    qapp.processEvents()
    assert_literal(w.title, HEADING)
    assert_no_risky_labels(w)
    assert IMAGE in w.status.text()
    w.close()


def test_sharing_shows_what_is_shared_and_stops(qapp: QApplication) -> None:
    model, ctl, w = window(qapp)
    m = sample_meeting()
    fill(model, m)
    w.show()
    qapp.processEvents()
    model.set_joined(None)
    assert not w.btn_share.isEnabled()  # not in the room yet: nothing to share into
    assert w.sharing.isHidden() and w.btn_stop_share.isHidden()
    model.set_joined(m.id)
    assert w.btn_share.isEnabled() and w.btn_share.text() == "共享…"
    model.set_sharing("会议材料.pdf 第 2 页")
    assert w.sharing.text() == "正在共享：会议材料.pdf 第 2 页"
    assert w.sharing.isVisible() and w.btn_stop_share.text() == "停止共享"
    w.btn_stop_share.click()
    assert ctl.intents == [("stop_share", None)] and w.sharing.isHidden()
    w.close()
