"""The officer ends a roll call early (结束通话) from the console panel, against a real
hub and real aiortc stations: with a talk time of 10 minutes, the run still finishes
at once, each call's duration is short, and ending a call that is not in progress is
refused with a clear error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError
from PySide6.QtWidgets import QApplication

from console.kit.net import QtBridge
from console.rollcall.model import active_call
from console.rollcall.view import RollcallPanel
from dispatch.domain.wire import HubError
from dispatch.rollcall.messages import RollcallEndCallRequest
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    Station,
    cells,
    hall,
    pump,
    rollcall_panel,
)

pytestmark = [pytest.mark.integration]

TALK_S = 600.0  # far longer than any wait below: only ending the call finishes the run


def answered(station: Station) -> Callable[[], bool]:
    return lambda: bool(station.setup_ms)


def in_call(panel: RollcallPanel, cid: str) -> Callable[[], bool]:
    return lambda: active_call(panel.model.run) == [cid]


def test_officer_ends_calls_early(qapp: QApplication, tmp_path: Path) -> None:
    app = qapp
    with hall(tmp_path, 1, 1) as h:
        net, client = h.net, h.client
        with pytest.raises(HubError, match="没有进行中的通话"):
            net.submit(client.rollcall.end_call(centre_id="t01")).result(30)
        with pytest.raises(ValidationError, match="centre_id"):  # the wire needs it
            RollcallEndCallRequest.model_validate({"rid": "r1", "token": "t"})

        stations = h.open_stations({"t01": "answer", "t01v01": "answer"}, size=(160, 120))
        bridge = QtBridge()
        panel, ctl = rollcall_panel(client, net, bridge)
        ctl.start()
        pump(lambda: panel.roster_table.rowCount() == 2, what="roster shown")
        pump(lambda: all(s.hello.is_set() for s in stations), what="stations online")
        assert not panel.end_call_button.isEnabled()
        net.submit(client.rollcall.start(ring_s=30.0, talk_s=TALK_S)).result(30)
        for n, cid in enumerate(("t01", "t01v01")):  # one after another (batch 1)
            pump(answered(stations[n]), what=f"{cid} answered with media")
            pump(in_call(panel, cid), what=f"{cid} in progress")
            assert panel.end_call_button.isEnabled()
            panel.end_call_button.click()
        pump(lambda: "已完成" in panel.summary.text(), what="run done after ending calls")
        states = dict(zip(cells(panel.run_table, 1), cells(panel.run_table, 2), strict=True))
        assert set(states.values()) == {"已点到"}, states
        run = panel.model.run
        assert run is not None and len(run.calls) == 2
        for c in run.calls:
            assert c.outcome == "answered" and c.duration_s is not None
            assert c.duration_s < 60, c
        assert not panel.end_call_button.isEnabled()
        assert not bridge.errors
        ctl.stop()
        panel.close()
    del app
