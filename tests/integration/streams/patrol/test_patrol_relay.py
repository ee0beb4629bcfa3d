"""The patrol through a real relay in front of a real hall-camsim, counted at the cameras.

Five cameras behind one relay: one watched by a viewer (a PyAV session on the relay, as a
console tile), one hung (socket open, no answer), one killed, one unreachable (its
connection never completes), one idle. One round of the
real patrol (`patrol_round` with the relay's targets, `?patrol=1`, the relay's states to
explain refusals): the watched camera is probed from the relay's pull (no new session at
the camera), the idle one costs exactly one session which the relay drops `probe_idle_s`
after the probe (not `idle_s`), the hung and the unreachable ones are marked `timeout` and
the killed one `refused`, from the relay's word on them, and the viewer's upstream stays live.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import av
import pytest

from streams.patrol.relayed import probe_url
from streams.patrol.runner import PatrolTarget, patrol_round
from streams.patrol.types import OfflineReason
from streams.quality.diagnosis import load_thresholds
from streams.relay.server import RelayServer
from streams.relay.spec import MountSpec, RelaySpec
from streams.relay.states import UpstreamState
from streams.simulator import CamSim
from tests.bench.patrol import black_hole
from tests.kit.wait import wait_until

pytestmark = pytest.mark.integration

WATCHED, IDLE, HUNG, KILLED, UNREACHABLE = "cam1", "cam2", "cam3", "cam4", "cam5"


@pytest.fixture
def sim() -> Iterator[CamSim]:
    with CamSim(cameras=4, mass=True) as s:  # start() waits for READY, stop() on exit
        yield s


class Viewer:
    """A console tile's session on the relay: reads packets until stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.packets = 0
        self.keys = 0  # of them key frames
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        opts = {"rtsp_transport": "tcp", "analyzeduration": "500000", "probesize": "65536"}
        with av.open(self.url, options=opts, timeout=(20.0, 10.0)) as c:
            for p in c.demux(video=0):
                if p.size == 0:
                    continue  # the demuxer's flush packet
                self.packets += 1
                self.keys += bool(p.is_keyframe)
                if self._stop.is_set():
                    return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15.0)


def test_a_round_through_the_relay_counted_at_the_cameras(sim: CamSim) -> None:
    hole, filler, port = black_hole()  # a camera unreachable: its connection never completes
    unreachable = MountSpec(UNREACHABLE, "sub", f"rtsp://127.0.0.1:{port}/{UNREACHABLE}/sub")
    spec = RelaySpec(
        (*(MountSpec(c, "sub", sim.url(c)) for c in sim.camera_ids), unreachable),
        idle_s=60.0,
        probe_idle_s=1.0,
        open_timeout_s=5.0,
    )
    relay = RelayServer(spec)
    relay.start(timeout_s=30.0)
    viewer = Viewer(relay.url(WATCHED))
    try:
        viewer.start()
        wait_until(lambda: viewer.packets > 10, 30, what="the viewer's packets")
        sim.hang(HUNG)
        sim.kill(KILLED)
        opened = {c: sim.sessions(c)[0] for c in (WATCHED, IDLE)}
        cams = [*sim.camera_ids, UNREACHABLE]
        targets = [PatrolTarget(c, probe_url(relay.url(c)), "r1") for c in cams]
        checks = {
            c.camera: c
            for c in patrol_round(
                targets,
                clock=lambda: datetime.now(UTC),
                thresholds=load_thresholds(),
                concurrency=1,
                relay_concurrency=4,
                upstream_of=lambda _via, cam: relay.upstream(cam),
            )
        }
        assert checks[WATCHED].online and checks[IDLE].online, checks
        assert checks[HUNG].reason is OfflineReason.TIMEOUT, checks[HUNG]
        assert checks[UNREACHABLE].reason is OfflineReason.TIMEOUT, checks[UNREACHABLE]
        assert checks[KILLED].reason is OfflineReason.REFUSED, checks[KILLED]
        assert checks[KILLED].detail.startswith("relay: "), checks[KILLED]
        # the watched camera: probed from the relay's pull, no new session at the camera
        assert sim.sessions(WATCHED)[0] == opened[WATCHED]
        assert relay.pulls(WATCHED) == 1
        # the idle camera: one session for the probe, dropped soon after it (probe_idle_s)
        assert sim.sessions(IDLE)[0] == opened[IDLE] + 1
        assert relay.pulls(IDLE) == 1
        wait_until(lambda: sim.sessions(IDLE)[1] == 0, 20, what="the probe's session closed")
        up = relay.upstream(IDLE)
        assert up is not None and up.state is UpstreamState.IDLE
        # a failed camera nobody watches stays failed with its error (the patrol's reason)
        failed = relay.upstream(KILLED)
        assert failed is not None and failed.state is UpstreamState.FAILED and failed.error
        # the viewer's upstream was never dropped
        watched = relay.upstream(WATCHED)
        assert watched is not None and watched.state is UpstreamState.LIVE
        assert sim.sessions(WATCHED)[1] == 1
    finally:
        viewer.stop()
        relay.stop()
        hole.close()
        filler.close()


def test_a_probe_only_upstream_passes_key_frames_until_a_viewer_comes(sim: CamSim) -> None:
    """The relay pulls a camera only probes asked for key frames only (the deltas are
    dropped before its Python sees them); a viewer joining gets the full stream from the
    next key frame, on the same single session at the camera."""
    spec = RelaySpec(
        tuple(MountSpec(c, "sub", sim.url(c)) for c in sim.camera_ids),
        idle_s=60.0,
        probe_idle_s=0.0,
        open_timeout_s=5.0,
    )
    opened = sim.sessions(IDLE)[0]
    with RelayServer(spec) as relay:
        prober = Viewer(probe_url(relay.url(IDLE)))  # a probe that stays (decodes nothing)
        viewer = Viewer(relay.url(IDLE))
        try:
            prober.start()
            wait_until(lambda: prober.keys >= 3, 30, what="the probe's key frames")
            # 25 frames a second at the camera; key frames (one in 50) only to the probe
            assert prober.packets == prober.keys, (prober.packets, prober.keys)
            viewer.start()
            wait_until(lambda: viewer.packets > 60, 30, what="the viewer's frames")
            assert viewer.keys < viewer.packets // 10  # deltas flow for the viewer
            assert prober.packets > prober.keys  # and now to the probe's media too
            assert sim.sessions(IDLE)[0] == opened + 1  # one session at the camera
            assert relay.pulls(IDLE) == 1
        finally:
            viewer.stop()
            prober.stop()
