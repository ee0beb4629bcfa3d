"""Event queue → mediation window: the panel's "视频调解 (M)" opens (or raises) one
window per event, running on the event queue's network thread and Qt bridge."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from typing import cast

from PySide6.QtWidgets import QWidget

from console.events.controller import EventQueueController
from console.events.panel import EventQueuePanel
from console.kit.net import NetThread, QtBridge
from console.mediation.controller import MediationClient, MediationController, TrackFactory
from console.mediation.controller import demo_tracks as _demo_tracks
from console.mediation.model import MediationModel
from console.mediation.strings import t
from console.mediation.view import MediationWindow
from dispatch.domain.model import Event


def mediation_client(events: EventQueueController) -> MediationClient | None:
    facade = getattr(events.client, "mediation", None)
    if facade is None:
        return None
    return cast(MediationClient, facade)


class MediationCoordinator:
    def __init__(
        self,
        events: EventQueueController,
        net: NetThread,
        bridge: QtBridge,
        http_url: str,
        *,
        tracks: TrackFactory = _demo_tracks,
        keep_hosts: Sequence[str] | None = None,
        show_message: Callable[[str], None] | None = None,
        http_ssl: ssl.SSLContext | None = None,
    ) -> None:
        self.events = events
        self._net, self._bridge = net, bridge
        self.http_url = http_url
        self.http_ssl = http_ssl
        self._tracks = tracks
        self._keep = keep_hosts
        self._show = show_message
        self.windows: dict[str, MediationWindow] = {}

    def open_for(self, event: Event, parent: QWidget | None = None) -> MediationWindow:
        win = self.windows.get(event.id)
        if win is not None and win.model.phase != "closed":
            win.show()
            win.raise_()
            return win
        model = MediationModel(event.id, event.title)
        ctl = MediationController(
            model,
            self._net,
            self._bridge,
            lambda: mediation_client(self.events),
            self.http_url,
            tracks=self._tracks,
            keep_hosts=self._keep,
            http_ssl=self.http_ssl,
            public_url=self._public_url,
        )
        win = MediationWindow(model, ctl, parent=parent)
        self.windows[event.id] = win
        win.show()
        if self._show is not None:
            self._show(t("shown", title=event.title))
        return win

    def _public_url(self) -> str:
        session = self.events.model.session
        return session.public_url if session is not None else ""

    def stop(self) -> None:
        for win in self.windows.values():
            win.shutdown()
            win.close()
        self.windows.clear()


def install_mediation(
    panel: EventQueuePanel,
    events: EventQueueController,
    net: NetThread,
    bridge: QtBridge,
    http_url: str,
    *,
    show_message: Callable[[str], None] | None = None,
    http_ssl: ssl.SSLContext | None = None,
) -> MediationCoordinator:
    coord = MediationCoordinator(
        events, net, bridge, http_url, show_message=show_message, http_ssl=http_ssl
    )

    def handler(ev: Event) -> None:
        coord.open_for(ev)

    panel.mediation_requested.connect(handler)
    return coord
