"""The mediation window's state, Qt-free: the invites, the opened session's links, the
participants as the hub pushes them, who is speaking, frames per participant, recording,
and the outcome form's checks. Views observe `changed` (a `console.kit.observable`
Observable emitting a kind: "phase", "links", "participants", "levels", "recording",
"message", "conn"). Its sentences come from `console.mediation.strings`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast, get_args

from console.kit.observable import Observable
from console.mediation.strings import OUTCOMES, outcome_name, role_name, t
from dispatch.domain.wire import HubError
from dispatch.mediation.core import MAX_JANUS_PARTIES
from dispatch.mediation.messages import MediationInvite, MediationLink, MediationReply

Role = Literal["court", "notary", "mediator", "party"]
Outcome = Literal["agreement", "no_agreement", "referred"]
Phase = Literal["setup", "opening", "open", "closing", "closed", "failed"]

DEFAULT_INVITES: tuple[tuple[Role, str], ...] = (
    ("court", ""),
    ("notary", ""),
    ("mediator", ""),
    ("party", ""),
    ("party", ""),
)
ADDED_INVITE: tuple[Role, str] = ("party", "")  # a row added with 添加参与方
# the hub's limit on a session (MediationOpen.invites): its parties less the console
MAX_INVITES = MAX_JANUS_PARTIES - 1
SPEAKING_LEVEL = 0.02  # RMS 0..1 above which a participant shows as speaking
MAX_NOTES = 4000


class MediationInputError(ValueError):
    """Bad input in the invite or outcome form; the message says what to fix."""


@dataclass(frozen=True)
class PeerView:
    id: str
    label: str
    name: str
    admitted: bool
    online: bool
    audio: bool
    video: bool
    host: bool
    role: str = ""


# -- pure helpers -----------------------------------------------------------------------------
def can_add_invite(rows: int) -> bool:
    """Whether the invite form, with `rows` rows, may get one more."""
    return rows < MAX_INVITES


def invite_row_removable(index: int) -> bool:
    """Rows added by the officer (after the default ones, 0-based `index`) can be removed;
    the default ones are unticked instead."""
    return index >= len(DEFAULT_INVITES)


def invite_count_text(rows: Sequence[tuple[bool, str, str]]) -> str:
    """ "已选 3 人（最多 23 人）": the ticked rows and the hub's limit."""
    return t("invite_count", n=sum(1 for checked, _r, _n in rows if checked), most=MAX_INVITES)


def hub_error_text(exc: BaseException) -> str:
    """An error as the officer reads it: a hub's refusal is its message (the hub words it
    for the officer, e.g. why a session of 8 needs Janus), anything else as it is."""
    return exc.message if isinstance(exc, HubError) else str(exc)


def make_invites(rows: Sequence[tuple[bool, str, str]]) -> list[MediationInvite]:
    """(checked, role, name) rows of the form → invites; unchecked rows are left out."""
    out: list[MediationInvite] = []
    for n, (checked, role, name) in enumerate(rows, 1):
        if not checked:
            continue
        if role not in get_args(Role):
            raise MediationInputError(t("input.unknown_role", n=n, role=role))
        name = name.strip()
        if not name:
            raise MediationInputError(t("input.no_name", n=n, role=role_name(role)))
        if len(name) > 64:
            raise MediationInputError(t("input.long_name", n=n))
        out.append(MediationInvite(role=cast(Role, role), name=name))
    if not out:
        raise MediationInputError(t("input.nobody"))
    if len(out) > MAX_INVITES:
        raise MediationInputError(t("input.too_many", n=len(out), most=MAX_INVITES))
    return out


def check_outcome(outcome: str, notes: str) -> tuple[Outcome, str]:
    """The outcome form's values, checked: an agreement needs its notes."""
    if outcome not in OUTCOMES:
        raise MediationInputError(t("input.no_outcome"))
    notes = notes.strip()
    if outcome == "agreement" and not notes:
        raise MediationInputError(t("input.no_notes"))
    if len(notes) > MAX_NOTES:
        raise MediationInputError(t("input.long_notes", most=MAX_NOTES, n=len(notes)))
    return cast(Outcome, outcome), notes


def join_url(http_url: str, path: str) -> str:
    return http_url.rstrip("/") + path


def expiry_text(expires_at: datetime, now: datetime) -> str:
    """ "有效至 11-22 09:30（剩 23 小时 59 分）" in the time zone of `now`."""
    local = expires_at.astimezone(now.tzinfo)
    left = int((expires_at - now).total_seconds())
    if left <= 0:
        return t("expired", at=f"{local:%m-%d %H:%M}")
    h, m = divmod(left // 60, 60)
    return t("valid_until", at=f"{local:%m-%d %H:%M}", h=h, m=m)


def peers_from_state(msg: dict[str, Any]) -> list[PeerView]:
    out = []
    for p in msg.get("participants", []):
        out.append(
            PeerView(
                id=str(p["id"]),
                label=str(p.get("label", "")),
                name=str(p.get("name", "")),
                admitted=bool(p.get("admitted")),
                online=bool(p.get("online")),
                audio=bool(p.get("audio", True)),
                video=bool(p.get("video", True)),
                host=p.get("role") == "host",
                role=str(p.get("role", "")),
            )
        )
    return out


def slot_peers(msg: dict[str, Any]) -> dict[str, str]:
    """mid (video and audio) → participant id, from a state push's slot map."""
    out: dict[str, str] = {}
    for s in msg.get("slots", []):
        peer = s.get("peer")
        if not peer:
            continue
        for key in ("video_mid", "audio_mid"):
            mid = s.get(key)
            if mid is not None:
                out[str(mid)] = str(peer["id"])
    return out


# -- the model --------------------------------------------------------------------------------
class MediationModel:
    def __init__(self, event_id: str, event_title: str = "") -> None:
        self.event_id = event_id
        self.event_title = event_title
        self.phase: Phase = "setup"
        self.reply: MediationReply | None = None
        self.links: list[MediationLink] = []
        self.me: str | None = None
        self.peers: list[PeerView] = []
        self.mids: dict[str, str] = {}  # mid → participant id
        self.levels: dict[str, float] = {}  # participant id → RMS 0..1
        self.frames: dict[str, int] = {}  # participant id → video frames shown
        self.recording = False
        self.message = ""
        self.conn = ""  # the media connection as shown: 通话中, 连接中断，正在重连…
        self.closed_reply: MediationReply | None = None
        self.changed: Observable[str] = Observable()

    def _emit(self, kind: str) -> None:
        self.changed.emit(kind)

    @property
    def session_id(self) -> str | None:
        return self.reply.session_id if self.reply else None

    def set_phase(self, phase: Phase, message: str = "") -> None:
        self.phase = phase
        self.message = message
        self._emit("phase")

    def set_conn(self, text: str) -> None:
        if text != self.conn:
            self.conn = text
            self._emit("conn")

    def say(self, message: str) -> None:
        self.message = message
        self._emit("message")

    def opened(self, reply: MediationReply) -> None:
        self.reply = reply
        self.links = list(reply.links)
        self.phase = "open"
        self.message = t("msg.opened")
        self._emit("links")
        self._emit("phase")

    def apply_state(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "state":
            me = msg.get("me") or {}
            if "id" in me:
                self.me = str(me["id"])
            self.peers = peers_from_state(msg)
            self.mids = slot_peers(msg)
            self._emit("participants")
            rec = bool(msg.get("recording"))
            if rec != self.recording:
                self.recording = rec
                self._emit("recording")
        elif kind == "recording":
            self.recording = bool(msg.get("on", msg.get("recording")))
            self._emit("recording")
        elif kind == "closed" and self.phase != "closed":
            self.set_phase("closed", t("msg.ended"))

    def others(self) -> list[PeerView]:
        return [p for p in self.peers if p.id != self.me]

    def lobby(self) -> list[PeerView]:
        return [p for p in self.others() if p.online and not p.admitted]

    def peer(self, pid: str) -> PeerView | None:
        return next((p for p in self.peers if p.id == pid), None)

    def set_levels(self, by_mid: dict[str, float]) -> None:
        for mid, level in by_mid.items():
            pid = self.mids.get(mid)
            if pid is not None:
                self.levels[pid] = level
        self._emit("levels")

    def speaking(self) -> list[str]:
        return [pid for pid, lv in self.levels.items() if lv >= SPEAKING_LEVEL]

    def count_frame(self, pid: str) -> None:
        self.frames[pid] = self.frames.get(pid, 0) + 1

    def closed(self, reply: MediationReply) -> None:
        self.closed_reply = reply
        self.set_phase("closed", t("msg.archived", outcome=outcome_name(reply.outcome or "")))
