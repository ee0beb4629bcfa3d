"""A video platform's cameras in the console (docs/platform.md), put together.

`PlatformStreams` is the wall's stream factory in front of the site's: a camera of a
platform's tree gets a `PlatformTileStream` (its URL asked of the hub when the tile needs
one, and again before it expires), any other goes to the site's factory. It is made with
the window (before any hub client); `PlatformInstall` connects it at login.

`PlatformInstall` follows the hub's platform trees (`HubClient.platform`: fetched at login
and after every reconnect, then the published `PlatformTreeChanged`s): on the Qt thread
the camera tree is rebuilt with the platforms' cameras under their township or village and
the unplaced ones under 未归属, the wall learns their names (tiles that named them try
again), and a platform whose tree is the last known shows "平台离线，显示最后目录" with the
hub's note above the tree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from console.cameras.panel import CameraTreePanel
from console.cameras.tree import build_tree
from console.events.model import Connection, ConnKind, EventQueueModel, Session
from console.kit import i18n
from console.kit.i18n import add_strings
from console.kit.net import NetThread, QtBridge, submit_to_qt
from console.kit.observable import Subscription
from console.wall.controller import StatusCallback, StreamFactory, TileStream, WallController
from console.wall.decoders import IN_PROCESS, Decoders
from console.wall.platform_stream import PlatformTileStream
from dispatch.client.platform import PlatformFacade
from dispatch.domain.site import Site
from dispatch.platform.messages import PlatformStreamReply, PlatformTreeInfo, PlatformTreesReply
from streams.ingest.types import StreamProfile

if TYPE_CHECKING:
    from console.events.wiring import EventQueue

log = logging.getLogger(__name__)

tr = add_strings(
    "platform",
    {
        "unplaced": "未归属",
        "offline": "平台离线，显示最后目录（{platform}）：{note}",
    },
    {
        "unplaced": "Unplaced",
        "offline": "Platform offline, showing the last catalogue ({platform}): {note}",
    },
)

PLATFORM_SIZE = (704, 576)
"""What a platform camera's stream is taken to be before it is decoded (a D1 sub stream)."""


def platform_stream(
    camera_id: str,
    url: str,
    size: tuple[int, int],
    on_status: StatusCallback,
    decoders: Decoders = IN_PROCESS,
) -> TileStream:
    """The console's decoder for one platform URL (one profile: the platform chose it)."""
    profile = StreamProfile("sub", url, *PLATFORM_SIZE)
    return decoders.stream(camera_id, [profile], size, on_status)


class PlatformStreams:
    """The wall's factory: platform cameras here, the rest from the site's factory."""

    def __init__(self, site_factory: StreamFactory, decoders: Decoders = IN_PROCESS) -> None:
        self._site = site_factory
        self._decoders = decoders
        self.cameras: dict[str, str] = {}  # platform camera id → name (Qt thread)
        self._facade: Callable[[], PlatformFacade | None] = lambda: None
        self._net: NetThread | None = None

    def connect(self, facade: Callable[[], PlatformFacade | None], net: NetThread) -> None:
        self._facade, self._net = facade, net

    def __call__(
        self, camera_id: str, size: tuple[int, int], on_status: StatusCallback
    ) -> TileStream:
        if camera_id not in self.cameras or self._net is None:
            return self._site(camera_id, size, on_status)
        return PlatformTileStream(
            camera_id,
            size,
            on_status,
            ask=self._ask,
            open_url=lambda url, sz, cb: platform_stream(camera_id, url, sz, cb, self._decoders),
            submit=self._net.submit,
        )

    async def _ask(self, camera_id: str, renew: bool, min_life_s: float) -> PlatformStreamReply:
        facade = self._facade()
        if facade is None:
            raise RuntimeError("未登录集控中心 / not logged in to the hub")
        return await facade.stream(camera_id, renew=renew, min_life_s=min_life_s)


class PlatformInstall:
    def __init__(
        self,
        site: Site,
        panel: CameraTreePanel,
        wall: WallController,
        streams: PlatformStreams,
        queue: EventQueueModel,
        client: Callable[[], object | None],
        net: NetThread,
        bridge: QtBridge,
    ) -> None:
        self.site, self.panel, self.wall, self.streams = site, panel, wall, streams
        self.queue, self._client, self.net, self.bridge = queue, client, net, bridge
        self._unlisten: Callable[[], None] | None = None
        self._subs: list[Subscription] = []
        self.trees: dict[str, PlatformTreeInfo] = {}  # as last shown (Qt thread)
        streams.connect(self._facade, net)

    def _facade(self) -> PlatformFacade | None:
        facade = getattr(self._client(), "platform", None)
        return facade if isinstance(facade, PlatformFacade) else None

    def start(self) -> None:
        if self._subs or not self.site.platforms:
            return
        self._subs = [
            self.queue.session_changed.connect(self._on_session),
            self.queue.connection_changed.connect(self._on_connection),
            i18n.on_change(lambda: self.show(self.trees, again=True)),
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
        facade = self._facade()
        if session is None or facade is None:
            return
        if self._unlisten is None:
            self._unlisten = facade.listen(self._heard)
        self.fetch()

    def _on_connection(self, conn: Connection) -> None:
        if conn.kind is ConnKind.CONNECTED and self._unlisten is not None:
            self.fetch()

    def fetch(self) -> None:
        facade = self._facade()
        if facade is None:
            return

        def failed(exc: BaseException) -> None:
            log.info("platform trees could not be read: %r", exc)

        def got(_rep: PlatformTreesReply) -> None:
            pass  # the facade told its listener

        submit_to_qt(self.net.submit, self.bridge.post, facade.fetch(), got, failed)

    def _heard(self, view: dict[str, PlatformTreeInfo]) -> None:
        """From the facade, on the network thread."""
        self.bridge.post(lambda: self.show(view))

    def show(self, view: dict[str, PlatformTreeInfo], *, again: bool = False) -> None:
        """The trees into the camera tree, the wall and the note (Qt thread); `again`:
        the same trees in another language."""
        if view == self.trees and not again:
            return
        self.trees = dict(view)
        placed = [c for t in view.values() for c in t.cameras]
        loose = [c for t in view.values() for c in t.loose]
        names = {c.id: c.name for c in (*placed, *loose)}
        self.streams.cameras = names
        self.wall.learn(names)
        self.panel.set_root(build_tree(self.site, placed, loose, tr("unplaced")))
        notes = [tr("offline", platform=t.platform, note=t.note) for t in view.values() if t.note]
        self.panel.set_note("\n".join(notes) or None)


def install_platform(
    site: Site, panel: CameraTreePanel, wall: WallController, queue: EventQueue
) -> PlatformInstall | None:
    """The platforms' cameras at login, when the site names a platform and the wall's
    factory is a `PlatformStreams` (`console.shell.app.build_window`)."""
    streams = wall.factory
    if not site.platforms or not isinstance(streams, PlatformStreams):
        return None
    install = PlatformInstall(
        site,
        panel,
        wall,
        streams,
        queue.model,
        lambda: queue.controller.client,
        queue.net,
        queue.bridge,
    )
    install.start()
    return install
