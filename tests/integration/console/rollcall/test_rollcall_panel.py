"""The console's roll-call panel against a real hub and real (lightweight) stations:
start from the panel, the live run fills in from published changes, the week's coverage
and log show, an exemption is added, and the week exports. Screenshot in
artifacts/screenshots/rollcall_panel*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from console.kit.net import QtBridge
from tests.integration.dispatch.mediation.test_mediation_support import SHOTS
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    cells,
    hall,
    pump,
    rollcall_panel,
)

pytestmark = [pytest.mark.integration]


def test_panel_runs_a_roll_call(qapp: QApplication, tmp_path: Path) -> None:
    app = qapp
    SHOTS.mkdir(parents=True, exist_ok=True)
    with hall(tmp_path, 2, 2) as h:
        net, client = h.net, h.client
        # stations: t01 and t02v01 answer, t01v01 declines, t01v02 closed, others ignore
        h.open_stations(
            {
                "t01": "answer",
                "t01v01": "decline",
                "t02": "ignore",
                "t02v01": "answer",
                "t02v02": "ignore",
            },
            size=(160, 120),
        )
        bridge = QtBridge()
        panel, ctl = rollcall_panel(client, net, bridge)
        panel.resize(1100, 700)
        panel.show()
        ctl.start()
        pump(lambda: panel.roster_table.rowCount() == 6, what="roster shown")
        pump(lambda: "在线" in cells(panel.roster_table, 3), what="presence")
        online = dict(zip(cells(panel.roster_table, 1), cells(panel.roster_table, 3), strict=True))
        assert online["第1镇"] == "在线" and online["　第1镇2村"] == "离线"
        assert "下次点名" in panel.schedule.text()
        # short rings for the test: start through the client, then drive from the panel
        net.submit(client.rollcall.start(ring_s=1.0, talk_s=0.2)).result(30)
        pump(lambda: panel.run_table.rowCount() == 6, what="run shown")
        panel.stop_button.click()
        pump(lambda: "已暂停" in panel.summary.text(), what="stopped")
        assert panel.resume_button.isEnabled()
        panel.resume_button.click()
        pump(lambda: "已完成" in panel.summary.text(), timeout_s=90, what="run done")
        states = dict(zip(cells(panel.run_table, 1), cells(panel.run_table, 2), strict=True))
        assert states == {
            "第1镇": "已点到",
            "第1镇1村": "未点到",
            "第1镇2村": "未点到",
            "第2镇": "未点到",
            "第2镇1村": "已点到",
            "第2镇2村": "未点到",
        }
        firsts = dict(zip(cells(panel.run_table, 1), cells(panel.run_table, 3), strict=True))
        assert firsts["第1镇1村"] == "拒接" and firsts["第1镇2村"] == "链路中断"
        assert firsts["第2镇"] == "无人应答"
        pump(lambda: "已点到 2/6" in panel.week_title.text(), what="coverage reloaded")
        cov = [
            [cells(panel.coverage_table, c)[r] for c in range(4)]
            for r in range(panel.coverage_table.rowCount())
        ]
        assert (
            cov[0][1:3] == ["3", "1"]
            and cov[1][1:3] == ["3", "1"]
            and cov[2][1:4] == ["6", "2", "33%"]
        )
        assert panel.log_table.rowCount() == 10  # 6 first calls + 4 re-calls
        panel.run_table.selectRow(1)  # 第1镇1村: declined twice
        panel.note_edit.setText("电话联系：值班员外出处置纠纷")
        panel.note_button.click()
        pump(lambda: "外出处置" in cells(panel.run_table, 8)[1], what="note shown")
        panel.grab().save(str(SHOTS / "rollcall_panel.png"))
        panel.tabs.setCurrentIndex(2)
        panel.grab().save(str(SHOTS / "rollcall_panel_week.png"))
        panel.export_pdf.click()
        pump(lambda: bool(ctl.exported), what="export")
        assert ctl.exported[0].endswith(".pdf") and Path(ctl.exported[0]).stat().st_size > 10_000
        # an exemption from the roster tab
        panel.tabs.setCurrentIndex(1)
        panel.ex_centre.setCurrentIndex(panel.ex_centre.findData("t01v02"))
        panel.ex_reason.setCurrentIndex(panel.ex_reason.findData("repair"))
        panel.ex_add.click()
        pump(lambda: "设备维修" in "".join(cells(panel.roster_table, 4)), what="exemption")
        panel.link_button.click()
        pump(lambda: bool(ctl.links), what="link issued")
        assert ctl.links[0][0] == "t01v02" and ctl.links[0][1].startswith("/s/")
        assert ctl.links[0][2] in panel.status.text()
        panel.grab().save(str(SHOTS / "rollcall_panel_roster.png"))
        assert not bridge.errors
        ctl.stop()
        panel.close()
    del app
