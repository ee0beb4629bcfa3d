"""The meeting window in a real window (run by test_meetings_xvfb under Xvfb): filled with
the sample county meeting, shown, the whole screen saved to argv[1]; prints one line
`MEETINGS {json}` with the platform and where the floor's tile and an absent tile are."""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QPoint, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from console.kit.net import NetThread, QtBridge
from console.meetings.controller import MeetingsController
from console.meetings.model import MeetingsModel
from console.meetings.view import MeetingsWindow
from tests.kit.meetings import fill, sample_meeting


def main(path: str) -> int:
    app = QApplication([])
    model = MeetingsModel()
    w = MeetingsWindow(model, MeetingsController(lambda: None, NetThread(), QtBridge(), model))
    fill(model, sample_meeting())
    w.resize(1600, 960)
    w.move(0, 0)
    w.show()

    def shoot() -> None:
        screen = QGuiApplication.primaryScreen()
        screen.grabWindow(0).save(path)
        by = {b.tile.centre: b for b in w.tiles if b.tile is not None}

        def at(centre: str, x: int, y: int) -> list[int]:
            p = by[centre].mapToGlobal(QPoint(x, y))
            return [p.x(), p.y()]

        report = {
            "platform": QGuiApplication.platformName(),
            "floor_border": at("t02", 1, 40),
            "absent_inside": at("t09", 60, 40),
            "present_inside": at("t01", 60, 40),
            "status": w.status.text(),
        }
        print("MEETINGS " + json.dumps(report, ensure_ascii=False), flush=True)
        app.quit()

    QTimer.singleShot(1500, shoot)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
