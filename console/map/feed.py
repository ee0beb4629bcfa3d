"""Feeds the map's grid-leader layer from the hub: the shared positions the hub keeps
(`HubClient.positions`, fetched at login and after every reconnect, then followed by
its published changes) become `LeaderMark`s (`console.map.leaders`) in the `MapModel`.

The facade calls its listener on the network thread; the marks are made and set on the
Qt thread (`QtBridge.post`). A timer re-reads the ages every `REFRESH_MS`, so a position
fades and then goes even when nothing new arrives. `start()`/`stop()` are safe twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, cast

from PySide6.QtCore import QTimer

from console.events.model import Connection, ConnKind, EventQueueModel, Session
from console.kit.net import NetThread, QtBridge, submit_to_qt
from console.map.leaders import leader_marks
from console.map.model import MapModel
from dispatch.client.positions import PositionsFacade
from dispatch.positions.messages import LeaderPosition, LeaderPositionsReply

log = logging.getLogger(__name__)

REFRESH_MS = 60_000
"""How often the ages are looked at again (a position's time is shown to the minute)."""


class PositionsHub(Protocol):
    @property
    def positions(self) -> PositionsFacade: ...


class LeaderFeed:
    def __init__(
        self,
        model: MapModel,
        hub: Callable[[], object | None],
        net: NetThread,
        bridge: QtBridge,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.model = model
        self._hub = hub
        self.net = net
        self.bridge = bridge
        self.now = now
        self.positions: list[LeaderPosition] = []
        self.max_age_s = 7200.0
        self._unlisten: Callable[[], None] | None = None
        self._timer: QTimer | None = None

    def _facade(self) -> PositionsFacade | None:
        client = self._hub()
        if client is None or not hasattr(client, "positions"):
            return None
        return cast(PositionsHub, client).positions

    def start(self) -> bool:
        """Listen and fetch (once logged in); False while there is no client yet."""
        facade = self._facade()
        if facade is None:
            return False
        if self._unlisten is None:
            self._unlisten = facade.listen(self._heard)
        if self._timer is None:
            self._timer = QTimer()
            self._timer.setInterval(REFRESH_MS)
            self._timer.timeout.connect(self.refresh)
            self._timer.start()
        self.fetch()
        return True

    def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def fetch(self) -> None:
        facade = self._facade()
        if facade is None:
            return

        def failed(exc: BaseException) -> None:
            log.info("leader positions could not be fetched: %r", exc)

        def got(rep: LeaderPositionsReply) -> None:
            self.show(rep.positions, rep.max_age_s)

        submit_to_qt(self.net.submit, self.bridge.post, facade.fetch(), got, failed)

    def _heard(self, positions: list[LeaderPosition], max_age_s: float) -> None:
        """From the facade, on the network thread."""
        self.bridge.post(lambda: self.show(positions, max_age_s))

    def show(self, positions: list[LeaderPosition], max_age_s: float) -> None:
        self.positions = list(positions)
        self.max_age_s = max_age_s
        self.refresh()

    def refresh(self) -> None:
        self.model.set_leaders(leader_marks(self.positions, self.now(), self.max_age_s))


class LeaderFeedInstall:
    """Starts the feed at the first login with the event queue's client, and fetches
    again each time the connection comes back (changes may have been missed)."""

    def __init__(self, feed: LeaderFeed, queue: EventQueueModel) -> None:
        self.feed = feed
        self.queue = queue
        self._listening = False
        self._started = False

    def start(self) -> None:
        if self._listening:
            return
        self._listening = True
        self.queue.session_changed.connect(self._on_session)
        self.queue.connection_changed.connect(self._on_connection)
        if self.queue.session is not None:
            self._on_session(self.queue.session)

    def stop(self) -> None:
        if self._listening:
            self._listening = False
            self.queue.session_changed.disconnect(self._on_session)
            self.queue.connection_changed.disconnect(self._on_connection)
        self.feed.stop()

    def _on_session(self, session: Session | None) -> None:
        if session is not None and not self._started:
            self._started = self.feed.start()

    def _on_connection(self, conn: Connection) -> None:
        if conn.kind is ConnKind.CONNECTED and self._started:
            self.feed.fetch()


def install_leader_feed(
    model: MapModel,
    queue: EventQueueModel,
    client: Callable[[], object | None],
    net: NetThread,
    bridge: QtBridge,
) -> LeaderFeedInstall:
    """The map's leader layer fed by the event queue's hub client (started at login)."""
    inst = LeaderFeedInstall(LeaderFeed(model, client, net, bridge), queue)
    inst.start()
    return inst
