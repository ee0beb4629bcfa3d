"""Open an event's playback: its place's cameras from a minute before its report.

A camera alarm's own camera, else the hub's nearest cameras of the event's place (the
same choice as the wall's linkage, `EventQueueController.link_video`).
"""

from __future__ import annotations

from console.events.controller import EventQueueController, camera_of
from console.playback.controller import PlaybackController
from dispatch.tasks.messages import DispatchPreviewReply


def open_event_playback(
    events: EventQueueController, playback: PlaybackController, event_id: str
) -> bool:
    """Ask for the event's cameras and play them back; False when the event is unknown."""
    row = events.model.row(event_id)
    if row is None:
        return False
    title = row.event.title
    reported_ms = int(row.event.reported_at.timestamp() * 1000)
    cam = camera_of(row.event)
    if cam is not None:
        playback.open_for_event(event_id, title, (cam,), reported_ms)
        return True

    def got(rep: DispatchPreviewReply | None) -> None:
        if rep is not None:
            cams = tuple(c.camera_id for c in rep.cameras)
            playback.open_for_event(event_id, title, cams, reported_ms)

    events.preview(event_id, got)
    return True
