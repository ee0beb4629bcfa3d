"""What the participants' sockets are told: the state view and the pushes to them.

A change of a session (presence, lobby, mute, the room's media) schedules one `StateDue`
per session on the loop, however many changes came in the same turn; each socket then
sends its own participant's `StateOut` (`state_for`). Events (removed, closed, recording)
go out at once (`broadcast`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from dispatch.mediation.core import Participant
from dispatch.mediation.messages import (
    ClosedOut,
    JanusTicket,
    MeView,
    ParticipantView,
    PeerRef,
    RecordingOut,
    RemovedOut,
    SessionRef,
    SlotView,
    StateOut,
)
from dispatch.mediation.service.sessions import MediationSession


@dataclass(frozen=True)
class StateDue:
    """Not a message: tells a socket to send its participant's `StateOut` now (rendered
    when sent, so a slow page gets the newest)."""


Push = StateDue | RemovedOut | ClosedOut | RecordingOut
Listener = Callable[[Push], None]


def media_state(sess: MediationSession, pid: str) -> str:
    """A participant's media: the star's connection state, or on Janus 'connected' while
    it publishes in the room, 'absent' when it is not there."""
    if sess.janus is None:
        return sess.room.state(pid)
    publishing = sess.janus.feeds.get(pid)
    return "absent" if publishing is None else ("connected" if publishing else "connecting")


def state_for(
    sess: MediationSession, p: Participant, epoch: str, janus: JanusTicket | None = None
) -> StateOut:
    """The whole view as `p` sees it: everyone's lobby and media state, and whose media
    each of `p`'s receive slots carries (the star) or `p`'s ticket to the room (Janus)."""
    names = {q.id: q for q in sess.participants.values()}
    slots = []
    for s in sess.room.slot_map(p.id):
        who = names.get(s.peer_id) if s.peer_id else None
        peer = None if who is None else PeerRef(id=who.id, name=who.name, label=who.label)
        slots.append(SlotView(video_mid=s.video_mid, audio_mid=s.audio_mid, peer=peer))
    return StateOut(
        me=MeView(
            id=p.id,
            name=p.name,
            label=p.label,
            host=p.host,
            admitted=p.admitted,
            removed=p.removed,
        ),
        session=SessionRef(id=sess.id, event_id=sess.event_id),
        epoch=epoch,
        participants=[
            ParticipantView(
                id=q.id,
                role=q.role,
                label=q.label,
                name=q.name,
                admitted=q.admitted,
                online=q.online,
                media=media_state(sess, q.id),
                audio=q.audio_on,
                video=q.video_on,
            )
            for q in sess.shown()
        ],
        recording=sess.recording,
        closed=sess.closed_at is not None,
        slots=slots,
        engine="janus" if sess.janus is not None else "hub",
        janus=janus,
    )


class Pushes:
    """The sockets of each session; `before_push(sid)` runs before each state push (the
    recorder follows who is in the room)."""

    def __init__(self, before_push: Callable[[str], bool]) -> None:
        self._before_push = before_push
        self._listeners: dict[str, list[Listener]] = {}
        self._due: set[str] = set()

    def listen(self, sid: str, fn: Listener) -> None:
        self._listeners.setdefault(sid, []).append(fn)

    def unlisten(self, sid: str, fn: Listener) -> None:
        ls = self._listeners.get(sid, [])
        if fn in ls:
            ls.remove(fn)
        if not ls:
            self._listeners.pop(sid, None)

    def forget(self, sid: str) -> None:
        """Drop a forgotten session's sockets (they were told it closed)."""
        self._listeners.pop(sid, None)
        self._due.discard(sid)

    def sessions(self) -> int:
        """How many sessions have sockets listening."""
        return len(self._listeners)

    def schedule(self, sid: str) -> None:
        """A state push to every socket of the session, once, on the loop's next turn."""
        if sid in self._due:
            return
        self._due.add(sid)
        asyncio.get_running_loop().call_soon(self._push, sid)

    def _push(self, sid: str) -> None:
        self._due.discard(sid)
        if not self._before_push(sid):
            return
        self.broadcast(sid, StateDue())  # each socket personalises (state_for)

    def broadcast(self, sid: str, msg: Push) -> None:
        for fn in list(self._listeners.get(sid, ())):
            fn(msg)
