"""Pure figures of the health view: rates per township and village, the faulty list.

Built from the site and the hub's `camera_health` reply; no Qt, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.health.strings import trouble_name
from dispatch.domain.site import Site
from dispatch.patrol.messages import CameraHealth


@dataclass(frozen=True, slots=True)
class AreaRates:
    key: str  # township id, or "township/village"
    name: str
    cameras: int  # cameras of the site in the area
    checked: int  # of them with a patrol sample
    online: int
    healthy: int  # online with no picture fault

    @property
    def online_rate(self) -> float | None:
        return self.online / self.checked if self.checked else None

    @property
    def quality_rate(self) -> float | None:
        return self.healthy / self.online if self.online else None


@dataclass(frozen=True, slots=True)
class TownshipRates:
    rates: AreaRates
    villages: tuple[AreaRates, ...]


@dataclass(frozen=True, slots=True)
class FaultyCamera:
    camera: str
    name: str
    place: str
    trouble: str
    health: CameraHealth


@dataclass(frozen=True, slots=True)
class HealthSummary:
    county: AreaRates
    townships: tuple[TownshipRates, ...]
    faulty: tuple[FaultyCamera, ...]


def _rates(key: str, name: str, cams: list[str], latest: dict[str, CameraHealth]) -> AreaRates:
    seen = [latest[c].check for c in cams if c in latest]
    online = [c for c in seen if c.online]
    return AreaRates(
        key=key,
        name=name,
        cameras=len(cams),
        checked=len(seen),
        online=len(online),
        healthy=sum(1 for c in online if not c.faults),
    )


def summarise(site: Site, cameras: list[CameraHealth]) -> HealthSummary:
    """Rates per township and village of the site, and the cameras in trouble."""
    latest = {h.check.camera: h for h in cameras}
    townships = []
    for tw in site.townships:
        in_tw = [c.id for c in site.cameras if c.township == tw.id]
        villages = []
        for v in site.villages:
            if v.township != tw.id:
                continue
            in_v = [c.id for c in site.cameras if c.village == v.id]
            if in_v:
                villages.append(_rates(f"{tw.id}/{v.id}", v.name, in_v, latest))
        townships.append(TownshipRates(_rates(tw.id, tw.name, in_tw, latest), tuple(villages)))
    names = {c.id: c.name for c in site.cameras}
    places = {
        c.id: site.township_name(c.township)
        + (f" · {site.village_name(c.village)}" if c.village else "")
        for c in site.cameras
    }
    faulty = tuple(
        FaultyCamera(
            camera=h.check.camera,
            name=names.get(h.check.camera, h.check.camera),
            place=places.get(h.check.camera, ""),
            trouble=trouble_name(h.check),
            health=h,
        )
        for h in sorted(cameras, key=lambda h: h.check.camera)
        if not h.check.healthy
    )
    county = _rates("", "", [c.id for c in site.cameras], latest)
    return HealthSummary(county=county, townships=tuple(townships), faulty=faulty)


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.1f}%"
