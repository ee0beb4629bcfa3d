"""`RemoteStream` against the real simulator: a camera decoded in a worker process."""

from __future__ import annotations

import glob
from collections.abc import Iterator

import pytest

from streams.ingest.remote import RemoteStream
from streams.ingest.stamp import decode_stamp
from streams.ingest.types import CameraState, Frame
from streams.ingest.workers import DecodeWorkers
from streams.simulator import CamSim
from tests.integration.streams.ingest.test_ingest import StatusLog, is_state, profiles
from tests.kit import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def workers() -> Iterator[DecodeWorkers]:
    before = set(glob.glob("/dev/shm/psm_*"))
    w = DecodeWorkers(1)
    try:
        yield w
    finally:
        w.close()
        assert w.pids() == []
        assert set(glob.glob("/dev/shm/psm_*")) - before == set()


def next_frame(stream: RemoteStream, after: int, timeout: float = 10.0) -> Frame:
    got: list[Frame] = []

    def newer() -> bool:
        f = stream.take(after)
        if f is not None:
            got.append(f)
        return bool(got)

    wait_until(newer, timeout, interval=0.01)
    return got[0]


def test_a_remote_stream_grows_its_slot_restarts_and_numbers_on(
    camsim: CamSim, workers: DecodeWorkers
) -> None:
    cam = camsim.camera_ids[0]
    log = StatusLog()
    stream = RemoteStream(
        cam, profiles(camsim, cam), workers, target_size=(320, 180), on_status=log
    )
    stream.stop()  # before start: a no-op
    stream.start()
    stream.start()  # idempotent
    log.wait_for(is_state(CameraState.LIVE), 30)
    first = next_frame(stream, 0)
    assert (first.width, first.height) == (320, 180)
    a = decode_stamp(first.image)
    second = next_frame(stream, first.seq)
    assert second.seq > first.seq

    # a tile bigger than the slot: a new segment, frames numbered on, the new size
    stream.set_target_size(1280, 720)
    assert stream.stream_size() == (1280, 720)
    big = next_frame(stream, second.seq)
    while big.width != 1280:
        big = next_frame(stream, big.seq)
    assert big.height == 720 and big.stream == "main" and big.seq > second.seq
    b = decode_stamp(big.image)
    assert a is not None and b is not None and b > a

    stream.set_keyframes_only(True)
    assert stream.status().stream.endswith("+key")

    # stopped and started again: a new session in the worker, numbers go on
    stream.stop()
    stream.stop()
    assert not stream.running and stream.status().state is CameraState.IDLE
    stream.start()
    again = next_frame(stream, big.seq, 30)
    assert again.seq > big.seq
    stream.stop()
    assert workers.workers_lost == 0 and workers.restarts == 0


def test_workers_closed_under_a_running_stream_start_anew(
    camsim: CamSim, workers: DecodeWorkers
) -> None:
    cam = camsim.camera_ids[1]
    stream = RemoteStream(cam, profiles(camsim, cam), workers, target_size=(320, 180))
    stream.start()
    next_frame(stream, 0, 30)
    workers.close()  # the stream's worker and segment go; the stream says nothing more
    assert workers.pids() == []
    stream.stop()  # nothing to wait for: no hang
    stream.start()  # a new worker
    next_frame(stream, 0, 30)
    stream.stop()
    assert workers.workers_lost == 0
