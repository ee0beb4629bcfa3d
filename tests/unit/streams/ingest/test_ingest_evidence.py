"""The packet ring and the evidence writers, on a real H.264 stream encoded in the test.

(The same code against the RTSP simulator is in tests/integration/streams/ingest/test_evidence.py.)
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.frame import VideoFrame
from PIL import Image

from streams.ingest.evidence import (
    ClipTemplate,
    EvidenceError,
    PacketRing,
    RingPacket,
    evidence_name,
    write_clip,
    write_snapshot,
)

FPS = 25
GOP = 50
W, H = 160, 120


def encode(seconds: float) -> bytes:
    """A real H.264 stream in MP4: 25 fps, a key frame every 50 frames, moving content."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        s = out.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.codec_context.gop_size = GOP
        s.codec_context.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "sc_threshold": "0",
        }
        for i in range(int(seconds * FPS)):
            img = np.zeros((H, W, 3), np.uint8)
            img[:, (i * 3) % W :] = 200
            img[: H // 4, :] = i % 256
            f = VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = i
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return buf.getvalue()


@pytest.fixture(scope="module")
def video() -> bytes:
    return encode(12.0)


def fill(ring: PacketRing, data: bytes, skip_first: int = 0) -> tuple[ClipTemplate, int]:
    """Demux `data` into `ring` like the decode thread does; returns (template, packets)."""
    n = 0
    with av.open(io.BytesIO(data), "r") as inp:
        vs = inp.streams.video[0]
        template = ClipTemplate.from_stream(vs)
        ring.begin(template)
        for i, pkt in enumerate(inp.demux(vs)):
            if pkt.size == 0 or i < skip_first:
                continue
            ring.keep(pkt)
            n += 1
    return template, n


def decode_all(path: Path) -> list[VideoFrame]:
    with av.open(str(path)) as c:
        return list(c.decode(video=0))


def test_ring_keeps_about_max_seconds_from_a_key_frame(video: bytes) -> None:
    ring = PacketRing(max_seconds=5.0)
    fill(ring, video)
    src = ring.clip(100.0)
    assert src is not None
    assert src.packets[0].keyframe
    # covers at least 5 s, and at most 5 s plus one GOP (2 s)
    assert 5.0 <= ring.span_s() <= 7.0
    assert 5.0 <= src.duration_s <= 7.0


def test_ring_is_bounded_by_bytes(video: bytes) -> None:
    unbounded = PacketRing(max_seconds=60.0)
    fill(unbounded, video)
    limit = unbounded.nbytes // 3
    ring = PacketRing(max_seconds=60.0, max_bytes=limit)
    fill(ring, video)
    assert 0 < ring.nbytes <= limit
    src = ring.clip(60.0)
    assert src is not None and src.packets[0].keyframe


def test_one_gop_larger_than_the_byte_bound_keeps_nothing(video: bytes) -> None:
    ring = PacketRing(max_seconds=60.0, max_bytes=100)
    fill(ring, video)
    assert ring.nbytes == 0
    assert ring.clip(10.0) is None


def test_packets_before_the_first_key_frame_are_ignored(video: bytes) -> None:
    ring = PacketRing(max_seconds=60.0)
    fill(ring, video, skip_first=10)  # joins mid-GOP, like a camera joined mid-stream
    src = ring.clip(60.0)
    assert src is not None
    assert src.packets[0].keyframe
    assert len(src.packets) == 12 * FPS - GOP  # the first (incomplete) GOP is dropped


def test_clip_starts_at_the_key_frame_at_or_before_the_start(video: bytes) -> None:
    ring = PacketRing(max_seconds=60.0)
    fill(ring, video)
    src = ring.clip(3.0)  # last 3 s of 12 s: starts at 9 s -> key frame at 8 s
    assert src is not None
    assert src.packets[0].keyframe
    assert len(src.packets) == 4 * FPS
    assert 3.0 <= src.duration_s <= 3.0 + GOP / FPS


def test_empty_ring_has_no_clip() -> None:
    ring = PacketRing(max_seconds=5.0)
    assert ring.clip(5.0) is None
    assert ring.span_s() == 0.0


def test_new_session_and_backwards_timestamps_restart_the_ring(video: bytes) -> None:
    ring = PacketRing(max_seconds=60.0)
    template, _ = fill(ring, video)
    src = ring.clip(60.0)
    assert src is not None
    first = src.packets[0]
    ring.add(RingPacket(first.data, 0, 0, True))  # clock restarted
    after = ring.clip(60.0)
    assert after is not None and len(after.packets) == 1
    ring.begin(template)
    assert ring.clip(60.0) is None


@pytest.mark.parametrize(("seconds", "bytes_"), [(0.0, 10), (5.0, 0)])
def test_bad_ring_bounds_are_refused(seconds: float, bytes_: int) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        PacketRing(seconds, bytes_)


def test_clip_remuxes_without_reencoding_and_has_a_matching_sidecar(
    video: bytes, tmp_path: Path
) -> None:
    ring = PacketRing(max_seconds=60.0)
    fill(ring, video)
    src = ring.clip(6.0)
    assert src is not None
    when = datetime(2026, 5, 9, 10, 15, 30, 123000).astimezone()
    old_umask = os.umask(0o022)
    try:
        path = write_clip(src, tmp_path / "evidence", "cam 3/入口", "东门 3 号", when)
    finally:
        os.umask(old_umask)
    assert path.name == "cam_3_20260509-101530_123.mp4"
    frames = decode_all(path)
    assert len(frames) == len(src.packets) == 8 * FPS
    assert frames[0].pts == 0  # rebased
    assert frames[0].time == 0.0
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        assert (vs.codec_context.name, vs.width, vs.height) == ("h264", W, H)
        assert c.metadata.get("title") == "东门 3 号"
        # the same bytes as the ring: a remux, not a re-encode
        remuxed = [bytes(p) for p in c.demux(vs) if p.size]
    assert [len(p) for p in remuxed] == [len(p.data) for p in src.packets]
    sidecar = path.with_name(path.name + ".sha256")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sidecar.read_text() == f"{digest}  {path.name}\n"
    assert [p.name for p in (tmp_path / "evidence").iterdir() if p.name.startswith(".")] == []
    # evidence at rest is the officer's only (issue 12, hole 5), whatever the umask (022 here)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (path.parent, path, sidecar)}
    assert modes == {"evidence": 0o700, path.name: 0o600, sidecar.name: 0o600}


def test_second_clip_in_the_same_millisecond_gets_its_own_name(
    video: bytes, tmp_path: Path
) -> None:
    ring = PacketRing(max_seconds=60.0)
    fill(ring, video)
    src = ring.clip(2.0)
    assert src is not None
    when = datetime(2026, 5, 9, 10, 15, 30).astimezone()
    a = write_clip(src, tmp_path, "cam1", "n", when)
    b = write_clip(src, tmp_path, "cam1", "n", when)
    assert a != b and a.exists() and b.exists()
    assert b.name == "cam1_20260509-101530_000-2.mp4"


def test_unwritable_folder_is_a_clear_error(video: bytes, tmp_path: Path) -> None:
    ring = PacketRing(max_seconds=60.0)
    fill(ring, video)
    src = ring.clip(2.0)
    assert src is not None
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(EvidenceError, match="cannot create evidence folder"):
        write_clip(src, blocker / "sub", "cam1", "n", datetime.now().astimezone())
    assert blocker.read_text() == "not a folder"  # nothing lost


def test_snapshot_png_has_full_size_and_metadata(video: bytes, tmp_path: Path) -> None:
    with av.open(io.BytesIO(video), "r") as c:
        frame = next(iter(c.decode(video=0)))
    when = datetime(2026, 5, 9, 8, 0, 1, 500000).astimezone()
    path = write_snapshot(frame, tmp_path, "cam2", "西街 2 号", when)
    assert path.suffix == ".png" and stat.S_IMODE(path.stat().st_mode) == 0o600
    with Image.open(path) as img:
        assert img.size == (W, H)
        assert img.format == "PNG"
        text = img.text  # type: ignore[attr-defined]
    assert text["Title"] == "西街 2 号"
    assert text["CameraId"] == "cam2"
    assert datetime.fromisoformat(text["CreationTime"]) == when


def test_evidence_name_is_safe() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 6000)
    assert evidence_name("../../etc", when, ".png") == "etc_20260102-030405_006.png"
    assert evidence_name("", when, ".mp4").startswith("camera_")


def test_template_copies_time_base(video: bytes) -> None:
    with av.open(io.BytesIO(video)) as c:
        vs = c.streams.video[0]
        t = ClipTemplate.from_stream(vs)
        assert vs.time_base is not None
        expected = Fraction(vs.time_base)
    # the input container is closed: the template must still be usable
    assert t.time_base == expected
    assert (t.stream.width, t.stream.height) == (W, H)
