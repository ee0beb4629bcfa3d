"""The mediation window's invite form (offscreen Qt, real model, controller and window; no
hub): 添加参与方 adds party rows up to the hub's limit, 删除 removes an added row and the
rows are numbered again (and so are the form's messages), the invites made are the rows
as filled. A screenshot with 8 rows goes to artifacts/screenshots to look at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from console.kit.net import NetThread, QtBridge
from console.mediation.controller import MediationController
from console.mediation.model import MAX_INVITES, MediationModel, make_invites
from console.mediation.view import MediationWindow
from tests.kit import pump_until
from tests.kit.paths import ROOT

SHOTS = ROOT / "artifacts" / "screenshots"
NAMES = ["王法官", "李公证", "赵调解", "张三", "李四", "王五", "赵六", "钱七"]


@pytest.fixture
def win(qapp: QApplication) -> Iterator[MediationWindow]:
    model = MediationModel("E1", "邻里漏水纠纷")
    ctl = MediationController(model, NetThread(), QtBridge(), lambda: None, "http://h")
    w = MediationWindow(model, ctl)
    w.show()
    qapp.processEvents()
    yield w
    w.shutdown()
    w.close()
    w.deleteLater()


def numbers(win: MediationWindow) -> list[str]:
    return [row.number.text() for row in win.invite_box.rows]


def test_add_fill_remove_and_the_limit(win: MediationWindow, qapp: QApplication) -> None:
    form = win.invite_box
    assert len(win.invite_rows) == 5
    assert all(row.remove_button is None for row in form.rows)  # the default five stay
    assert form.count_label.text() == f"已选 5 人（最多 {MAX_INVITES} 人）"
    for _ in range(3):
        form.add_button.click()
    qapp.processEvents()
    assert len(win.invite_rows) == 8
    assert numbers(win) == [f"{n}." for n in range(1, 9)]
    added = form.rows[5:]
    assert all(r.role.currentData() == "party" and r.check.isChecked() for r in added)
    assert all(r.remove_button is not None for r in added)
    assert added[-1].name.hasFocus()  # the officer types the new party's name at once
    assert form.add_button.text() == "添加参与方"
    for (_check, _role, edit), name in zip(win.invite_rows, NAMES, strict=True):
        edit.setText(name)
    invites = make_invites(win.invite_values())
    assert [(i.role, i.name) for i in invites] == [
        ("court", "王法官"),
        ("notary", "李公证"),
        ("mediator", "赵调解"),
        *[("party", n) for n in NAMES[3:]],
    ]
    assert form.count_label.text() == f"已选 8 人（最多 {MAX_INVITES} 人）"
    form.rows[4].check.setChecked(False)
    assert form.count_label.text().startswith("已选 7 人")
    form.rows[4].check.setChecked(True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    qapp.processEvents()
    assert win.grab().save(str(SHOTS / "mediation_invite_8_rows.png"))

    # 删除 the 6th row (王五): the rows below move up and are numbered again
    sixth = form.rows[5]
    assert sixth.remove_button is not None and sixth.remove_button.text() == "删除"
    sixth.remove_button.click()
    qapp.processEvents()
    assert [r.name.text() for r in form.rows] == NAMES[:5] + NAMES[6:]
    assert numbers(win) == [f"{n}." for n in range(1, 8)]
    last = form.rows[-1]
    assert last.remove_button is not None
    assert last.remove_button.toolTip() == "删除第 7 行"
    # a message names the row as it is now numbered, and nothing is opened
    last.name.setText(" ")
    win.open_session()
    assert win.status.text() == "第 7 行（当事人）：请填写姓名"
    assert win.model.phase == "setup"

    # up to the hub's limit, then 添加参与方 is off; removing one turns it back on
    while form.add_button.isEnabled():
        form.add_button.click()
    assert len(form.rows) == MAX_INVITES
    assert form.add_row() is None and len(form.rows) == MAX_INVITES
    assert numbers(win)[-1] == f"{MAX_INVITES}."
    bar = form.rows_scroll.verticalScrollBar()
    pump_until(lambda: bar.maximum() > 0, 5)  # the rows scroll; the form keeps its height
    assert bar.value() == bar.maximum()  # down to the row just added
    assert form.rows_scroll.height() < form.rows_box.sizeHint().height()
    assert win.open_button.isVisible()
    assert win.grab().save(str(SHOTS / "mediation_invite_max_rows.png"))
    removable = form.rows[-1].remove_button
    assert removable is not None
    removable.click()
    assert form.add_button.isEnabled() and len(form.rows) == MAX_INVITES - 1


def test_the_form_is_off_once_the_session_opens(win: MediationWindow) -> None:
    win.invite_box.add_button.click()
    win.model.set_phase("opening")
    assert not win.invite_box.isEnabled()
    win.model.set_phase("failed", "开启调解失败：…")
    assert win.invite_box.isEnabled() and len(win.invite_rows) == 6
