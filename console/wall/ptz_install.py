"""PTZ on the wall, put together: the site's PTZ cameras (`onvif` URL and the camera's
credentials), the model, the controller on the event queue's network thread, the tiles'
controls, and the hub's holds followed from the first login (fetched again when the
connection comes back). Tour entries `cam@preset` turn the camera when their step starts
(`WallController.on_tour_preset`), and a camera alarm turns the cameras the site links
to its place (`ptz_links`) to their presets (the event queue's `linkage_requested`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, cast

from console.events.controller import EventQueueController, LinkageRequest
from console.events.model import Connection, ConnKind, EventQueueModel, Session
from console.events.wiring import EventQueue
from console.kit.net import NetThread, QtBridge, submit_to_qt
from console.wall.ptz_controller import HoldsPort, PtzController
from console.wall.ptz_model import PtzModel, linked_presets
from console.wall.ptz_view import PtzTiles
from console.wall.view import WallView
from dispatch.domain.site import Site
from dispatch.ptz.messages import PtzHold
from streams.ptz.types import OnvifAccess

log = logging.getLogger(__name__)


class HoldsFeed(HoldsPort, Protocol):
    def listen(self, listener: Callable[[dict[str, PtzHold]], None]) -> Callable[[], None]: ...
    async def fetch(self) -> object: ...
    def view(self) -> dict[str, PtzHold]: ...


def ptz_accesses(site: Site) -> dict[str, OnvifAccess]:
    """The site's PTZ cameras: camera id → ONVIF URL and credentials."""
    out: dict[str, OnvifAccess] = {}
    for cam in site.cameras:
        if not cam.onvif:
            continue
        cred = site.credentials.get(cam.credentials) if cam.credentials else None
        out[cam.id] = OnvifAccess(
            cam.id, cam.onvif, cred.username if cred else "", cred.secret() if cred else ""
        )
    return out


class PtzInstall:
    def __init__(
        self,
        view: WallView,
        site: Site,
        client: Callable[[], object | None],
        net: NetThread,
        bridge: QtBridge,
        queue: EventQueueModel,
        events: EventQueueController | None = None,
    ) -> None:
        self.queue = queue
        self.events = events
        self.links = [(k.place, k.camera, k.preset) for k in site.ptz_links]
        self.wall = view.controller
        self.net = net
        self.bridge = bridge
        self._client = client
        accesses = ptz_accesses(site)
        self.model = PtzModel(list(accesses))
        self.controller = PtzController(accesses, self.model, net.submit, bridge.post, self._facade)
        self.tiles = PtzTiles(view, self.controller, self.model)
        self._unlisten: Callable[[], None] | None = None

    def _facade(self) -> HoldsFeed | None:
        client = self._client()
        return (
            cast(HoldsFeed, client.ptz) if client is not None and hasattr(client, "ptz") else None
        )

    def start(self) -> None:
        if not self.model_cameras():
            return
        self.tiles.attach()
        self.wall.on_tour_preset = self.controller.goto_named
        if self.events is not None:
            self.events.linkage_requested.connect(self._on_linkage)
        self.queue.session_changed.connect(self._on_session)
        self.queue.connection_changed.connect(self._on_connection)
        if self.queue.session is not None:
            self._on_session(self.queue.session)

    def model_cameras(self) -> list[str]:
        return list(self.controller.accesses)

    def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self.tiles.detach()
        self.wall.on_tour_preset = None
        if self.events is not None:
            self.events.linkage_requested.disconnect(self._on_linkage)
        if self.net.running:
            self.net.submit(self.controller.close())

    def _on_linkage(self, req: LinkageRequest) -> None:
        """A camera alarm (the wall maximises its camera): turn the linked cameras."""
        row = self.queue.row(req.event_id)
        if not req.maximise or row is None or not self.links:
            return
        place = row.event.place
        for camera, preset in linked_presets(self.links, [place.village, place.grid]):
            self.controller.goto_named(camera, preset)

    def _me(self) -> str:
        return self.queue.session.operator if self.queue.session is not None else ""

    def _show(self, holds: dict[str, PtzHold]) -> None:
        self.model.set_holds({c: h.operator for c, h in holds.items()}, self._me())

    def _on_session(self, session: Session | None) -> None:
        facade = self._facade()
        if session is None or facade is None:
            return
        if self._unlisten is None:
            self._unlisten = facade.listen(lambda v: self.bridge.post(lambda: self._show(v)))
        self._fetch()

    def _on_connection(self, conn: Connection) -> None:
        if conn.kind is ConnKind.CONNECTED and self._unlisten is not None:
            self._fetch()

    def _fetch(self) -> None:
        facade = self._facade()
        if facade is None:
            return
        submit_to_qt(
            self.net.submit,
            self.bridge.post,
            facade.fetch(),
            lambda _rep: self._show(facade.view()),
            lambda exc: log.info("PTZ holds could not be fetched: %r", exc),
        )


def install_ptz_for(view: WallView, site: Site, queue: EventQueue) -> PtzInstall:
    """PTZ on the wall with the event queue's hub client, network thread and events."""
    events = queue.controller
    inst = PtzInstall(
        view, site, lambda: events.client, queue.net, queue.bridge, queue.model, events
    )
    inst.start()
    return inst
