"""What feeds the tree's online counts besides the wall: the patrol's samples (through the
health panel's model) and the relays' upstream states (`HubClient.relays`, fetched at
login and after every reconnect, then followed by the hub's published changes), which
also mark the tree's camera rows and fill the health panel's relay table.

The relays' facade calls its listener on the network thread; the states reach
`OnlineSources` on the Qt thread (`QtBridge.post`); the window's once-a-second refresh
shows them. `start()`/`stop()` are safe twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from console.cameras.online import OnlineSources, relay_online
from console.cameras.relays import camera_relays
from console.events.model import Connection, ConnKind, EventQueueModel, Session
from console.health.model import HealthModel
from console.kit.net import NetThread, QtBridge, submit_to_qt
from console.kit.observable import Subscription
from dispatch.client.relays import RelaysFacade
from dispatch.relays.messages import RelayStatesReply
from streams.relay.states import RelayReport

log = logging.getLogger(__name__)


def feed_patrol(model: HealthModel, sources: OnlineSources) -> Subscription:
    """Each time the health panel hears from the hub, its newest samples count."""

    def patrolled(_summary: object) -> None:
        # a camera not checked (未巡检) says nothing of whether it is online
        sources.set_patrol({c: h.check.online for c, h in model.latest.items() if h.check.checked})

    return model.summary_changed.connect(patrolled)


class RelayFeed:
    """The relays' states into `sources`, from the logged-in hub client."""

    def __init__(
        self,
        sources: OnlineSources,
        queue: EventQueueModel,
        client: Callable[[], object | None],
        net: NetThread,
        bridge: QtBridge,
        health: HealthModel | None = None,
    ) -> None:
        self.sources = sources
        self.health = health  # the health panel's relay table, if there is a panel
        self.queue = queue
        self._client = client
        self.net = net
        self.bridge = bridge
        self._unlisten: Callable[[], None] | None = None
        self._subs: list[Subscription] = []

    def _facade(self) -> RelaysFacade | None:
        relays = getattr(self._client(), "relays", None)
        return relays if isinstance(relays, RelaysFacade) else None

    def start(self) -> None:
        if self._subs:
            return
        self._subs = [
            self.queue.session_changed.connect(self._on_session),
            self.queue.connection_changed.connect(self._on_connection),
        ]
        if self.queue.session is not None:
            self._on_session(self.queue.session)

    def stop(self) -> None:
        for sub in self._subs:
            sub.disconnect()
        self._subs = []
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def _on_session(self, session: Session | None) -> None:
        if session is None:
            return
        facade = self._facade()
        if facade is not None and self._unlisten is None:
            self._unlisten = facade.listen(lambda view: self._heard(facade, view))
        self.fetch()

    def _on_connection(self, conn: Connection) -> None:
        if conn.kind is ConnKind.CONNECTED and self._unlisten is not None:
            self.fetch()

    def fetch(self) -> None:
        facade = self._facade()
        if facade is None:
            return

        def failed(exc: BaseException) -> None:
            log.info("relay states could not be fetched: %r", exc)

        def got(_rep: RelayStatesReply) -> None:
            pass  # the facade told its listener

        submit_to_qt(self.net.submit, self.bridge.post, facade.fetch(), got, failed)

    def _heard(self, facade: RelaysFacade, view: dict[str, RelayReport]) -> None:
        """From the facade, on the network thread."""
        online = relay_online(view, facade.is_stale)
        detail = camera_relays(view, facade.is_stale)
        stale = {r for r in view if facade.is_stale(r)}
        health = self.health

        def on_qt() -> None:
            self.sources.set_relay(online)
            self.sources.set_relay_detail(detail)
            if health is not None:
                health.show_relays(view, stale)

        self.bridge.post(on_qt)
