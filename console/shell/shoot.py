"""`hall-console --screenshot FILE`: the screen (or the window, offscreen) saved, and a
line saying what it shows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from console.shell.main_window import MainWindow
from console.wall.model import WallModel


def shoot(app: QApplication, window: MainWindow, model: WallModel, target: Path) -> None:
    """Save a screenshot of the screen (or the window, offscreen), print what it shows
    as one `SCREENSHOT {json}` line, and quit."""
    from PySide6.QtGui import QGuiApplication

    screen = QGuiApplication.primaryScreen()
    if QGuiApplication.platformName() != "offscreen" and screen is not None:
        pixmap = screen.grabWindow(0)
    else:
        pixmap = window.grab()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(target)):
        print(f"hall-console: cannot save screenshot to {target}", file=sys.stderr)
    shown = [t for t in window.wall.tiles if not t.isHidden()]
    report = {
        "path": str(target),
        "platform": QGuiApplication.platformName(),
        "screens": len(QGuiApplication.screens()),
        "tiles": len(shown),
        "tiles_with_picture": sum(
            1 for t in shown if t.frame is not None and t.overlay_text() is None
        ),
        "shed": len(model.shed),
        "window": [window.width(), window.height()],
        "maximised": window.isMaximized(),
    }
    print("SCREENSHOT " + json.dumps(report, ensure_ascii=False), flush=True)
    app.quit()
