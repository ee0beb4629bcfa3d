"""The latest-frame slot: never queues, counts overwritten frames as dropped."""

from __future__ import annotations

import threading

import numpy as np

from streams.ingest.slot import FrameSlot
from streams.ingest.types import Frame


def frame(seq: int) -> Frame:
    return Frame(
        camera_id="cam1",
        image=np.zeros((2, 2, 4), np.uint8),
        seq=seq,
        pts_s=seq / 25,
        decoded_at=float(seq),
        source_width=704,
        source_height=576,
        stream="sub",
    )


def test_empty_slot_gives_nothing() -> None:
    slot = FrameSlot()
    assert slot.latest() is None
    assert slot.take(0) is None
    assert slot.dropped == 0


def test_take_gives_the_newest_frame_once() -> None:
    slot = FrameSlot()
    slot.put(frame(1))
    got = slot.take(0)
    assert got is not None and got.seq == 1
    assert slot.take(1) is None  # nothing newer than what the painter has
    assert slot.dropped == 0


def test_overwritten_untaken_frames_count_as_dropped() -> None:
    slot = FrameSlot()
    for seq in range(1, 6):
        slot.put(frame(seq))
    got = slot.take(0)
    assert got is not None and got.seq == 5  # the newest, not the oldest: no queue
    assert slot.dropped == 4
    slot.put(frame(6))  # frame 5 was taken: overwriting it is not a drop
    assert slot.dropped == 4


def test_latest_does_not_mark_taken() -> None:
    slot = FrameSlot()
    slot.put(frame(1))
    latest = slot.latest()
    assert latest is not None and latest.seq == 1
    slot.put(frame(2))
    assert slot.dropped == 1


def test_take_with_older_after_seq_still_returns_newest() -> None:
    slot = FrameSlot()
    slot.put(frame(7))
    got = slot.take(3)
    assert got is not None and got.seq == 7
    assert slot.take(7) is None
    assert slot.take(10) is None


def test_clear_forgets_without_counting_a_drop() -> None:
    slot = FrameSlot()
    slot.put(frame(1))
    slot.clear()
    assert slot.latest() is None
    slot.put(frame(2))
    assert slot.dropped == 0


def test_concurrent_put_and_take_account_for_every_frame() -> None:
    """Every frame put is either taken exactly once or counted as dropped."""
    slot = FrameSlot()
    total = 20_000
    taken: list[int] = []
    done = threading.Event()

    def painter() -> None:
        last = 0
        while True:
            f = slot.take(last)
            if f is not None:
                assert f.seq > last
                last = f.seq
                taken.append(f.seq)
            elif done.is_set():
                f = slot.take(last)
                if f is None:
                    return
                last = f.seq
                taken.append(f.seq)

    t = threading.Thread(target=painter)
    t.start()
    for seq in range(1, total + 1):
        slot.put(frame(seq))
    done.set()
    t.join(timeout=30)
    assert not t.is_alive()
    assert taken == sorted(set(taken))  # strictly increasing, never twice
    assert taken[-1] == total  # the last frame is never lost
    assert len(taken) + slot.dropped == total
    assert slot.puts == total
