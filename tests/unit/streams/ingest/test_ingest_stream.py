"""CameraStream without a network: argument checks, and its state machine on a real file.

A file ends like a camera that closes its session (end of stream), so it exercises the
offline -> retrying -> connecting -> live cycle with real PyAV decoding. The RTSP faults
(refused, hung, 401, 404) are in tests/integration/streams/ingest/test_ingest.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.frame import VideoFrame
from PIL import Image

from streams.ingest.decode import RateWindow
from streams.ingest.evidence import EvidenceError
from streams.ingest.rtsp import CameraStream
from streams.ingest.types import CameraState, CameraStatus, StreamProfile

W, H = 320, 240


@pytest.fixture(scope="module")
def video_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "cam.mp4"
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.codec_context.gop_size = 25
        s.codec_context.options = {"preset": "ultrafast", "sc_threshold": "0"}
        for i in range(50):
            img = np.full((H, W, 3), 90, np.uint8)
            img[:, (i * 5) % W :] = 220
            f = VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = i
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


class Recorder:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.items: list[CameraStatus] = []

    def __call__(self, status: CameraStatus) -> None:
        with self.cond:
            self.items.append(status)
            self.cond.notify_all()

    def wait_for(self, state: CameraState, timeout: float = 10.0) -> CameraStatus:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for s in self.items:
                    if s.state is state:
                        return s
                left = deadline - time.monotonic()
                assert left > 0, f"no {state} within {timeout} s: {[s.state for s in self.items]}"
                self.cond.wait(left)


def test_constructor_checks_arguments_and_does_no_io() -> None:
    p = [StreamProfile("sub", "rtsp://127.0.0.1:1/none", 704, 576)]
    with pytest.raises(ValueError, match="no stream profiles"):
        CameraStream("cam1", [])
    with pytest.raises(ValueError, match="target size must be positive"):
        CameraStream("cam1", p, target_size=(0, 10))
    with pytest.raises(ValueError, match="timeouts must be positive"):
        CameraStream("cam1", p, read_timeout_s=0)
    with pytest.raises(ValueError, match="transport"):
        CameraStream("cam1", p, transport="sctp")
    threads = threading.active_count()
    s = CameraStream("cam1", p)
    assert threading.active_count() == threads
    assert s.status().state is CameraState.IDLE
    assert s.latest() is None and s.take(0) is None
    with pytest.raises(ValueError, match="target size must be positive"):
        s.set_target_size(-1, 5)
    s.stop()  # before start: a no-op
    s.stop()


def test_nothing_to_save_is_a_clear_error(tmp_path: Path) -> None:
    s = CameraStream("cam3", [StreamProfile("sub", "rtsp://127.0.0.1:1/x", 704, 576)])
    with pytest.raises(EvidenceError, match="camera cam3 is not live: no frames to save"):
        s.snapshot(tmp_path, "三号")
    with pytest.raises(EvidenceError, match="camera cam3 is not live"):
        s.save_clip(tmp_path, "三号")
    assert s.evidence_seconds() == 0.0
    assert list(tmp_path.iterdir()) == []


def test_end_of_stream_is_a_disconnect_and_is_retried_fast(video_file: Path) -> None:
    rec = Recorder()
    s = CameraStream(
        "cam1", [StreamProfile("sub", str(video_file), W, H)], target_size=(160, 120), on_status=rec
    )
    s.start()
    try:
        live = rec.wait_for(CameraState.LIVE)
        assert live.stream == "sub"
        offline = rec.wait_for(CameraState.OFFLINE)
        assert "end of stream" in offline.last_errors[-1]
        retrying = rec.wait_for(CameraState.RETRYING)
        assert retrying.retry_in_s is not None and 0 < retrying.retry_in_s <= 0.25
        deadline = time.monotonic() + 10
        while s.status().stats.reconnects < 2:
            assert time.monotonic() < deadline, s.status()
            time.sleep(0.05)
        f = s.latest()
        assert f is not None
        assert f.image.shape == (120, 160, 4)
        assert (f.source_width, f.source_height) == (W, H)
        st = s.status()
        assert st.stats.frames >= 100  # two passes over the 50-frame file
        assert st.stats.decode_ms > 0
        # the CPU spent decoding and scaling, summed for the bench's cost a frame
        assert st.stats.decode_cpu_s > 0 and st.stats.scale_cpu_s > 0
        assert st.stats.decode_cpu_s >= st.stats.decode_ms / 1000  # a sum, not a median
        assert len(st.last_errors) <= 5
    finally:
        s.stop()
    assert s.status().state is CameraState.IDLE
    assert not s.running


def test_missing_source_is_offline_with_a_reason(tmp_path: Path) -> None:
    rec = Recorder()
    s = CameraStream(
        "cam1", [StreamProfile("sub", str(tmp_path / "nope.mp4"), W, H)], on_status=rec
    )
    s.start()
    try:
        st = rec.wait_for(CameraState.OFFLINE)
        assert "No such file" in st.last_errors[-1]
    finally:
        s.stop()


def test_snapshot_and_keyframes_label_on_a_decoded_file(video_file: Path, tmp_path: Path) -> None:
    rec = Recorder()
    s = CameraStream("cam1", [StreamProfile("sub", str(video_file), W, H)], on_status=rec)
    s.set_keyframes_only(True)
    s.start()
    try:
        live = rec.wait_for(CameraState.LIVE)
        assert live.stream == "sub+key"
        path = s.snapshot(tmp_path, "一号")
    finally:
        s.stop()
    with Image.open(path) as img:
        assert img.size == (W, H)
    s.set_keyframes_only(False)
    assert s.status().stream == "sub"


def test_start_after_nonjoining_stop_runs_one_thread(video_file: Path) -> None:
    s = CameraStream("camX", [StreamProfile("sub", str(video_file), W, H)])
    s.start()
    s.stop(join=False)
    s.start()
    try:
        assert s.running
        names = [t.name for t in threading.enumerate() if t.name == "ingest-camX"]
        assert len(names) == 1
    finally:
        s.stop()
    assert not s.running


def test_window_rates() -> None:
    w = RateWindow(2.0)
    assert w.rate(0.0) == (0.0, 0.0)
    for i in range(51):  # 25 events per second with 1000 bytes each, for 2 s
        w.add(i * 0.04, 1000.0)
    fps, bps = w.rate(2.0)
    assert fps == pytest.approx(25.0, rel=0.01)
    assert bps == pytest.approx(25_000.0, rel=0.01)
    assert w.rate(10.0) == (0.0, 0.0)  # all expired
