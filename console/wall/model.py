"""The wall's state, Qt-free: layout, slot → camera, maximised slot, status lines, page, shed.

Slots are numbered across pages: with a 9-tile layout page 0 shows slots 0..8 and
page 1 shows slots 9..17. Changing the layout keeps every slot's camera. Observers
connect to `changed` (a `console.kit.observable.Observable`) and receive a `Change`
after each mutation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from console.kit.observable import Observable
from console.wall.shapes import Shape, shape

MAX_SLOTS = 36 * 8


class ChangeKind(StrEnum):
    LAYOUT = "layout"
    ASSIGNMENT = "assignment"
    MAXIMISED = "maximised"
    STATUS_LINE = "status_line"
    PAGE = "page"
    SHED = "shed"
    RESTORED = "restored"
    LINKAGE = "linkage"  # entered or left the event linkage layout


LINKAGE_SHAPE = "1+5"


@dataclass(frozen=True, slots=True)
class Linkage:
    """The wall shows an event's cameras (nearest first, the first one large)."""

    title: str
    cameras: tuple[str, ...]
    maximised: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    slot: int | None = None


@dataclass(frozen=True, slots=True)
class WallState:
    """What a saved layout holds."""

    shape: str = "9"
    assignments: Mapping[int, str] = field(default_factory=dict)
    status_visible: bool = True
    page: int = 0


class WallModel:
    def __init__(self, shape_name: str = "9") -> None:
        self._shape = shape(shape_name)
        self._assignments: dict[int, str] = {}
        self._maximised: int | None = None
        self._status_visible = True
        self._page = 0
        self._shed: frozenset[int] = frozenset()
        self._linkage: Linkage | None = None
        self._before_linkage: WallState | None = None
        self.changed: Observable[Change] = Observable()

    def _emit(self, change: Change) -> None:
        self.changed.emit(change)

    # -- reading ---------------------------------------------------------------
    @property
    def shape(self) -> Shape:
        return self._shape

    @property
    def maximised(self) -> int | None:
        return self._maximised

    @property
    def status_visible(self) -> bool:
        return self._status_visible

    @property
    def page(self) -> int:
        return self._page

    @property
    def shed(self) -> frozenset[int]:
        return self._shed

    @property
    def linkage(self) -> Linkage | None:
        return self._linkage

    def camera(self, slot: int) -> str | None:
        return self._assignments.get(slot)

    def assignments(self) -> dict[int, str]:
        return dict(self._assignments)

    @property
    def pages(self) -> int:
        """Pages in use: enough for every assigned slot, and at least the current page."""
        n = self._shape.tiles
        last = max(self._assignments, default=0)
        return max(last // n + 1, self._page + 1)

    def page_slots(self, page: int | None = None) -> list[int]:
        p = self._page if page is None else page
        n = self._shape.tiles
        return list(range(p * n, p * n + n))

    def visible_slots(self) -> list[int]:
        """Slots on screen now: the maximised one alone, else the current page."""
        if self._maximised is not None:
            return [self._maximised]
        return self.page_slots()

    # -- changing --------------------------------------------------------------
    def set_shape(self, name: str) -> None:
        new = shape(name)
        if new == self._shape:
            return
        self._shape = new
        self._leave_linkage()
        self._maximised = None
        self._page = min(self._page, self.pages - 1)
        self._emit(Change(ChangeKind.LAYOUT))

    def assign(self, slot: int, camera_id: str | None) -> None:
        _check_slot(slot)
        if self._assignments.get(slot) == camera_id:
            return
        if camera_id is None:
            del self._assignments[slot]
        else:
            self._assignments[slot] = camera_id
        self._emit(Change(ChangeKind.ASSIGNMENT, slot))

    def assign_many(self, pairs: Iterable[tuple[int, str | None]]) -> None:
        for slot, cam in pairs:
            self.assign(slot, cam)

    def toggle_maximise(self, slot: int) -> None:
        _check_slot(slot)
        self._maximised = None if self._maximised == slot else slot
        self._emit(Change(ChangeKind.MAXIMISED, slot))

    def restore_tiles(self) -> None:
        if self._maximised is not None:
            slot = self._maximised
            self._maximised = None
            self._emit(Change(ChangeKind.MAXIMISED, slot))

    def set_status_visible(self, visible: bool) -> None:
        if visible != self._status_visible:
            self._status_visible = visible
            self._emit(Change(ChangeKind.STATUS_LINE))

    def set_page(self, page: int) -> None:
        if page < 0 or (page + 1) * self._shape.tiles > MAX_SLOTS:
            raise ValueError(f"page {page} out of range")
        if page != self._page:
            self._page = page
            self._maximised = None
            self._emit(Change(ChangeKind.PAGE))

    def set_shed(self, slots: Iterable[int]) -> None:
        new = frozenset(slots)
        if new != self._shed:
            self._shed = new
            self._emit(Change(ChangeKind.SHED))

    # -- event linkage ---------------------------------------------------------
    def show_linkage(
        self, camera_ids: Iterable[str], title: str, *, maximise: bool = False
    ) -> None:
        """The 1+5 linkage layout with these cameras (nearest large), or the first one
        maximised; the layout before the first linkage is kept for `restore_previous`."""
        cams = tuple(dict.fromkeys(c for c in camera_ids if c))
        if not cams:
            raise ValueError("a linkage needs at least one camera")
        if self._linkage is None:
            self._before_linkage = self.state()
        self._shape = shape(LINKAGE_SHAPE)
        n = self._shape.tiles
        self._assignments = dict(enumerate(cams[:n]))
        self._page = 0
        self._maximised = 0 if maximise else None
        self._linkage = Linkage(title, cams[:n], maximise)
        self._emit(Change(ChangeKind.LINKAGE))

    def restore_previous(self) -> bool:
        """Back to the layout before the linkage; False when no linkage is shown."""
        before = self._before_linkage
        if self._linkage is None or before is None:
            return False
        self._linkage = None
        self._before_linkage = None
        self._shape = shape(before.shape)
        self._assignments = dict(before.assignments)
        self._status_visible = before.status_visible
        self._page = max(0, before.page)
        self._maximised = None
        self._emit(Change(ChangeKind.LINKAGE))
        return True

    def _leave_linkage(self) -> None:
        """The officer changed the wall by hand: it is no longer the linkage layout."""
        self._linkage = None
        self._before_linkage = None

    # -- saving ----------------------------------------------------------------
    def state(self) -> WallState:
        return WallState(
            shape=self._shape.name,
            assignments=dict(self._assignments),
            status_visible=self._status_visible,
            page=self._page,
        )

    def restore(self, state: WallState) -> None:
        new_shape = shape(state.shape)
        for slot in state.assignments:
            _check_slot(slot)
        self._leave_linkage()
        self._shape = new_shape
        self._assignments = dict(state.assignments)
        self._status_visible = state.status_visible
        self._page = max(0, state.page)
        self._maximised = None
        self._emit(Change(ChangeKind.RESTORED))


def _check_slot(slot: int) -> None:
    if not 0 <= slot < MAX_SLOTS:
        raise ValueError(f"slot {slot} out of range 0..{MAX_SLOTS - 1}")
