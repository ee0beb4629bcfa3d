"""The relay between a real hall-camsim and PyAV clients: one pull per camera however many
clients, the gop burst for a late client, a dead camera failed and retried by itself, an
upstream nobody watches dropped after `idle_s`."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator

import av
import pytest

from streams.relay.server import RelayServer
from streams.relay.spec import MountSpec, RelaySpec
from streams.relay.states import UpstreamState
from streams.simulator import CamSim
from tests.kit.wait import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def sim() -> Iterator[CamSim]:
    s = CamSim(cameras=2)
    s.start(timeout_s=30.0)
    try:
        yield s
    finally:
        s.stop()


def _relay(sim: CamSim, **kw: float) -> RelayServer:
    mounts = tuple(MountSpec(cam, "sub", sim.url(cam, "sub")) for cam in sim.camera_ids)
    spec = RelaySpec(
        mounts,
        idle_s=kw.get("idle_s", 1.5),
        backoff_s=0.3,
        backoff_max_s=1.0,
        open_timeout_s=10.0,  # generous: the machine may be loaded
    )
    return RelayServer(spec)


def _frames(url: str, n: int) -> int:
    opts = {"rtsp_transport": "tcp", "analyzeduration": "500000", "probesize": "65536"}
    with av.open(url, options=opts, timeout=(15.0, 8.0)) as c:
        got = 0
        for _f in c.decode(video=0):
            got += 1
            if got >= n:
                break
        return got


def _state(relay: RelayServer, cam: str) -> UpstreamState:
    return next(u.state for u in relay.states() if u.camera == cam)


def test_two_clients_one_camera_session(sim: CamSim) -> None:
    with _relay(sim) as relay:
        url = relay.url("cam1")
        before = sim.sessions("cam1")[0]
        results: list[int] = []
        threads = [
            threading.Thread(target=lambda: results.append(_frames(url, 40))) for _ in range(3)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert results == [40, 40, 40]
        assert sim.sessions("cam1")[0] - before == 1
        assert relay.pulls("cam1") == 1
        # nobody watches: dropped after idle_s, the camera's session closed
        wait_until(lambda: _state(relay, "cam1") is UpstreamState.IDLE, 10, what="idle")
        wait_until(lambda: sim.sessions("cam1")[1] == 0, 10, what="camera session closed")
        assert _state(relay, "cam2") is UpstreamState.IDLE  # never asked for: never pulled
        assert relay.pulls("cam2") == 0


def test_dead_camera_fails_then_comes_back_by_itself(sim: CamSim) -> None:
    with _relay(sim, idle_s=30.0) as relay:
        url = relay.url("cam2")
        assert _frames(url, 5) == 5
        sim.kill("cam2")
        try:
            wait_until(lambda: _state(relay, "cam2") is UpstreamState.FAILED, 10, what="failed")
            failed = next(u for u in relay.states() if u.camera == "cam2")
            assert failed.error and "rtsp://" not in failed.error
            with pytest.raises(av.error.FFmpegError):
                _frames(url, 1)  # 503 while the camera is down
        finally:
            sim.revive("cam2")
        # retried by itself (somebody watched within idle_s): live without a client
        wait_until(lambda: _state(relay, "cam2") is UpstreamState.LIVE, 15, what="live again")
        assert _frames(url, 5) == 5


def test_clients_must_give_the_relays_credentials(sim: CamSim) -> None:
    spec = RelaySpec(
        (MountSpec("cam1", "sub", sim.url("cam1", "sub")),),
        auth=("hall", "r-pw"),
        open_timeout_s=10,
    )
    with RelayServer(spec) as relay:
        url = relay.url("cam1")
        with pytest.raises(av.error.HTTPUnauthorizedError):
            _frames(url, 1)
        assert relay.pulls("cam1") == 0  # refused before the camera is asked
        assert _frames(url.replace("rtsp://", "rtsp://hall:r-pw@"), 5) == 5
        assert relay.pulls("cam1") == 1


H265_CAMERA = """
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service("0")
f = GstRtspServer.RTSPMediaFactory()
f.set_launch("( videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=25/1 "
             "! x265enc tune=zerolatency speed-preset=ultrafast key-int-max=50 "
             "! rtph265pay name=pay0 pt=96 config-interval=-1 "
             "audiotestsrc is-live=true ! mulawenc ! rtppcmupay name=pay1 )")
f.set_shared(True)
server.get_mount_points().add_factory("/h/main", f)
server.attach(None)
print("PORT", server.get_bound_port(), flush=True)
GLib.MainLoop().run()
"""


def test_an_h265_camera_with_audio_is_relayed_as_h265() -> None:
    cam = subprocess.Popen(
        ["/usr/bin/python3", "-c", H265_CAMERA], stdout=subprocess.PIPE, text=True
    )
    try:
        assert cam.stdout is not None
        port = int(cam.stdout.readline().split()[1])
        spec = RelaySpec((MountSpec("h", "main", f"rtsp://127.0.0.1:{port}/h/main"),))
        with RelayServer(spec) as relay:
            with av.open(
                relay.url("h", "main"), options={"rtsp_transport": "tcp"}, timeout=(15.0, 8.0)
            ) as c:
                stream = c.streams.video[0]
                got = 0
                for _f in c.decode(stream):
                    got += 1
                    if got >= 10:
                        break
                assert stream.codec_context.name == "hevc"
            assert got == 10 and relay.pulls("h", "main") == 1
    finally:
        cam.kill()
        cam.wait(5)
        if cam.stdout is not None:
            cam.stdout.close()
