"""A meeting's recording: Janus's per-publisher `.mjr` files (the videoroom records every
stream of every publisher with `record = true`) turned into one MP4 with `janus-pp-rec`
(Debian `janus-tools`) and PyAV: the speaker's picture (H.264) and every voice mixed
(AAC), each placed at the time Janus started recording it; then its SHA-256.

`finish_recording(folder, speaker_feed=None, cut=None)` → `(mp4_path, sha256_hex)`. With a
`Cut` (`recording_cut`: every feed's name and the floor's changes from the meeting's log)
the picture follows the floor: the convenor alone, and while a township has the floor the
convenor and that township side by side. Without one, one picture: the given feed's, else
the one recorded longest (the convenor is there from the first minute to the last). The
`.mjr` files stay beside the MP4 (evidence as received).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from dispatch.meetings.janus.recording_cut import Segment, compose
from dispatch.meetings.media import RecordingCut as Cut

PP_REC = "janus-pp-rec"
RATE = 48_000
MP4_NAME = "meeting.mp4"
# videoroom-<room>-user-<feed>-<time>-<audio|video>-<mid>.mjr (Janus 1.x names)
_NAME = re.compile(r"-user-(?P<feed>\d+)-(?P<ts>\d+)-(?P<kind>audio|video)(?:-(?P<mid>\w+))?\.mjr$")


class RecordingError(RuntimeError):
    """The recording cannot be made (nothing recorded, a tool failed: its output)."""


@dataclass(frozen=True)
class Track:
    path: Path  # the .mjr
    feed: int
    kind: str  # audio | video
    start_us: int  # when Janus started writing it (header "u", else "s")


def parse_name(path: Path) -> tuple[int, str] | None:
    m = _NAME.search(path.name)
    return (int(m["feed"]), m["kind"]) if m else None


def _run(args: list[str], timeout_s: float = 300) -> str:
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s)
    if r.returncode != 0:
        raise RecordingError(f"{' '.join(args)}: {r.returncode}\n{r.stderr[-2000:]}")
    return r.stdout


def header(path: Path) -> dict[str, object]:
    """janus-pp-rec's JSON header of a .mjr (t: a/v, c: codec, s/u: start µs)."""
    out = _run([PP_REC, "-j", str(path)])
    start = out.find("{")
    if start < 0:
        raise RecordingError(f"{path.name}: no header")
    data = json.loads(out[start : out.rindex("}") + 1])
    if not isinstance(data, dict):
        raise RecordingError(f"{path.name}: header is not an object")
    return data


def tracks(folder: Path) -> list[Track]:
    found = []
    for p in sorted(folder.glob("*.mjr")):
        named = parse_name(p)
        if named is None:
            continue
        h = header(p)
        start = h.get("u") or h.get("s") or 0
        found.append(Track(p, named[0], named[1], int(str(start))))
    return found


def convert(track: Track) -> Path:
    """The .mjr as a playable file (.webm for VP8 video, .opus for audio)."""
    out = track.path.with_suffix(".webm" if track.kind == "video" else ".opus")
    _run([PP_REC, "-d", "0", str(track.path), str(out)])
    if not out.exists() or out.stat().st_size == 0:
        raise RecordingError(f"{track.path.name}: janus-pp-rec wrote nothing")
    return out


def _pcm(path: Path) -> np.ndarray:
    """All of an audio file as mono float32 at 48 kHz."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    chunks: list[np.ndarray] = []
    with av.open(str(path)) as c:
        for frame in c.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def mix_voices(audio: list[tuple[Path, float]]) -> np.ndarray:
    """Every voice at its offset (s) summed into one mono track (clipped to ±1)."""
    parts = [(int(off * RATE), _pcm(p)) for p, off in audio]
    total = max((o + len(x) for o, x in parts), default=0)
    mix = np.zeros(total, np.float32)
    for o, x in parts:
        mix[o : o + len(x)] += x
    return np.clip(mix, -1.0, 1.0)


def _frame_count(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.demux(video=0))


def write_mp4(out: Path, video: Path | None, video_offset_s: float, voices: np.ndarray) -> None:
    """H.264 + AAC; the picture starts at its offset (black is not drawn before it)."""
    with av.open(str(out), "w", format="mp4") as mp4:
        aus = mp4.add_stream("aac", rate=RATE, layout="mono")
        if video is not None:
            vs = mp4.add_stream("libx264", rate=25, options={"preset": "veryfast", "crf": "28"})
            vs.pix_fmt = "yuv420p"
            _put_video(mp4, vs, video, video_offset_s)
            for packet in vs.encode(None):
                mp4.mux(packet)
        _put_audio(mp4, aus, voices)


def _put_video(
    mp4: av.container.OutputContainer, vs: av.VideoStream, src: Path, off: float
) -> None:
    """A damaged packet (a layer switch of a simulcast publisher, loss) is skipped and a
    picture whose time does not move forward is dropped: the muxer refuses both."""
    vs.time_base = Fraction(1, 90_000)
    first, last = True, -1
    with av.open(str(src)) as c:
        for frame in _frames(c):
            if first:
                vs.width, vs.height = frame.width - frame.width % 2, frame.height - frame.height % 2
                first = False
            t = float(frame.time) if frame.time is not None else 0.0
            pts = int((t + off) * 90_000)
            if pts <= last:
                continue
            last = pts
            img = frame.reformat(vs.width, vs.height, format="yuv420p")
            img.pts = pts
            img.time_base = vs.time_base
            for packet in vs.encode(img):
                mp4.mux(packet)


def _frames(c: av.container.InputContainer) -> Iterator[av.VideoFrame]:
    for packet in c.demux(video=0):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            continue
        for frame in frames:
            if isinstance(frame, av.VideoFrame):
                yield frame


def _put_audio(mp4: av.container.OutputContainer, aus: av.AudioStream, voices: np.ndarray) -> None:
    step = 1024
    for i in range(0, len(voices), step):
        chunk = voices[i : i + step].reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="flt", layout="mono")
        frame.sample_rate = RATE
        frame.pts = i
        for packet in aus.encode(frame):
            mp4.mux(packet)
    for packet in aus.encode(None):
        mp4.mux(packet)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_cut_mp4(
    out: Path, found: list[Track], files: dict[Path, Path], cut: Cut, voices: np.ndarray
) -> None:
    """The picture cut by the floor (`recording_cut.compose`) and the voices (AAC)."""
    t0 = min(t.start_us for t in found) / 1e6
    segments: dict[str, list[Segment]] = {}
    for t in found:
        name = cut.names.get(t.feed)
        if t.kind == "video" and name is not None:
            segments.setdefault(name, []).append(Segment(files[t.path], t.start_us / 1e6))
    with av.open(str(out), "w", format="mp4") as mp4:
        aus = mp4.add_stream("aac", rate=RATE, layout="mono")
        compose(mp4, segments, cut, t0, len(voices) / RATE)
        _put_audio(mp4, aus, voices)


def finish_recording(
    folder: Path, speaker_feed: int | None = None, *, cut: Cut | None = None
) -> tuple[Path, str]:
    found = tracks(folder)
    if not found:
        raise RecordingError(f"{folder}: no Janus recordings (.mjr)")
    t0 = min(t.start_us for t in found)
    files = {t.path: convert(t) for t in found}
    if cut is not None:
        voices = mix_voices(
            [(files[t.path], (t.start_us - t0) / 1e6) for t in found if t.kind == "audio"]
        )
        out = folder / MP4_NAME
        write_cut_mp4(out, found, files, cut, voices)
        return out, sha256_of(out)
    videos = [t for t in found if t.kind == "video"]
    chosen = [t for t in videos if t.feed == speaker_feed] or sorted(
        videos, key=lambda t: _frame_count(files[t.path]), reverse=True
    )
    speaker = chosen[0] if chosen else None
    voices = mix_voices(
        [(files[t.path], (t.start_us - t0) / 1e6) for t in found if t.kind == "audio"]
    )
    out = folder / MP4_NAME
    offset = (speaker.start_us - t0) / 1e6 if speaker else 0.0
    write_mp4(out, files[speaker.path] if speaker else None, offset, voices)
    return out, sha256_of(out)


def finish_meeting(folder: Path, cut: Cut) -> tuple[Path, str]:
    """A meeting's recording cut by its floor (the meetings' `RoomDesk.finish`)."""
    return finish_recording(folder, cut=cut)
