"""`RemoteStream`'s own bookkeeping with a stand-in for the worker processes (pure logic:
segments made, grown, retired and unlinked; frame numbers across segments; the status a
lost worker leaves). The real processes are in tests/integration/streams/ingest."""

from __future__ import annotations

import os
from typing import Any, cast

import numpy as np

from streams.ingest.remote import RemoteStream
from streams.ingest.shm_slot import SlotWriter, attach
from streams.ingest.types import CameraState, CameraStatus, Frame, StreamProfile
from streams.ingest.worker_messages import Command, OpenStream, Reply, SetTarget
from streams.ingest.workers import DecodeWorkers

PROFILES = [
    StreamProfile("third", "rtsp://127.0.0.1:1/t", 640, 360),
    StreamProfile("main", "rtsp://127.0.0.1:1/m", 1280, 720),
]


class FakeWorkers:
    def __init__(self) -> None:
        self.ids = 0
        self.sent: list[Command] = []
        self.opened: list[OpenStream] = []

    def new_id(self) -> int:
        self.ids += 1
        return self.ids

    def host(self, stream_id: int, stream: Any, *, start: bool) -> None:
        cmd = stream.open_command(stream_id, False)
        assert cmd is not None
        self.opened.append(cmd)

    def unhost(self, stream_id: int, close: Command | None, timeout_s: float) -> None:
        self.sent.append(cast(Command, close))

    def send(self, stream_id: int, cmd: Command) -> bool:
        self.sent.append(cmd)
        return True

    def request(self, stream_id: int, cmd: Command, timeout_s: float) -> Reply:
        return Reply(getattr(cmd, "req_id", 0), number=12.5)


def picture(seq: int, w: int, h: int) -> Frame:
    image = np.full((h, w, 4), seq, np.uint8)
    return Frame("cam1", image, seq, 0.0, 0.0, 640, 360, "third")


def exists(name: str) -> bool:
    return os.path.exists(f"/dev/shm/{name}")


def test_segments_grow_retire_and_go_at_stop_numbers_run_on() -> None:
    fake = FakeWorkers()
    statuses: list[CameraStatus] = []
    s = RemoteStream(
        "cam1",
        PROFILES,
        cast(DecodeWorkers, fake),
        target_size=(320, 180),
        on_status=statuses.append,
    )
    s.start()
    s.start()  # idempotent
    [opened] = fake.opened
    first = opened.segment
    writer = SlotWriter(attach(first))
    writer.put(picture(1, 320, 180))
    got = s.take(0)
    assert got is not None and got.seq == 1 and got.image[0, 0, 0] == 1

    s.set_target_size(1280, 720)  # bigger than the slot: a new segment, the old one kept
    grow = fake.sent[-1]
    assert isinstance(grow, SetTarget) and grow.segment is not None
    assert exists(first.name) and exists(grow.segment.name)
    assert s.stream_size() == (1280, 720)
    assert s.take(1) is None  # nothing new in either
    writer.put(picture(2, 320, 180))  # the worker still writes the old one
    old = s.take(1)
    assert old is not None and old.seq == 2  # shown until the new one has a picture
    SlotWriter(attach(grow.segment)).put(picture(3, 1280, 720))
    new = s.take(2)
    assert new is not None and (new.seq, new.width) == (3, 1280)
    assert s.evidence_seconds() == 12.5

    s.worker_lost(0.5)
    assert statuses[-1].state is CameraState.DECODER_LOST
    assert "解码进程退出" in statuses[-1].last_errors[-1] and statuses[-1].retry_in_s == 0.5

    reopened = s.open_command(opened.stream_id, True)
    assert reopened is not None and reopened.target == (1280, 720)
    assert not exists(first.name) and not exists(grow.segment.name)  # a new worker: gone
    SlotWriter(attach(reopened.segment)).put(picture(1, 1280, 720))  # a new session: 1
    again = s.take(3)
    assert again is not None and again.seq == 4  # numbered on from the last one

    s.stop()
    s.stop()
    assert not exists(reopened.segment.name)
    assert s.status().state is CameraState.IDLE and len(statuses) == 2 and not s.running
    assert new.image[0, 0, 0] == 3  # pictures stay readable after the names are gone


def test_key_frames_only_shows_in_the_stream_label_at_once() -> None:
    fake = FakeWorkers()
    s = RemoteStream("cam1", PROFILES, cast(DecodeWorkers, fake), target_size=(320, 180))
    s.start()
    s.deliver(CameraStatus("cam1", CameraState.LIVE, "third"))
    s.set_keyframes_only(True)
    assert s.status().stream == "third+key"
    s.set_keyframes_only(False)
    assert s.status().stream == "third"
    s.stop()
