"""Docks the roll-call panel in the main window; its controller reads the hub once the
event queue has logged in (the roll call shares the event queue's hub client)."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any, cast

from PySide6.QtWidgets import QWidget

from console.events.controller import EventQueueController
from console.events.model import Session
from console.kit.net import NetThread, QtBridge
from console.rollcall.controller import RollcallController, RollcallHub
from console.rollcall.model import RollcallModel
from console.rollcall.strings import t
from console.rollcall.view import RollcallPanel

AddSidePanel = Callable[[QWidget, str], Any]


def rollcall_client(events: EventQueueController) -> RollcallHub | None:
    """The event queue's hub client when it speaks the roll-call protocol, else None."""
    client = events.client
    if client is None or not hasattr(client, "rollcall"):
        return None
    return cast(RollcallHub, client)


class RollcallInstall:
    """The docked panel, its model and its controller; the controller starts at the first
    login with the event queue's hub client (and keeps it across later session changes)."""

    def __init__(
        self,
        events: EventQueueController,
        net: NetThread,
        bridge: QtBridge,
        http_url: str | None = None,
        http_ssl: ssl.SSLContext | None = None,
    ) -> None:
        self.events = events
        self.http_url = http_url
        self.net = net
        self.bridge = bridge
        self.model = RollcallModel()
        self.controller = RollcallController(
            lambda: rollcall_client(events),
            net,
            bridge,
            self.model,
            http_url=http_url,
            http_ssl=http_ssl,
            public_url=self._public_url,
        )
        self.panel = RollcallPanel(self.model, self.controller, self.controller.call)
        self.panel.setObjectName("rollcall")
        self._listening = False

    def _public_url(self) -> str:
        session = self.events.model.session
        return session.public_url.rstrip("/") if session is not None else ""

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

    def _on_session(self, session: Session | None) -> None:
        if session is None or self.controller.client is not None:
            return
        if rollcall_client(self.events) is None:
            self.model.set_status(t("unsupported"))
            return
        self.controller.start()


def install_rollcall(
    events: EventQueueController,
    net: NetThread,
    bridge: QtBridge,
    add_side_panel: AddSidePanel,
    http_url: str | None = None,
    http_ssl: ssl.SSLContext | None = None,
) -> RollcallInstall:
    """Build the panel, dock it, and wait for the login to wire it to the hub.
    `http_url` (the hub's HTTP address) lets the panel join calls by video."""
    inst = RollcallInstall(events, net, bridge, http_url, http_ssl)
    add_side_panel(inst.panel, t("panel_title"))
    inst.start()
    return inst
