"""A platform's catalogue merged into the county → township → village tree (pure).

`merge_catalogue(site, platform, channels)` places every channel: by the mapping table
(channel id → village), else by the longest matching civil-code prefix, else it is left
unplaced (listed, so that the site file can be completed; those whose id does not clash
with a site camera are also `loose` cameras, township "", which the console lists under
未归属). The site itself is not changed:
the result is a `PlatformTree` beside the site's listed cameras.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dispatch.domain.site import CivilCodeMap, PlatformConfig, Site
from streams.platform.models import Channel

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class PlatformCamera:
    id: str  # "<platform>.<device>.<channel>" made safe, unique in the site
    name: str
    platform: str
    device_id: str
    channel_id: str
    township: str
    village: str | None
    online: bool
    lon: float | None
    lat: float | None


@dataclass(frozen=True, slots=True)
class PlatformTree:
    platform: str
    cameras: tuple[PlatformCamera, ...]
    unplaced: tuple[Channel, ...]  # no mapping entry and no civil-code prefix matched
    loose: tuple[PlatformCamera, ...] = ()  # the unplaced ones that can be shown (未归属)

    def by_township(self) -> dict[str, dict[str | None, list[PlatformCamera]]]:
        """township → village (None: the township itself) → cameras, in catalogue order."""
        tree: dict[str, dict[str | None, list[PlatformCamera]]] = {}
        for cam in self.cameras:
            tree.setdefault(cam.township, {}).setdefault(cam.village, []).append(cam)
        return tree


def camera_id(platform: str, channel: Channel) -> str:
    raw = f"{platform}.{channel.device_id}.{channel.id}"
    return _UNSAFE.sub("_", raw)[:64]


def _by_prefix(maps: list[CivilCodeMap], civil_code: str) -> CivilCodeMap | None:
    best: CivilCodeMap | None = None
    for m in maps:
        if civil_code.startswith(m.prefix) and (best is None or len(m.prefix) > len(best.prefix)):
            best = m
    return best


def place(site: Site, platform: PlatformConfig, channel: Channel) -> tuple[str, str | None] | None:
    """(township, village) of a channel, or None when neither table places it."""
    village = platform.channels.get(channel.id)
    if village is not None:
        return next(v.township for v in site.villages if v.id == village), village
    m = _by_prefix(platform.civil_codes, channel.civil_code)
    return (m.township, m.village) if m is not None else None


def merge_catalogue(
    site: Site, platform: PlatformConfig, channels: Iterable[Channel]
) -> PlatformTree:
    taken = {c.id for c in site.cameras}
    cameras: list[PlatformCamera] = []
    unplaced: list[Channel] = []
    loose: list[PlatformCamera] = []
    for ch in channels:
        where = place(site, platform, ch)
        cid = camera_id(platform.id, ch)
        if where is None or cid in taken:
            unplaced.append(ch)
            if cid not in taken:  # not placed, but playable: listed under 未归属
                taken.add(cid)
                loose.append(_camera(cid, platform.id, ch, "", None))
            continue
        taken.add(cid)
        cameras.append(_camera(cid, platform.id, ch, *where))
    return PlatformTree(platform.id, tuple(cameras), tuple(unplaced), tuple(loose))


def _camera(
    cid: str, platform: str, ch: Channel, township: str, village: str | None
) -> PlatformCamera:
    return PlatformCamera(
        id=cid,
        name=ch.name,
        platform=platform,
        device_id=ch.device_id,
        channel_id=ch.id,
        township=township,
        village=village,
        online=ch.online,
        lon=ch.lon,
        lat=ch.lat,
    )
