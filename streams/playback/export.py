"""Export a span of a recording as evidence: MP4 by remux (no re-encoding), SHA-256 sidecar.

The span is pulled from the recorder at x4 (every picture, four times faster than real
time), demuxed without decoding, and the packets' timestamps are stretched back by the
speed, so the MP4 plays at the recorded pace. The file and its `.sha256` are written by
`streams.ingest.evidence.write_clip` (atomically, never one without the other), named
`<camera>_<span start>.mp4`; the console attaches it to the event as today's clips.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import av

from streams.ingest.evidence import ClipSource, ClipTemplate, EvidenceError, RingPacket, write_clip
from streams.playback.nvr import playback_url
from streams.playback.player import OPTIONS

EXPORT_SPEED = 4.0
MAX_SPAN_MS = 30 * 60 * 1000


def _stretch(packet: RingPacket, base: int, speed: float) -> RingPacket:
    def at(ts: int | None) -> int | None:
        return None if ts is None else base + round((ts - base) * speed)

    return replace(packet, pts=at(packet.pts), dts=at(packet.dts))


def _fill_missing(packets: list[RingPacket]) -> list[RingPacket]:
    """The first packet of an RTSP session may come without timestamps (FFmpeg has not
    synchronised yet): it gets one a frame before the next known one."""
    known = [p.ts for p in packets if p.ts is not None]
    if len(known) < 2:
        raise EvidenceError("the recording's span is too short to export")
    step = max(1, known[1] - known[0])
    out: list[RingPacket] = []
    for i, p in enumerate(packets):
        if p.ts is None:
            later = next((q.ts for q in packets[i + 1 :] if q.ts is not None), None)
            ts = (out[-1].ts or 0) + 1 if out else (later or 0) - step
            p = replace(p, pts=ts, dts=ts)
        out.append(p)
    return out


def export_span(
    track: str,
    camera_id: str,
    camera_name: str,
    start_ms: int,
    end_ms: int,
    folder: Path,
    *,
    timeout_s: float = 10.0,
) -> Path:
    """Write `start_ms`..`end_ms` of the camera's recording to `folder`; returns the MP4."""
    if end_ms - start_ms > MAX_SPAN_MS:
        raise EvidenceError(f"camera {camera_id}: a span over 30 minutes is not exported")
    url = playback_url(track, start_ms, end_ms, EXPORT_SPEED)
    packets: list[RingPacket] = []
    try:
        with av.open(url, options=OPTIONS, timeout=(timeout_s, timeout_s)) as container:
            stream = container.streams.video[0]
            template = ClipTemplate.from_stream(stream)
            for p in container.demux(stream):
                if p.size == 0:
                    continue
                packets.append(RingPacket(bytes(p), p.pts, p.dts, bool(p.is_keyframe)))
    except av.error.FFmpegError as exc:
        raise EvidenceError(f"camera {camera_id}: the recording could not be read: {exc}") from exc
    first_key = next((i for i, p in enumerate(packets) if p.keyframe), None)
    if first_key is None:
        raise EvidenceError(f"camera {camera_id}: no recording in the span")
    packets = _fill_missing(packets[first_key:])
    base = packets[0].ts or 0
    stretched = tuple(_stretch(p, base, EXPORT_SPEED) for p in packets)
    when = datetime.fromtimestamp(start_ms / 1000, tz=UTC)
    return write_clip(ClipSource(template, stretched), folder, camera_id, camera_name, when)
