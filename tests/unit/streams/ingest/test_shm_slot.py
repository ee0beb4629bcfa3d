"""The shared-memory latest-frame slot: buffer choice, header protocol, drops, segments."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from streams.ingest.shm_slot import (
    BUFFERS,
    Segment,
    ShmFrameSlot,
    SlotReader,
    SlotWriter,
    attach,
    capacity_for,
    init_header,
    pick_buffer,
    segment_size,
)
from streams.ingest.types import Frame

W, H = 40, 20


def frame(seq: int, w: int = W, h: int = H, *, padded: bool = False) -> Frame:
    base = np.zeros((h, w + (8 if padded else 0), 4), np.uint8)
    image = base[:, :w]
    image[...] = seq % 251
    image[0, 0, 0] = seq % 256
    return Frame("cam1", image, seq, seq / 25.0, 100.0 + seq, 640, 360, "third")


def slot(capacity: int = W * H * 4) -> tuple[SlotWriter, SlotReader]:
    buf = bytearray(segment_size(capacity))
    init_header(buf, capacity)
    return SlotWriter(buf), SlotReader(buf, "cam1")


@pytest.mark.parametrize("published", range(-1, BUFFERS))
@pytest.mark.parametrize("held", range(-1, BUFFERS))
@pytest.mark.parametrize("last", range(BUFFERS))
def test_the_buffer_written_is_never_the_published_or_the_held_one(
    published: int, held: int, last: int
) -> None:
    b = pick_buffer(published, held, last)
    assert b not in (published, held)
    assert 0 <= b < BUFFERS


def test_buffers_take_turns_when_the_reader_holds_nothing() -> None:
    seen = []
    last = BUFFERS - 1
    published = -1
    for _ in range(6):
        last = pick_buffer(published, -1, last)
        published = last
        seen.append(last)
    assert seen == [0, 1, 2, 0, 1, 2]


def test_a_taken_frame_carries_the_pictures_fields_and_pixels() -> None:
    writer, reader = slot()
    assert reader.take(0) is None and reader.latest() is None and reader.newest_seq() == 0
    f = frame(7, padded=True)  # a padded array is stored without its padding
    assert writer.put(f)
    got = reader.take(0)
    assert got is not None
    assert (got.seq, got.pts_s, got.decoded_at) == (7, f.pts_s, f.decoded_at)
    assert (got.width, got.height, got.source_width, got.source_height) == (W, H, 640, 360)
    assert got.stream == "third" and got.camera_id == "cam1"
    assert np.array_equal(got.image, f.image)
    assert got.image.strides == (W * 4, 4, 1) and not got.image.flags.writeable
    assert reader.take(7) is None  # nothing newer
    assert reader.take(6) is got  # the same picture again, for a painter counting anew


def test_the_held_picture_is_never_overwritten_while_the_writer_goes_on() -> None:
    writer, reader = slot()
    writer.put(frame(1))
    held = reader.take(0)
    assert held is not None
    for seq in range(2, 50):
        writer.put(frame(seq))  # the writer never waits
        assert held.image[0, 0, 0] == 1 and held.image[5, 5, 1] == 1
    newest = reader.take(held.seq)
    assert newest is not None and newest.seq == 49 and newest.image[0, 0, 0] == 49


def test_frames_replaced_before_they_were_taken_count_as_dropped() -> None:
    writer, reader = slot()
    writer.put(frame(1))
    writer.put(frame(2))  # 1 never taken
    assert reader.take(0) is not None  # takes 2
    writer.put(frame(3))  # 2 was taken: no drop
    writer.put(frame(4))  # 3 dropped
    assert writer.dropped == reader.dropped == 2
    assert writer.puts == 4


def test_latest_is_the_held_picture_or_a_copy() -> None:
    writer, reader = slot()
    writer.put(frame(1))
    taken = reader.take(0)
    assert reader.latest() is taken
    writer.put(frame(2))
    copy = reader.latest()
    assert copy is not None and copy.seq == 2 and copy.image.flags.owndata
    assert reader.take(1) is not None


def test_a_picture_bigger_than_a_buffer_is_not_written() -> None:
    writer, reader = slot()
    assert not writer.put(frame(1, w=W * 2))
    assert writer.too_big == 1 and reader.take(0) is None


def test_a_reader_with_an_offset_numbers_on() -> None:
    buf = bytearray(segment_size(W * H * 4))
    init_header(buf, W * H * 4)
    reader = SlotReader(buf, "cam1", seq_offset=100)
    SlotWriter(buf).put(frame(1))
    got = reader.take(100)
    assert got is not None and got.seq == 101 and reader.newest_seq() == 101


def test_a_buffer_that_is_not_a_slot_is_refused() -> None:
    with pytest.raises(ValueError, match="not a frame slot"):
        SlotWriter(bytearray(segment_size(4096)))


def test_capacity_is_page_rounded_with_a_floor() -> None:
    assert capacity_for(16, 16) == 640 * 360 * 4
    assert capacity_for(1920, 1080) == 1920 * 1080 * 4
    assert capacity_for(641, 360) % 4096 == 0


def test_a_segment_is_shared_by_name_and_gone_after_unlink() -> None:
    seg = Segment(capacity_for(W, H))
    path = f"/dev/shm/{seg.name}"
    try:
        assert os.path.exists(path)
        ref = pickle.loads(pickle.dumps(seg.ref))  # as it goes to a worker
        worker_side = ShmFrameSlot(ref)
        worker_side.put(frame(3))
        got = SlotReader(seg.buf, "cam1").take(0)
        assert got is not None and got.seq == 3
        assert worker_side.latest() is None and worker_side.dropped == 0 and worker_side.puts == 1
        bigger = Segment(capacity_for(W * 40, H * 40))
        try:
            worker_side.swap(bigger.ref)
            worker_side.put(frame(4, w=W * 20, h=H * 20))
            big = SlotReader(bigger.buf, "cam1").take(0)
            assert big is not None and big.width == W * 20
            assert worker_side.puts == 2  # counted on across segments
        finally:
            bigger.unlink()
        mapped = attach(ref)
        assert len(mapped) == segment_size(seg.capacity)
        mapped.close()
    finally:
        seg.unlink()
        seg.unlink()  # idempotent
    assert not os.path.exists(path)
    assert got.image[0, 0, 0] == 3  # the picture stays readable after the name is gone
