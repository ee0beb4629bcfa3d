"""The meeting view's state, Qt-free: the meetings the hub publishes, the one selected,
its tiles (every invited centre with its name, in the room or not, speaking, having the
floor, muted, hand up), the status line ("已入会 18/20，未入会：王家庄村…"), the raised
hands, and the latest picture per participant (the controller's Janus peer puts them
here; the view paints the floor's large and the others small).

Every change emits `changed` (or `picture` for a new frame); the view observes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.kit.observable import Observable
from console.meetings.strings import t
from dispatch.meetings.messages import InviteeInfo, MeetingInfo

HALL = "hall"


@dataclass(frozen=True)
class Tile:
    centre: str
    name: str
    present: bool
    talking: bool
    floor: bool
    muted: bool
    hand: bool


@dataclass(frozen=True)
class Picture:
    """One decoded frame as BGRA bytes (what `QImage.Format_RGB32` paints)."""

    width: int
    height: int
    stride: int  # bytes per line (a width not a multiple of 16 pixels is padded)
    bgra: bytes


def tiles(m: MeetingInfo) -> list[Tile]:
    here, talking = set(m.present), set(m.talking)
    muted, hands = set(m.muted), set(m.hands)
    return [
        Tile(
            centre=c.id,
            name=c.name,
            present=c.id in here,
            talking=c.id in talking,
            floor=c.id == m.floor,
            muted=c.id in muted,
            hand=c.id in hands,
        )
        for c in m.invited
    ]


def status_line(m: MeetingInfo) -> str:
    here = set(m.present)
    missing = [c.name for c in m.invited if c.id not in here]
    line = t("status_line", here=len(m.invited) - len(missing), total=len(m.invited))
    if missing:
        line += t("missing", names=t("list_sep").join(missing))
    return line + (t("locked") if m.locked else "")


def hands_line(m: MeetingInfo) -> str:
    if not m.hands:
        return t("no_hands")
    return t("hands", names=t("list_sep").join(m.name_of(c) for c in m.hands))


def speaking_line(m: MeetingInfo) -> str:
    return t("speaking", name=m.name_of(m.floor)) if m.floor else t("nobody_speaks")


class MeetingsModel:
    def __init__(self) -> None:
        self.meetings: dict[str, MeetingInfo] = {}
        self.selected: str | None = None
        self.message = ""
        self.pictures: dict[str, Picture] = {}  # participant (centre or HALL) → latest frame
        self.joined: str | None = None  # the meeting whose room the console is in
        self.centres: list[InviteeInfo] = []  # who a new meeting may invite
        self.sharing = ""  # what the console shares into the room (正在共享：…), "" none
        self.changed: Observable[None] = Observable()
        self.picture: Observable[str] = Observable()

    @property
    def current(self) -> MeetingInfo | None:
        return self.meetings.get(self.selected) if self.selected else None

    def show(self, meetings: dict[str, MeetingInfo]) -> None:
        self.meetings = dict(meetings)
        if self.selected not in self.meetings:
            live = [m for m in self.meetings.values() if m.status in ("open", "planned")]
            self.selected = live[0].id if live else None
        self.changed.emit(None)

    def select(self, meeting_id: str | None) -> None:
        if meeting_id != self.selected:
            self.selected = meeting_id
            self.pictures = {}
            self.changed.emit(None)

    def set_centres(self, centres: list[InviteeInfo]) -> None:
        self.centres = list(centres)
        self.changed.emit(None)

    def set_message(self, text: str) -> None:
        self.message = text
        self.changed.emit(None)

    def set_joined(self, meeting_id: str | None) -> None:
        self.joined = meeting_id
        if meeting_id is None:
            self.pictures = {}
            self.sharing = ""
        self.changed.emit(None)

    def set_sharing(self, name: str) -> None:
        self.sharing = name
        self.changed.emit(None)

    def set_picture(self, who: str, pic: Picture) -> None:
        self.pictures[who] = pic
        self.picture.emit(who)

    def tiles(self) -> list[Tile]:
        m = self.current
        return tiles(m) if m is not None else []

    def main_speaker(self) -> str:
        """Whose picture is large: the township with the floor, else the convenor."""
        m = self.current
        return m.floor if m is not None and m.floor else HALL
