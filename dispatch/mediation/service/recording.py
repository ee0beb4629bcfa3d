"""Recording control: one fragmented MP4 per stretch of recording, of every admitted
participant's incoming media (taps on the room), labelled with role and name.

A recording resumed after a hub restart goes on in a new file (`<session>-<n>.mp4`)
beside the one the crash cut short; every file is listed on the session.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from aiortc.mediastreams import MediaStreamTrack

from dispatch.mediation.messages import RecordingOut
from dispatch.mediation.service.pushes import Push
from dispatch.mediation.service.sessions import MediationSession
from streams.private import private_dir
from streams.webrtc.recorder import Recorder


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


Source = tuple[str, MediaStreamTrack | None, MediaStreamTrack | None]


def record_sources(sess: MediationSession) -> list[Source]:
    """(label, video tap, audio tap) of each admitted participant with media."""
    out: list[Source] = []
    for p in sess.participants.values():
        if p.removed or not p.admitted:
            continue
        v = sess.room.tap("recorder", p.id, "video")
        a = sess.room.tap("recorder", p.id, "audio")
        if v is not None or a is not None:
            out.append((f"{p.label} {p.name}", v, a))
    return out


class Recording:
    """Starts and stops the recorders of sessions; tells the pages (`broadcast`)."""

    def __init__(self, record_dir: Path, broadcast: Callable[[str, Push], None]) -> None:
        self.record_dir = record_dir
        self._broadcast = broadcast

    def follow(self, sess: MediationSession) -> None:
        """The recorder (if running) takes the room's current participants."""
        if sess.recorder is not None:
            sess.recorder.set_sources(record_sources(sess))

    async def start(self, sess: MediationSession) -> None:
        if sess.recorder is not None:
            return
        private_dir(self.record_dir)
        n = len(sess.recordings) + 1
        path = self.record_dir / f"{sess.id}-{n}.mp4"
        rec = Recorder(path)
        rec.set_sources(record_sources(sess))
        await rec.start()
        sess.recorder = rec
        sess.recordings.append(path)
        self._broadcast(sess.id, RecordingOut(on=True))

    async def stop(self, sess: MediationSession) -> None:
        rec, sess.recorder = sess.recorder, None
        if rec is None:
            return
        await rec.stop()
        self._broadcast(sess.id, RecordingOut(on=False))
