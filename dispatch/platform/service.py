"""Catalogue refresh on a schedule (last known kept) and stream URL leases (asked again
when they expire). One `PlatformFeed` per `[[platforms]]` entry; I/O through a
`PlatformSource`, the merge is `dispatch.domain.platform.merge_catalogue`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from dispatch.domain.platform import PlatformCamera, merge_catalogue
from dispatch.domain.site import PlatformConfig, Site
from dispatch.domain.wire import encode
from dispatch.platform import core
from dispatch.platform.messages import PlatformCameraInfo, PlatformTreeChanged, PlatformTreeInfo
from streams.platform import PlatformError, PlatformSource, StreamUrls, WvpSource

log = logging.getLogger(__name__)
RENEW_MARGIN_S = 5.0  # ask again this long before a URL expires


def wvp_source(
    site: Site, cfg: PlatformConfig, clock: Callable[[], float] = time.monotonic
) -> WvpSource:
    cred = site.credentials[cfg.credentials]
    return WvpSource(
        cfg.id,
        cfg.url,
        cred.username,
        cred.secret(),
        timeout_s=cfg.timeout_s,
        url_ttl_s=cfg.url_ttl_s,
        clock=clock,
    )


class PlatformFeed:
    def __init__(
        self,
        site: Site,
        cfg: PlatformConfig,
        source: PlatformSource,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[core.CatalogueState], None] | None = None,
    ) -> None:
        self.site, self.cfg, self.source = site, cfg, source
        self.state = core.initial(cfg.id)
        self._clock = clock
        self._on_change = on_change
        self._leases: dict[str, StreamUrls] = {}
        self._asking: dict[str, asyncio.Future[StreamUrls]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            await self.source.start()
            self._task = asyncio.create_task(self._run(), name=f"platform-{self.cfg.id}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.source.stop()

    async def refresh(self) -> core.CatalogueState:
        """Read the catalogue once; on failure keep the last known tree with a note."""
        try:
            cat = await self.source.catalogue()
        except PlatformError as exc:
            self.state = core.failed(self.state, str(exc))
            log.warning("platform %s: refresh failed: %s", self.cfg.id, exc)
        else:
            tree = merge_catalogue(self.site, self.cfg, cat.channels)
            self.state = core.refreshed(self.state, tree, cat.read_at)
        if self._on_change is not None:
            self._on_change(self.state)
        return self.state

    async def _run(self) -> None:
        while True:
            state = await self.refresh()
            await asyncio.sleep(core.next_wait(state, self.cfg.refresh_s))

    def has(self, camera_id: str) -> bool:
        try:
            self.camera(camera_id)
        except KeyError:
            return False
        return True

    def camera(self, camera_id: str) -> PlatformCamera:
        """A camera of the last known tree, placed or loose (未归属); KeyError if unknown."""
        tree = self.state.tree
        for cam in (*tree.cameras, *tree.loose) if tree is not None else ():
            if cam.id == camera_id:
                return cam
        raise KeyError(f"platform {self.cfg.id}: unknown camera {camera_id!r}")

    async def stream(
        self, camera_id: str, *, renew: bool = False, min_life_s: float = 0.0
    ) -> StreamUrls:
        """A camera's URLs: the lease while it lives (at least `min_life_s` more: a tile
        asking for its next URL ahead of expiry), else asked of the platform again.
        `renew`: the caller's stream failed, so the lease is dropped whatever its age."""
        lease = self._leases.get(camera_id)
        margin = max(RENEW_MARGIN_S, min_life_s)
        if lease is not None and not renew and not lease.expired(self._clock(), margin):
            return lease
        asking = self._asking.get(camera_id)  # tiles asking at once share one play request
        if asking is None:
            asking = asyncio.ensure_future(self._play(camera_id))
            self._asking[camera_id] = asking
            asking.add_done_callback(lambda _f: self._asking.pop(camera_id, None))
        return await asyncio.shield(asking)

    async def _play(self, camera_id: str) -> StreamUrls:
        cam = self.camera(camera_id)
        lease = await self.source.play(cam.device_id, cam.channel_id)
        self._leases[camera_id] = lease
        return lease


def _info(c: PlatformCamera) -> PlatformCameraInfo:
    return PlatformCameraInfo(
        id=c.id,
        name=c.name,
        township=c.township,
        village=c.village,
        online=c.online,
        lon=c.lon,
        lat=c.lat,
    )


def tree_info(state: core.CatalogueState) -> PlatformTreeInfo:
    tree = state.tree
    return PlatformTreeInfo(
        platform=state.platform,
        cameras=[_info(c) for c in tree.cameras] if tree is not None else [],
        unplaced=len(tree.unplaced) if tree is not None else 0,
        loose=[_info(c) for c in tree.loose] if tree is not None else [],
        read_at=state.read_at,
        note=state.note,
    )


def same_tree(a: PlatformTreeInfo | None, b: PlatformTreeInfo) -> bool:
    """Whether a console would show the same (a refresh that only moved `read_at` is)."""
    return a is not None and a.model_copy(update={"read_at": None}) == b.model_copy(
        update={"read_at": None}
    )


class PlatformsService:
    """One `PlatformFeed` per `[[platforms]]` entry of the site (none: nothing runs).

    A refresh that changes what a console shows of a platform (cameras, placing, note) is
    published as `PlatformTreeChanged` with the service's own `seq` (from the wall clock in
    milliseconds at start, then +1, so a restarted hub's changes follow on, not behind)."""

    def __init__(
        self,
        site: Site | None,
        clock: Callable[[], float] = time.monotonic,
        *,
        publish: Callable[[bytes], None] | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._publish = publish
        self._wall = wall
        self.seq = 0
        self._shown: dict[str, PlatformTreeInfo] = {}
        self.feeds: dict[str, PlatformFeed] = {}
        if site is not None:
            for cfg in site.platforms:
                src = wvp_source(site, cfg, clock)
                self.feeds[cfg.id] = PlatformFeed(
                    site, cfg, src, clock=clock, on_change=self._changed
                )

    async def start(self) -> None:
        if self.seq == 0:
            self.seq = int(self._wall() * 1000)
        for feed in self.feeds.values():
            await feed.start()

    async def stop(self) -> None:
        for feed in self.feeds.values():
            await feed.stop()

    def _changed(self, state: core.CatalogueState) -> None:
        info = tree_info(state)
        if same_tree(self._shown.get(state.platform), info):
            return
        self._shown[state.platform] = info
        self.seq += 1
        if self._publish is None:
            return
        try:
            self._publish(encode(PlatformTreeChanged(seq=self.seq, tree=info)))
        except Exception:  # consoles catch up at their next read of the trees
            log.exception("publishing platform %s's tree failed", state.platform)

    def trees(self) -> list[PlatformTreeInfo]:
        return [tree_info(f.state) for f in self.feeds.values()]

    async def stream(
        self, camera_id: str, *, renew: bool = False, min_life_s: float = 0.0
    ) -> tuple[StreamUrls, float]:
        """(URLs, seconds they still live) of a platform camera; KeyError when unknown."""
        for feed in self.feeds.values():
            if feed.has(camera_id):
                urls = await feed.stream(camera_id, renew=renew, min_life_s=min_life_s)
                return urls, max(0.0, urls.expires_at - self._clock())
        raise KeyError(camera_id)
