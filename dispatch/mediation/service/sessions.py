"""The open mediation sessions of this hub, and who a link or a cookie belongs to.

A session is its participants (`dispatch.mediation.core.Participant`) plus the media of
the star: the hub's `Room` and, while recording, the recorder; or its room on Janus
(`janus`, beyond 6 parties: `dispatch.mediation.media`). `Sessions` is the one
registry, looked up by session id and by link (the SHA-256 of the link token).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dispatch.domain.wire import ErrorCode, HubError
from dispatch.links.core import link_state, matches_hash, token_hash, verify_cookie
from dispatch.mediation.core import LinkStatus, Participant
from streams.webrtc.recorder import Recorder
from streams.webrtc.room import Room

if TYPE_CHECKING:
    from dispatch.mediation.service.janus import JanusSide


@dataclass
class MediationSession:
    id: str
    event_id: str
    opened_by: str
    opened_at: datetime
    room: Room
    participants: dict[str, Participant] = field(default_factory=dict)
    recorder: Recorder | None = None  # while recording
    recordings: list[Path] = field(default_factory=list)
    closed_at: datetime | None = None
    restored_at: datetime | None = None  # loaded back by a restarted hub
    janus: JanusSide | None = None  # the media run in a room on Janus, not the hub's star

    @property
    def recording(self) -> bool:
        return self.recorder is not None or (self.janus is not None and self.janus.recording)

    def shown(self) -> list[Participant]:
        """The participants the pages list (all but the removed), in order."""
        return [p for p in self.participants.values() if not p.removed]


class Sessions:
    """The registry; `clock` is the hub's (expiry is checked against it)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._by_id: dict[str, MediationSession] = {}
        self._by_token: dict[str, Participant] = {}

    def add(self, sess: MediationSession) -> None:
        """Register a session with its participants (all of them already in it)."""
        self._by_id[sess.id] = sess
        for p in sess.participants.values():
            self._by_token[p.token_hash] = p

    def prune(self, closed_before: datetime) -> list[str]:
        """Forget the sessions closed before `closed_before` with their links (a link of
        a forgotten session reads 'unknown', as after a hub restart); their ids."""
        gone = [
            sid
            for sid, s in self._by_id.items()
            if s.closed_at is not None and s.closed_at < closed_before
        ]
        for sid in gone:
            sess = self._by_id.pop(sid)
            for p in sess.participants.values():
                if self._by_token.get(p.token_hash) is p:
                    del self._by_token[p.token_hash]
        return gone

    def __iter__(self) -> Iterator[MediationSession]:
        return iter(list(self._by_id.values()))

    def find(self, sid: str) -> MediationSession | None:
        return self._by_id.get(sid)

    def get(self, sid: str) -> MediationSession:
        s = self._by_id.get(sid)
        if s is None:
            raise HubError(ErrorCode.NOT_FOUND, f"调解会话不存在 / no mediation session {sid!r}")
        return s

    def of(self, p: Participant) -> MediationSession:
        s = self._by_id.get(p.session_id)
        if s is None:  # closed and forgotten (`prune`)
            raise HubError(ErrorCode.CONFLICT, f"调解会话 {p.session_id} 已结束 / closed")
        return s

    def link_status(self, token: str) -> tuple[LinkStatus, Participant | None]:
        """('ok' | 'unknown' | 'expired' | 'locked' | 'closed', the participant)."""
        p = self._by_token.get(token_hash(token))
        if p is None or p.removed:
            return "unknown", p
        sess = self._by_id.get(p.session_id)
        if sess is None or sess.closed_at is not None:
            return "closed", p
        return link_state(p.expires_at, p.failures, self._clock()).value, p

    def participant(self, token: str, bearer: str | None) -> Participant | None:
        """The participant of a session token, if valid for this link now."""
        if not bearer:
            return None
        status, p = self.link_status(token)
        if status != "ok" or p is None:
            return None
        if p.host:  # the console's random session, stored as its hash
            good = p.session_hash is not None and matches_hash(bearer, p.session_hash)
        else:  # the stateless cookie of the link
            good = verify_cookie(bearer, token, p.pin_hash)
        return p if good else None
