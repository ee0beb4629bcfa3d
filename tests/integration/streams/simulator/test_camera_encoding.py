"""The simulator's camera-like encoding, measured against a real camera-profile encode.

The reference is the same scene (the simulator's own picture code, same seed and size)
encoded in the test with PyAV's libx264 the way a camera sends it: High profile, CABAC,
deblocking, ~2 Mbit/s with a one-second VBV, a key frame every 2 s, no B-frames. Both
are decoded single-threaded (as the wall decodes) in turns; the simulator's stream must
cost about what the reference costs. Also: the stream's SPS says High and its PPS has
CABAC and the 8x8 transform on; x264's SEI says deblocking is on; an H.265 main stream
decodes and goes through the wall's ingest (live frames with readable stamps, an
evidence clip).
"""

from __future__ import annotations

import statistics
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.codec.context import CodecContext
from av.video.codeccontext import VideoCodecContext

from streams.ingest.rtsp import CameraStream
from streams.ingest.stamp import decode_stamp, stamp_row, strip_height
from streams.ingest.types import CameraState, CameraStatus, StreamProfile
from streams.simulator import CamSim
from streams.simulator.picture import PictureSource

pytestmark = pytest.mark.integration

FRAMES = 100  # 4 s: two key frames
OPTIONS = {"rtsp_transport": "tcp", "analyzeduration": "500000", "probesize": "65536"}
# decode cost of the simulator's stream over the reference's: a broad band (the same
# features at about the same bit rate decode at about the same cost)
RATIO_BAND = (0.6, 1.7)


def grab_packets(url: str, count: int) -> tuple[list[bytes], str, str | None]:
    """`count` packets from the first key frame on, the codec's name and profile."""
    with av.open(url, options=OPTIONS, timeout=(5.0, 5.0)) as c:
        vs = c.streams.video[0]
        name, profile = vs.codec_context.name, vs.codec_context.profile
        got: list[bytes] = []
        for p in c.demux(vs):
            if p.size == 0 or (not got and not p.is_keyframe):
                continue
            got.append(bytes(p))
            if len(got) >= count:
                break
    return got, name, profile


def reference_packets(width: int, height: int, seed: int) -> list[bytes]:
    """The simulator's scene encoded by libx264 as a camera's encoder would."""
    pic = PictureSource(width, height, seed=seed, strip_rows=strip_height(height))
    enc = CodecContext.create("libx264", "w")
    assert isinstance(enc, VideoCodecContext)
    enc.width, enc.height, enc.pix_fmt = width, height, "yuv420p"
    enc.framerate = Fraction(25)
    enc.time_base = Fraction(1, 25)
    enc.bit_rate = 2_000_000
    enc.options = {
        "preset": "fast",
        "profile": "high",
        "x264-params": "keyint=50:min-keyint=50:scenecut=0:bframes=0:"
        "vbv-maxrate=2000:vbv-bufsize=2000",
    }
    out: list[bytes] = []
    t0 = 1_700_000_000_000
    for i in range(FRAMES):
        raw = pic.frame(i, stamp_row(t0 + 40 * i, width))
        arr = np.frombuffer(raw, np.uint8).reshape(height * 3 // 2, width)
        frame = av.VideoFrame.from_ndarray(arr, format="yuv420p")
        frame.pts = i
        out += [bytes(p) for p in enc.encode(frame)]
    out += [bytes(p) for p in enc.encode(None)]
    return out


def decode_ms(packets: list[bytes], codec: str) -> float:
    """Decode time per frame, one thread, fresh decoder."""
    dec = CodecContext.create(codec, "r")
    dec.thread_count = 1
    frames = 0
    t0 = time.perf_counter()
    for data in packets:
        frames += len(dec.decode(av.Packet(data)))
    frames += len(dec.decode(None))
    assert frames >= len(packets) - 2, (frames, len(packets))
    return (time.perf_counter() - t0) * 1000 / frames


def nal_units(packets: list[bytes]) -> list[bytes]:
    units = []
    for data in packets:
        units += [u.lstrip(b"\x00") for u in data.split(b"\x00\x00\x01") if u.strip(b"\x00")]
    return units


class Bits:
    """An RBSP bit reader (emulation prevention bytes removed)."""

    def __init__(self, nal: bytes) -> None:
        self.data = nal[1:].replace(b"\x00\x00\x03", b"\x00\x00")
        self.pos = 0
        as_int = int.from_bytes(self.data, "big")
        self.last_one = len(self.data) * 8 - (as_int & -as_int).bit_length()  # the stop bit

    def u(self, n: int = 1) -> int:
        v = 0
        for _ in range(n):
            v = (v << 1) | ((self.data[self.pos // 8] >> (7 - self.pos % 8)) & 1)
            self.pos += 1
        return v

    def ue(self) -> int:
        zeros = 0
        while self.u() == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)

    def more_data(self) -> bool:
        return self.pos < self.last_one


def pps_flags(pps: bytes) -> dict[str, int]:
    """CABAC, deblocking control and the 8x8 transform from an H.264 PPS."""
    b = Bits(pps)
    b.ue(), b.ue()  # pps id, sps id
    flags = {"cabac": b.u()}
    b.u()  # bottom field pic order
    assert b.ue() == 0  # no slice groups
    b.ue(), b.ue(), b.u(), b.u(2)  # ref idx l0, l1, weighted pred, bipred
    b.ue(), b.ue(), b.ue()  # pic init qp, qs, chroma qp offset (se: the size is what counts)
    flags["deblocking_control"] = b.u()
    b.u(), b.u()  # constrained intra, redundant pic cnt
    flags["transform_8x8"] = b.u() if b.more_data() else 0
    return flags


def test_camera_stream_is_high_cabac_and_decodes_like_a_camera_encode(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with CamSim(cameras=1, encoding="camera") as sim:
        packets, name, profile = grab_packets(sim.url("cam1", "main"), FRAMES)
    assert (name, profile) == ("h264", "High")
    units = nal_units(packets)
    sps = [u for u in units if u[0] & 0x1F == 7]
    pps = [u for u in units if u[0] & 0x1F == 8]
    assert sps and pps, "parameter sets are sent with the key frames"
    assert sps[0][1] == 100  # profile_idc: High
    assert pps_flags(pps[0]) == {"cabac": 1, "deblocking_control": 1, "transform_8x8": 1}
    # the encoder's own record of its settings (x264's SEI with every key frame)
    sei = b"".join(u for u in units if u[0] & 0x1F == 6 and b"x264 - core" in u)
    assert b" cabac=1 " in sei and b" deblock=1:" in sei and b" 8x8dct=1 " in sei
    assert b" bframes=0 " in sei and b" keyint=50 " in sei
    kbps = sum(len(p) for p in packets) * 8 / (len(packets) / 25) / 1000

    reference = reference_packets(1280, 720, seed=1)
    ref_kbps = sum(len(p) for p in reference) * 8 / (len(reference) / 25) / 1000
    sim_ms, ref_ms = [], []
    for _ in range(3):  # in turns: a load spike hits both
        sim_ms.append(decode_ms(packets, "h264"))
        ref_ms.append(decode_ms(reference, "h264"))
    ratio = min(sim_ms) / min(ref_ms)
    with capsys.disabled():
        print(
            f"\nsimulator 720p main: {kbps:.0f} kbit/s, decode {min(sim_ms):.2f} ms/frame; "
            f"libx264 camera profile: {ref_kbps:.0f} kbit/s, {min(ref_ms):.2f} ms/frame; "
            f"ratio {ratio:.2f}"
        )
    assert 800 <= kbps <= 4500, kbps  # a camera's main-stream rate
    assert RATIO_BAND[0] <= ratio <= RATIO_BAND[1], (sim_ms, ref_ms)


def test_h265_main_stream_decodes_and_the_ingest_takes_it(tmp_path: Path) -> None:
    with CamSim(cameras=1, codec="h265") as sim:
        packets, name, profile = grab_packets(sim.url("cam1", "main"), 30)
        assert (name, profile) == ("hevc", "Main")
        assert decode_ms(packets, "hevc") > 0
        _, sub_name, sub_profile = grab_packets(sim.url("cam1", "sub"), 5)
        assert (sub_name, sub_profile) == ("h264", "High")  # small streams stay H.264

        live = threading.Event()

        def on_status(s: CameraStatus) -> None:
            if s.state is CameraState.LIVE:
                live.set()

        main = StreamProfile("main", sim.url("cam1", "main"), 1280, 720)
        stream = CameraStream("cam1", [main], on_status=on_status)
        stream.start()
        try:
            assert live.wait(15), stream.status()
            deadline = time.monotonic() + 20
            while stream.evidence_seconds() < 4.5:
                assert time.monotonic() < deadline, stream.evidence_seconds()
                time.sleep(0.3)
            st = stream.status()  # the rate is the machine's (x265 takes ~half a core)
            assert st.stream == "main" and st.stats.frames > 10, st
            frame = stream.latest()
            assert frame is not None and decode_stamp(frame.image) is not None
            clip = stream.save_clip(tmp_path, "南桥 3 号", seconds=4)
        finally:
            stream.stop()
    with av.open(str(clip)) as c:
        vs = c.streams.video[0]
        assert vs.codec_context.name == "hevc"
        frames = list(c.decode(vs))
    # x265 needs about half a core for 25 fps: a loaded machine gets fewer frames
    assert len(frames) >= 10 and (frames[-1].time or 0.0) >= 3.0, len(frames)
    stamps = [decode_stamp(np.asarray(f.to_ndarray(format="gray"), np.uint8)) for f in frames]
    assert statistics.mean(s is not None for s in stamps) > 0.9
