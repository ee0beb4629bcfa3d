"""Who is in a room, as the engine's watcher sees it (pure: fed Janus's videoroom events).

The engine joins each room with a handle of its own that never publishes; Janus then
tells it every publisher with its streams (the audio mids that `moderate` needs), who
joins and leaves, and who is talking (`audiolevel_event`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dispatch.meetings.media import Participant


@dataclass
class Member:
    display: str = ""
    audio_mids: list[str] = field(default_factory=list)
    talking: bool = False
    publishing: bool = False


@dataclass
class Roster:
    own_id: int = 0  # the watcher's own feed id (never listed)
    members: dict[int, Member] = field(default_factory=dict)
    muted: set[int] = field(default_factory=set)
    destroyed: bool = False

    def _publisher(self, p: dict[str, Any]) -> None:
        feed = int(p.get("id", 0))
        if not feed or feed == self.own_id:
            return
        m = self.members.setdefault(feed, Member())
        m.display = str(p.get("display", m.display) or m.display)
        streams = p.get("streams")
        if isinstance(streams, list):
            m.audio_mids = [
                str(s["mid"])
                for s in streams
                if isinstance(s, dict) and s.get("type") == "audio" and "mid" in s
            ]
            m.publishing = bool(streams)
        m.talking = bool(p.get("talking", m.talking))

    def apply(self, data: dict[str, Any]) -> None:
        """One videoroom event (plugindata.data)."""
        kind = data.get("videoroom")
        if kind == "joined":
            self.own_id = int(data.get("id", 0))
        if kind == "destroyed":
            self.destroyed = True
        for key in ("publishers", "attendees"):
            for p in data.get(key) or []:
                if isinstance(p, dict):
                    self._publisher(p)
        joining = data.get("joining")
        if isinstance(joining, dict):
            self._publisher(joining)
        feed = data.get("id")
        if (
            kind in ("talking", "stopped-talking")
            and isinstance(feed, int)
            and feed in self.members
        ):
            self.members[feed].talking = kind == "talking"
        gone = data.get("unpublished")
        if isinstance(gone, int) and gone in self.members:
            self.members[gone].publishing = False
            self.members[gone].talking = False
        for key in ("leaving", "kicked"):
            left = data.get(key)
            if isinstance(left, int):
                self.members.pop(left, None)
                self.muted.discard(left)

    def participants(self) -> list[Participant]:
        return [
            Participant(
                feed=feed,
                display=m.display,
                talking=m.talking,
                publishing=m.publishing,
                muted=feed in self.muted,
            )
            for feed, m in sorted(self.members.items())
        ]
