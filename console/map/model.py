"""The map panel's state, free of Qt and of I/O (napari style).

`MapModel` is built from the site: the county outline (the hull of its grids), the
townships and villages (labelled at the centre of their grids), the grids with their
leaders, the cameras. Other panels' models feed it through `console.map.wiring`: the
cameras' patrol state (online/offline/faulty), the event queue's events with their
warning colour, the queue's selection (highlighted), new red alarms (flashed), hot spots
(grids shaded). Everything is in world metres (`console.map.projection`, y north-up).
Observers connect to the `Observable`s; each is emitted after its change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from console.kit.observable import Observable
from console.map.geometry import Point, centroid, convex_hull, inside
from console.map.projection import lonlat_to_world
from dispatch.domain.calendar import CHINA_TZ
from dispatch.domain.model import Colour, Event
from dispatch.domain.site import Site

COLOUR_RANK: dict[Colour, int] = {Colour.RED: 0, Colour.YELLOW: 1, Colour.GREEN: 2}


class Layer(StrEnum):
    BASE = "base"
    OUTLINE = "outline"
    TOWNSHIPS = "townships"
    GRIDS = "grids"
    HOTSPOTS = "hotspots"
    CAMERAS = "cameras"
    EVENTS = "events"
    ROLLCALL = "rollcall"
    LEADERS = "leaders"
    LABELS = "labels"
    LEGEND = "legend"  # the legend over the map (not a layer of marks)


class Period(StrEnum):
    """Which of the queue's events the map shows, by when they were reported."""

    ALL = "all"
    TODAY = "today"  # since midnight, Beijing time
    WEEK = "7d"
    MONTH = "30d"


def in_period(reported_at: datetime, period: Period, now: datetime) -> bool:
    if period is Period.TODAY:
        return reported_at.astimezone(CHINA_TZ).date() == now.astimezone(CHINA_TZ).date()
    days = {Period.WEEK: 7, Period.MONTH: 30}.get(period)
    return days is None or reported_at >= now - timedelta(days=days)


class CameraState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    FAULTY = "faulty"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class GridShape:
    id: str
    name: str
    village: str
    township: str
    leader: str  # the leader's name, "" when none
    ring: tuple[Point, ...]
    centre: Point


@dataclass(frozen=True, slots=True)
class Place:
    """A named place of the site, for labels and the search."""

    kind: str  # "township" | "village" | "grid" | "camera" | "event" | "leader"
    id: str
    name: str
    at: Point


@dataclass(frozen=True, slots=True)
class CameraPoint:
    id: str
    name: str
    at: Point
    state: CameraState


@dataclass(frozen=True, slots=True)
class RollResult:
    """A village centre's last roll-call result: reached (answered, maybe without its
    camera) or not, and the hub's words for it."""

    reached: bool
    text: str


@dataclass(frozen=True, slots=True)
class LeaderMark:
    """A grid leader's last position, shared from the phone page with their consent."""

    id: str
    name: str
    at: Point
    when: str  # when it was reported, as shown ("09:41")
    faded: bool = False  # older than half the age after which it is no longer shown


@dataclass(frozen=True, slots=True)
class EventMarker:
    id: str
    title: str
    at: Point
    colour: Colour

    @property
    def rank(self) -> int:
        return COLOUR_RANK[self.colour]


MarkerChange = tuple[EventMarker | None, EventMarker | None]
"""A marker before and after a change (None: it was not there, or is gone)."""


def world(lon: float, lat: float) -> Point:
    return lonlat_to_world(lon, lat)


def grid_shapes(site: Site) -> list[GridShape]:
    towns = {v.id: v.township for v in site.villages}
    people = {p.id: p.name for p in site.people}
    out = []
    for g in site.grids:
        if len(g.polygon) < 3:
            continue
        ring = tuple(world(lon, lat) for lon, lat in g.polygon)
        leader = people.get(g.leader, "") if g.leader else ""
        town = towns.get(g.village, "")
        out.append(GridShape(g.id, g.name, g.village, town, leader, ring, centroid(ring)))
    return out


def _mean(points: list[Point]) -> Point:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _top_middle(points: list[Point]) -> Point:
    xs = [p[0] for p in points]
    return ((min(xs) + max(xs)) / 2, max(p[1] for p in points))


def site_places(site: Site, grids: list[GridShape]) -> list[Place]:
    """Townships at the top middle of their grids, villages at the mean of their grids'
    centres, grids, cameras."""
    by_village: dict[str, list[Point]] = {}
    by_town: dict[str, list[Point]] = {}
    for g in grids:
        by_village.setdefault(g.village, []).append(g.centre)
        by_town.setdefault(g.township, []).extend(g.ring)
    places = [
        Place("township", t.id, t.name, _top_middle(by_town[t.id]))
        for t in site.townships
        if t.id in by_town
    ]
    places += [
        Place("village", v.id, v.name, _mean(by_village[v.id]))
        for v in site.villages
        if v.id in by_village
    ]
    places += [Place("grid", g.id, g.name, g.centre) for g in grids]
    places += [Place("camera", c.id, c.name, world(c.lon, c.lat)) for c in site.cameras]
    return places


def event_point(event: Event, grid_centres: Mapping[str, Point]) -> Point | None:
    """Where an event is drawn: its coordinates, else its grid's centre, else nowhere."""
    if event.place.lon is not None and event.place.lat is not None:
        return world(event.place.lon, event.place.lat)
    if event.place.grid is not None:
        return grid_centres.get(event.place.grid)
    return None


def search_places(places: Iterable[Place], text: str, limit: int = 20) -> list[Place]:
    """Places whose name or id contains `text` (case-insensitive), names starting with it first."""
    needle = text.strip().casefold()
    if not needle:
        return []
    hits = [p for p in places if needle in p.name.casefold() or needle in p.id.casefold()]
    hits.sort(key=lambda p: (not p.name.casefold().startswith(needle), len(p.name)))
    return hits[:limit]


class MapModel:
    """What the map shows. Methods run on one thread (the Qt main thread).

    Observables: `layers_changed(Layer)`, `cameras_changed(frozenset[str])` (ids whose
    state changed), `events_changed(int)` (the new version of the markers),
    `highlight_changed(frozenset[str])`, `flash(str)` (a new red event),
    `hotspots_changed(frozenset[str])` (grid ids), `rollcall_changed(None)`,
    `leaders_changed(None)`, `found_changed(Place | None)` (the search's choice),
    `period_changed(Period)`.
    """

    def __init__(self, site: Site) -> None:
        self.site_name = site.name
        self.grids = grid_shapes(site)
        self.outline: tuple[Point, ...] = tuple(convex_hull(p for g in self.grids for p in g.ring))
        self.places = site_places(site, self.grids)
        self._grid_centres = {g.id: g.centre for g in self.grids}
        self.cameras: dict[str, CameraPoint] = {
            c.id: CameraPoint(c.id, c.name, world(c.lon, c.lat), CameraState.UNKNOWN)
            for c in site.cameras
        }
        self.events: dict[str, EventMarker] = {}
        self.event_changes: Mapping[str, MarkerChange] = {}
        """The last `events_changed`'s markers by id: (before, after), None where absent."""
        self._sources: dict[str, Event] = {}  # the event each marker was made from
        self.events_version = 0
        self.layers: dict[Layer, bool] = dict.fromkeys(Layer, True)
        self.highlighted: frozenset[str] = frozenset()
        self.hotspots: frozenset[str] = frozenset()
        self.rollcall: dict[str, RollResult] = {}  # village id → last result
        self.villages: dict[str, Place] = {p.id: p for p in self.places if p.kind == "village"}
        self.layers_changed: Observable[Layer] = Observable()
        self.cameras_changed: Observable[frozenset[str]] = Observable()
        self.events_changed: Observable[int] = Observable()
        self.highlight_changed: Observable[frozenset[str]] = Observable()
        self.flash: Observable[str] = Observable()
        self.hotspots_changed: Observable[frozenset[str]] = Observable()
        self.rollcall_changed: Observable[None] = Observable()
        self.leaders: dict[str, LeaderMark] = {}
        self.leaders_changed: Observable[None] = Observable()
        self.period = Period.ALL
        self.period_changed: Observable[Period] = Observable()
        self.found: Place | None = None  # the place chosen in the search, marked
        self.found_changed: Observable[Place | None] = Observable()

    # ------------------------------------------------------------ look-ups
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the county's geometry and cameras."""
        pts = list(self.outline) + [c.at for c in self.cameras.values()]
        if not pts:
            return (0.0, 0.0, 1.0, 1.0)
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return (min(xs), min(ys), max(xs), max(ys))

    def search(self, text: str, limit: int = 20) -> list[Place]:
        """Places (townships, villages, grids, cameras), the events and the grid leaders'
        shared positions shown, by name, title or id."""
        events = (Place("event", m.id, m.title, m.at) for m in self.events.values())
        leaders = (Place("leader", m.id, m.name, m.at) for m in self.leaders.values())
        return search_places([*self.places, *events, *leaders], text, limit)

    def cameras_in(self, minx: float, miny: float, maxx: float, maxy: float) -> list[str]:
        """Ids of the cameras inside the world rectangle, in site order."""
        return [
            c.id
            for c in self.cameras.values()
            if minx <= c.at[0] <= maxx and miny <= c.at[1] <= maxy
        ]

    def grid_at(self, p: Point) -> GridShape | None:
        return next((g for g in self.grids if inside(g.ring, p)), None)

    # ------------------------------------------------------------ changes
    def set_layer(self, layer: Layer, visible: bool) -> None:
        if self.layers[layer] != visible:
            self.layers[layer] = visible
            self.layers_changed.emit(layer)

    def set_camera_states(self, states: Mapping[str, CameraState]) -> None:
        """New patrol states; cameras not named keep theirs."""
        changed = set()
        for cid, state in states.items():
            cam = self.cameras.get(cid)
            if cam is not None and cam.state is not state:
                self.cameras[cid] = CameraPoint(cam.id, cam.name, cam.at, state)
                changed.add(cid)
        if changed:
            self.cameras_changed.emit(frozenset(changed))

    def set_events(self, rows: Iterable[tuple[Event, Colour]]) -> None:
        """The events of the chosen period with their colours (replaces the set shown).
        A row whose event object and colour are those of its marker keeps the marker (the
        queue hands all its rows on every change); `event_changes` says what changed."""
        old, known = self.events, self._sources
        markers: dict[str, EventMarker] = {}
        sources: dict[str, Event] = {}
        changes: dict[str, MarkerChange] = {}
        for event, colour in rows:
            eid = event.id
            prev = old.get(eid)
            if prev is not None and known.get(eid) is event and prev.colour is colour:
                markers[eid], sources[eid] = prev, event
                continue
            at = event_point(event, self._grid_centres)
            if at is None:
                continue
            marker = markers[eid] = EventMarker(eid, event.title, at, colour)
            sources[eid] = event
            if marker != prev:
                changes[eid] = (prev, marker)
        changes.update((eid, (m, None)) for eid, m in old.items() if eid not in markers)
        self._sources = sources
        if changes:
            self.events = markers
            self.event_changes = changes
            self.events_version += 1
            self.events_changed.emit(self.events_version)

    def highlight(self, event_ids: Iterable[str]) -> None:
        ids = frozenset(event_ids)
        if ids != self.highlighted:
            self.highlighted = ids
            self.highlight_changed.emit(ids)

    def alarm(self, event_id: str) -> None:
        """A new red event: the view flashes its marker."""
        self.flash.emit(event_id)

    def set_hotspots(self, grid_ids: Iterable[str]) -> None:
        ids = frozenset(grid_ids)
        if ids != self.hotspots:
            self.hotspots = ids
            self.hotspots_changed.emit(ids)

    def set_rollcall(self, results: Mapping[str, RollResult]) -> None:
        """The last roll-call result of each village centre (others: none yet)."""
        known = {vid: r for vid, r in results.items() if vid in self.villages}
        if known != self.rollcall:
            self.rollcall = known
            self.rollcall_changed.emit(None)

    def set_leaders(self, marks: Iterable[LeaderMark]) -> None:
        """Grid leaders' last shared positions (only those who consented are ever sent)."""
        leaders = {m.id: m for m in marks}
        if leaders != self.leaders:
            self.leaders = leaders
            self.leaders_changed.emit(None)

    def set_period(self, period: Period) -> None:
        """Which events to show (whoever feeds `set_events` filters by it)."""
        if period is not self.period:
            self.period = period
            self.period_changed.emit(period)

    def set_found(self, place: Place | None) -> None:
        """Mark the place chosen in the search (None: no mark); an event chosen is
        highlighted instead."""
        if place is not None and place.kind == "event":
            self.highlight([place.id])
            place = None
        if place != self.found:
            self.found = place
            self.found_changed.emit(place)

    @staticmethod
    def leader_mark(person: str, name: str, lon: float, lat: float, when: str) -> LeaderMark:
        return LeaderMark(person, name, world(lon, lat), when)
