"""A latest-frame slot in shared memory: one decode worker process writes, the GUI reads.

The segment holds a header and three picture buffers of `capacity` bytes each. The
writer (the worker's `CameraStream`, through `ShmFrameSlot`) never waits for the reader:
it writes each picture into a buffer that is neither the one published last nor the one
the reader holds, then publishes it. The reader (the GUI process) takes the published
buffer by marking it held and checking that it is still the published one; the picture
is then an array over the shared memory, without a copy, and stays untouched until the
reader takes the next one. A published picture overwritten before anyone took it is
counted as dropped (in the header, so both sides see it).

Words of the header (int64; pts and stamps as float64 in the same words):

- global, words 0-7: magic, buffers, capacity, published (-1: none), held (-1: none),
  taken seq, dropped, puts;
- per buffer b, words 8 + 16*b + (0-9): write count (odd while being written), seq,
  width, height, stride, source width, source height, stream code, pts_s, decoded_at.

Pictures start at `DATA_OFFSET`; rows are stored without padding (stride = width * 4).

Ordering: the writer stores `published` and then loads `held`; the reader stores `held`
and then loads `published`. Each side puts a full memory barrier between its store and
its load (`_fence`: a lock taken and given back, an atomic instruction), so at least one
of them sees the other's store and a held buffer is never chosen for writing.
"""

from __future__ import annotations

import mmap
import os
import threading
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np
import numpy.typing as npt

from streams.ingest.slot import FrameSlot
from streams.ingest.types import Frame

MAGIC = 0x48414C4C534C4F54  # "HALLSLOT"
BUFFERS = 3
GLOBAL_WORDS = 8
META_WORDS = 16
DATA_OFFSET = 4096
PAGE = 4096
STREAM_CODES = ("main", "sub", "third")

# global words
_MAGIC, _NBUF, _CAPACITY, _PUBLISHED, _HELD, _TAKEN, _DROPPED, _PUTS = range(8)
# per-buffer words
_WRITES, _SEQ, _W, _H, _STRIDE, _SRC_W, _SRC_H, _STREAM, _PTS, _DECODED = range(10)

_FENCE_LOCK = threading.Lock()


def _fence() -> None:
    """A full memory barrier (x86 orders stores before later loads only across one)."""
    _FENCE_LOCK.acquire()
    _FENCE_LOCK.release()


def segment_size(capacity: int) -> int:
    """Bytes of a segment whose buffers hold `capacity` bytes each (rounded to pages)."""
    per = -(-capacity // PAGE) * PAGE
    return DATA_OFFSET + BUFFERS * per


def capacity_for(width: int, height: int, minimum: int = 640 * 360 * 4) -> int:
    """Buffer bytes for a tile of `width`x`height` BGRA (at least `minimum`, page-rounded)."""
    return -(-max(width * height * 4, minimum) // PAGE) * PAGE


def _meta(buffer: int, word: int) -> int:
    return GLOBAL_WORDS + META_WORDS * buffer + word


def pick_buffer(published: int, held: int, last: int) -> int:
    """The buffer to write next: not the published one, not the held one (pure).

    Of the free ones, the one after `last` (the buffer written last), so buffers take turns.
    """
    for step in range(1, BUFFERS + 1):
        b = (last + step) % BUFFERS
        if b != published and b != held:
            return b
    raise AssertionError("three buffers always leave one free")


class _Words:
    """int64 and float64 views of the header."""

    def __init__(self, buf: mmap.mmap | bytearray) -> None:
        head = memoryview(buf)[:DATA_OFFSET]
        self.q = head.cast("q")
        self.d = head.cast("d")


def init_header(buf: mmap.mmap | bytearray, capacity: int) -> None:
    words = _Words(buf)
    words.q[_MAGIC] = MAGIC
    words.q[_NBUF] = BUFFERS
    words.q[_CAPACITY] = capacity
    words.q[_PUBLISHED] = -1
    words.q[_HELD] = -1


class SlotWriter:
    """The worker's side: puts pictures, never waits for the reader."""

    def __init__(self, buf: mmap.mmap | bytearray) -> None:
        self._buf = buf
        self._words = _Words(buf)
        if self._words.q[_MAGIC] != MAGIC:
            raise ValueError("not a frame slot segment")
        self.capacity = int(self._words.q[_CAPACITY])
        self._last = BUFFERS - 1
        self.too_big = 0  # pictures larger than a buffer (not written)

    def put(self, frame: Frame) -> bool:
        """Write and publish `frame`; False if it does not fit a buffer."""
        q, d = self._words.q, self._words.d
        h, w = frame.height, frame.width
        stride = w * 4
        if h * stride > self.capacity:
            self.too_big += 1
            return False
        b = pick_buffer(q[_PUBLISHED], q[_HELD], self._last)
        self._last = b
        offset = DATA_OFFSET + b * (segment_size(self.capacity) - DATA_OFFSET) // BUFFERS
        dst: npt.NDArray[np.uint8] = np.ndarray((h, w, 4), np.uint8, self._buf, offset)
        q[_meta(b, _WRITES)] += 1  # odd: being written
        dst[...] = frame.image
        q[_meta(b, _SEQ)] = frame.seq
        q[_meta(b, _W)] = w
        q[_meta(b, _H)] = h
        q[_meta(b, _STRIDE)] = stride
        q[_meta(b, _SRC_W)] = frame.source_width
        q[_meta(b, _SRC_H)] = frame.source_height
        q[_meta(b, _STREAM)] = (
            STREAM_CODES.index(frame.stream) if frame.stream in STREAM_CODES else -1
        )
        d[_meta(b, _PTS)] = frame.pts_s
        d[_meta(b, _DECODED)] = frame.decoded_at
        q[_meta(b, _WRITES)] += 1  # even: done
        old = q[_PUBLISHED]
        if old >= 0 and q[_meta(old, _SEQ)] > q[_TAKEN]:
            q[_DROPPED] += 1  # published, never taken, now replaced
        q[_PUBLISHED] = b
        q[_PUTS] += 1
        _fence()
        return True

    @property
    def dropped(self) -> int:
        return int(self._words.q[_DROPPED])

    @property
    def puts(self) -> int:
        return int(self._words.q[_PUTS])


class SlotReader:
    """The GUI's side: takes the newest picture as an array over the shared memory."""

    def __init__(self, buf: mmap.mmap | bytearray, camera_id: str, seq_offset: int = 0) -> None:
        self._buf = buf
        self._words = _Words(buf)
        if self._words.q[_MAGIC] != MAGIC:
            raise ValueError("not a frame slot segment")
        self.capacity = int(self._words.q[_CAPACITY])
        self._per = (segment_size(self.capacity) - DATA_OFFSET) // BUFFERS
        self.camera_id = camera_id
        self.seq_offset = seq_offset  # added to the writer's numbers (a restarted writer)
        self._held: Frame | None = None
        self._held_buffer = -1

    def newest_seq(self) -> int:
        """The seq of the published picture (offset included), 0 when there is none."""
        q = self._words.q
        b = q[_PUBLISHED]
        return 0 if b < 0 else int(q[_meta(b, _SEQ)]) + self.seq_offset

    def take(self, after_seq: int) -> Frame | None:
        """The published picture if newer than `after_seq`; it becomes the held one."""
        q = self._words.q
        for _ in range(BUFFERS + 1):
            b = q[_PUBLISHED]
            if b < 0 or q[_meta(b, _SEQ)] + self.seq_offset <= after_seq:
                return None
            held = self._held
            if (
                b == self._held_buffer
                and held is not None
                and held.seq == q[_meta(b, _SEQ)] + self.seq_offset
            ):
                return held  # taken before (a painter that counts again from older)
            q[_HELD] = b
            _fence()
            if q[_PUBLISHED] != b:
                continue  # published again meanwhile: that buffer may be rewritten
            frame = self._view(b)
            if frame is None:
                continue
            self._held, self._held_buffer = frame, b
            q[_TAKEN] = frame.seq - self.seq_offset
            return frame
        return None

    def latest(self) -> Frame | None:
        """The newest picture, taken or not: the held one when it is the newest, else a copy
        (a picture not held may be rewritten at any time)."""
        q = self._words.q
        b = q[_PUBLISHED]
        if b < 0:
            return None
        if b == self._held_buffer and self._held is not None:
            return self._held
        for _ in range(BUFFERS + 1):
            b = q[_PUBLISHED]
            before = q[_meta(b, _WRITES)]
            frame = self._view(b)
            if frame is None:
                continue
            copy = Frame(
                frame.camera_id,
                frame.image.copy(),
                frame.seq,
                frame.pts_s,
                frame.decoded_at,
                frame.source_width,
                frame.source_height,
                frame.stream,
            )
            if q[_meta(b, _WRITES)] == before:
                return copy
        return self._held

    def _view(self, b: int) -> Frame | None:
        q, d = self._words.q, self._words.d
        writes = q[_meta(b, _WRITES)]
        if writes % 2:
            return None
        h, w, stride = q[_meta(b, _H)], q[_meta(b, _W)], q[_meta(b, _STRIDE)]
        seq = q[_meta(b, _SEQ)] + self.seq_offset
        code = q[_meta(b, _STREAM)]
        frame = Frame(
            camera_id=self.camera_id,
            image=np.ndarray(
                (h, w, 4),
                np.uint8,
                self._buf,
                DATA_OFFSET + b * self._per,
                (stride, 4, 1),
            ),
            seq=int(seq),
            pts_s=d[_meta(b, _PTS)],
            decoded_at=d[_meta(b, _DECODED)],
            source_width=int(q[_meta(b, _SRC_W)]),
            source_height=int(q[_meta(b, _SRC_H)]),
            stream=STREAM_CODES[code] if 0 <= code < len(STREAM_CODES) else "",
        )
        if q[_meta(b, _WRITES)] != writes:
            return None
        frame.image.flags.writeable = False
        return frame

    @property
    def dropped(self) -> int:
        return int(self._words.q[_DROPPED])


# --- segments -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """What a worker needs to attach a segment: its name and its buffers' capacity."""

    name: str
    capacity: int


def _shm_path(name: str) -> str:
    return "/dev/shm/" + name.lstrip("/")


def _map(name: str, size: int) -> mmap.mmap:
    fd = os.open(_shm_path(name), os.O_RDWR)
    try:
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


class Segment:
    """A slot segment the GUI process creates and unlinks (the resource tracker knows it:
    a crashed console leaves nothing in /dev/shm).

    The mapping the pictures point into is our own (`buf`), never closed explicitly: it
    goes when the last picture over it does, so a tile may keep showing its last picture
    after the segment's name is gone.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        size = segment_size(capacity)
        shm = shared_memory.SharedMemory(create=True, size=size)
        self._shm: shared_memory.SharedMemory | None = shm
        self.name = shm.name
        try:
            self.buf = _map(shm.name, size)
        finally:
            shm.close()  # our own mapping stays; the name stays until `unlink`
        init_header(self.buf, capacity)

    @property
    def ref(self) -> SegmentRef:
        return SegmentRef(self.name, self.capacity)

    def unlink(self) -> None:
        """Remove the name (idempotent); mappings stay valid until they are dropped."""
        shm, self._shm = self._shm, None
        if shm is not None:
            shm.unlink()


def attach(ref: SegmentRef) -> mmap.mmap:
    """The worker's mapping of a segment (not registered with any resource tracker: the
    GUI process owns and unlinks it)."""
    return _map(ref.name, segment_size(ref.capacity))


class ShmFrameSlot(FrameSlot):
    """The worker's `FrameSlot` for a `CameraStream`: frames go to shared memory.

    `latest`/`take` are the GUI's business (`SlotReader`); here they answer nothing.
    `swap` moves to a bigger segment (the tile grew) from the next frame on.
    """

    def __init__(self, ref: SegmentRef) -> None:
        super().__init__()
        self._writer_lock = threading.Lock()
        self._writer = SlotWriter(attach(ref))
        self._dropped_before = 0  # in segments swapped out
        self._puts_before = 0

    def swap(self, ref: SegmentRef) -> None:
        writer = SlotWriter(attach(ref))
        with self._writer_lock:
            self._dropped_before += self._writer.dropped
            self._puts_before += self._writer.puts
            self._writer = writer

    def put(self, frame: Frame) -> None:
        with self._writer_lock:
            self._writer.put(frame)

    def latest(self) -> Frame | None:
        return None

    def take(self, after_seq: int) -> Frame | None:
        return None

    def clear(self) -> None:
        """Nothing to forget here: the picture is kept by the GUI's `SlotReader`."""

    @property
    def dropped(self) -> int:
        with self._writer_lock:
            return self._dropped_before + self._writer.dropped

    @property
    def puts(self) -> int:
        with self._writer_lock:
            return self._puts_before + self._writer.puts
