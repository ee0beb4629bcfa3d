"""The meeting window in the console: a menu 会议 → 视频会议… on the main window opens it;
its controller reads the hub once the event queue has logged in (the meetings share the
event queue's hub client)."""

from __future__ import annotations

from typing import cast

from PySide6.QtWidgets import QMainWindow, QMenu

from console.events.controller import EventQueueController
from console.events.model import Session
from console.kit import i18n
from console.kit.net import NetThread, QtBridge
from console.kit.qt_observe import release_on_destroy
from console.meetings.controller import MeetingsController, MeetingsHub
from console.meetings.model import MeetingsModel
from console.meetings.strings import t
from console.meetings.view import MeetingsWindow


def meetings_client(events: EventQueueController) -> MeetingsHub | None:
    client = events.client
    if client is None or not hasattr(client, "meetings"):
        return None
    return cast(MeetingsHub, client)


class MeetingsInstall:
    def __init__(self, events: EventQueueController, net: NetThread, bridge: QtBridge) -> None:
        self.events = events
        self.model = MeetingsModel()
        self.controller = MeetingsController(
            lambda: meetings_client(events), net, bridge, self.model
        )
        self.window = MeetingsWindow(self.model, self.controller)
        self._listening = False

    def show(self) -> None:
        self.window.show()
        self.window.raise_()

    def start(self) -> None:
        if self._listening:
            return
        self._listening = True
        self.events.model.session_changed.connect(self._on_session)
        if self.events.model.session is not None:
            self._on_session(self.events.model.session)

    def stop(self) -> None:
        if self._listening:
            self._listening = False
            self.events.model.session_changed.disconnect(self._on_session)
        self.controller.stop()
        self.window.close()

    def _on_session(self, session: Session | None) -> None:
        if session is None or self.controller.client is not None:
            return
        if meetings_client(self.events) is None:
            self.model.set_message(t("unsupported"))
            return
        self.controller.start()


def add_menu(window: QMainWindow, inst: MeetingsInstall) -> QMenu:
    """会议 → 视频会议… in the main window's menu bar (follows the language switch)."""
    menu = window.menuBar().addMenu("")
    act = menu.addAction("")
    act.triggered.connect(inst.show)

    def retranslate() -> None:
        menu.setTitle(t("menu"))
        act.setText(t("menu.open"))

    retranslate()
    release_on_destroy(menu, i18n.on_change(retranslate))
    return menu


def install_meetings(
    events: EventQueueController, net: NetThread, bridge: QtBridge, window: QMainWindow
) -> MeetingsInstall:
    inst = MeetingsInstall(events, net, bridge)
    add_menu(window, inst)
    inst.start()
    return inst
