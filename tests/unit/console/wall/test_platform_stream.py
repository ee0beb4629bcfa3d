"""A platform camera's tile stream (Qt-free) with a fake hub and fake decoders on a real
network thread: it asks for a URL at start, again ahead of expiry (for a URL that lives
long enough), keeps the stream when the platform answers the same URL, switches to a new
one only once the new one has a picture (frame numbers run on), and asks with `renew` when
its stream fails."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from console.kit.net import NetThread
from console.wall.platform_stream import PlatformTileStream, ahead_s
from dispatch.platform.messages import PlatformStreamReply
from streams.ingest.types import CameraState, CameraStatus, Frame
from tests.kit.wait import wait_until

IMG = np.zeros((4, 4, 4), np.uint8)


class Decoder:
    def __init__(self, url: str, on_status: Callable[[CameraStatus], None]) -> None:
        self.url, self.on_status = url, on_status
        self.seq = 0
        self.stopped = False

    def start(self) -> None:
        self.seq = 1  # a first picture at once

    def stop(self) -> None:
        self.stopped = True

    def set_target_size(self, width: int, height: int) -> None: ...
    def set_keyframes_only(self, on: bool) -> None: ...

    def stream_size(self) -> tuple[int, int]:
        return (704, 576)

    def latest(self) -> Frame | None:
        return Frame("p1", IMG, self.seq, 0.0, 0.0, 4, 4, "sub") if self.seq else None

    def take(self, after_seq: int) -> Frame | None:
        return self.latest() if self.seq > after_seq else None

    def status(self) -> CameraStatus:
        return CameraStatus("p1", CameraState.LIVE)

    def snapshot(self, folder: Path, camera_name: str) -> Path:
        return folder

    def save_clip(self, folder: Path, camera_name: str, seconds: float = 30.0) -> Path:
        return folder


def test_asks_ahead_keeps_a_same_url_switches_a_new_one_and_renews_a_failed_one() -> None:
    answers = ["rtsp://a", "rtsp://a", "rtsp://b"] + ["rtsp://b"] * 50
    asked: list[tuple[bool, float, float]] = []
    decoders: list[Decoder] = []

    async def ask(camera: str, renew: bool, min_life_s: float) -> PlatformStreamReply:
        asked.append((renew, min_life_s, time.monotonic()))
        url = answers[min(len(asked) - 1, len(answers) - 1)]
        return PlatformStreamReply(rid="r", camera_id=camera, rtsp=url, flv=None, expires_in_s=0.9)

    def open_url(url: str, size: tuple[int, int], cb: Callable[[CameraStatus], None]) -> Decoder:
        decoders.append(Decoder(url, cb))
        return decoders[-1]

    net = NetThread("test-platform-stream")
    net.start()
    statuses: list[CameraStatus] = []
    s = PlatformTileStream(
        "p1", (320, 180), statuses.append, ask=ask, open_url=open_url, submit=net.submit
    )
    try:
        s.start()
        wait_until(lambda: s.url == "rtsp://a", 5)
        first = s.take(-1)
        assert first is not None and first.seq == 1
        wait_until(lambda: len(asked) >= 2, 5)  # ahead of expiry, for a URL living long enough
        assert asked[1][0] is False and abs(asked[1][1] - 2 * ahead_s(0.9)) < 1e-9
        assert asked[1][2] - asked[0][2] >= 0.55  # not before its time (0.9 - 0.3 s)
        assert len(decoders) == 1  # the same URL: the stream plays on
        wait_until(lambda: s.url == "rtsp://b", 5)
        # the old stream is stopped off the loop, after the swap (stop joins its thread)
        wait_until(lambda: decoders[0].stopped, 5)
        assert s.urls == ["rtsp://a", "rtsp://b"]
        nxt = s.take(first.seq)
        assert nxt is not None and nxt.seq > first.seq  # numbers run on across streams
        before = len(asked)
        decoders[-1].on_status(CameraStatus("p1", CameraState.OFFLINE))  # the stream failed
        wait_until(lambda: any(a[0] for a in asked[before:]), 5)
    finally:
        s.stop()
        net.stop()
    assert all(d.stopped for d in decoders)


def test_a_failure_while_the_old_stream_stops_is_not_lost() -> None:
    """The new stream fails while the switch still waits for the old one to stop (the CI
    failure of stop 22: the failure was cleared when the switch returned)."""
    answers = ["rtsp://a", "rtsp://b"] + ["rtsp://b"] * 50
    asked: list[bool] = []
    decoders: list[Decoder] = []
    stopping, release = threading.Event(), threading.Event()

    class SlowStop(Decoder):
        def stop(self) -> None:
            stopping.set()
            release.wait(5)
            super().stop()

    async def ask(camera: str, renew: bool, min_life_s: float) -> PlatformStreamReply:
        asked.append(renew)
        url = answers[min(len(asked) - 1, len(answers) - 1)]
        return PlatformStreamReply(rid="r", camera_id=camera, rtsp=url, flv=None, expires_in_s=30)

    def open_url(url: str, size: tuple[int, int], cb: Callable[[CameraStatus], None]) -> Decoder:
        decoders.append((SlowStop if url == "rtsp://a" else Decoder)(url, cb))
        return decoders[-1]

    net = NetThread("test-platform-stream-race")
    net.start()
    s = PlatformTileStream(
        "p1", (320, 180), lambda _s: None, ask=ask, open_url=open_url, submit=net.submit
    )
    try:
        s.start()
        wait_until(lambda: s.url == "rtsp://a", 5)
        decoders[0].on_status(CameraStatus("p1", CameraState.OFFLINE))  # a fails → renew → b
        wait_until(stopping.is_set, 5)  # the switch waits for a's stop
        assert s.url == "rtsp://b"
        before = len(asked)
        decoders[1].on_status(CameraStatus("p1", CameraState.OFFLINE))  # b fails meanwhile
        release.set()
        wait_until(lambda: any(asked[before:]), 5, what="a renew ask for the failed new stream")
    finally:
        release.set()
        s.stop()
        net.stop()
