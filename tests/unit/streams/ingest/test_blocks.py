"""The evidence ring's payloads live in blocks of their own (`streams.ingest.blocks`):
copies that read back the same, pieces of shared blocks, and a block unmapped once
nothing views it, so a ring that moves on or is cleared (a camera that dies and comes
back) gives its memory back to the system, not to the heap's free lists."""

from __future__ import annotations

import ctypes
import gc
import weakref

import pytest

from streams.ingest.blocks import PacketBlocks
from streams.ingest.evidence import PacketRing
from tests.unit.streams.ingest.test_ingest_evidence import encode, fill


def block_of(view: memoryview) -> weakref.ref[object]:
    return weakref.ref(view.obj)


def put(blocks: PacketBlocks, data: bytes) -> memoryview:
    """`data` copied in the way the ring copies a packet: from an address in foreign
    memory (FFmpeg's buffer there, a ctypes buffer here)."""
    raw = ctypes.create_string_buffer(data, len(data))
    return blocks.copy(ctypes.addressof(raw), len(data))


def test_copies_read_back_the_same_and_share_blocks() -> None:
    blocks = PacketBlocks(block_bytes=4096)
    raw = ctypes.create_string_buffer(b"packet-from-ffmpeg", 18)
    first = blocks.copy(ctypes.addressof(raw), 18)
    raw.value = b"overwritten-after!"  # a copy: FFmpeg reuses its buffer
    assert first == b"packet-from-ffmpeg" and first.readonly
    others = [put(blocks, bytes([n]) * 100) for n in range(30)]
    assert [bytes(v) for v in others] == [bytes([n]) * 100 for n in range(30)]
    assert blocks.mapped == 1  # 3,018 bytes: all in one block
    assert first.obj is others[-1].obj
    assert put(blocks, b"") == b"" and blocks.mapped == 1
    with pytest.raises(TypeError):
        first[0] = 0  # type: ignore[index]  # read-only


def test_a_payload_larger_than_a_block_gets_one_of_its_size() -> None:
    blocks = PacketBlocks(block_bytes=1024)
    small = put(blocks, b"a" * 1000)
    big = put(blocks, b"k" * 5000)  # a key frame
    assert (len(small), len(big), bytes(big[:2]), blocks.mapped) == (1000, 5000, b"kk", 2)
    assert len(big.obj) == 5000  # type: ignore[arg-type]  # its own block, of its size
    after = put(blocks, b"b" * 10)
    assert after.obj is not big.obj and blocks.mapped == 3


def test_a_block_nothing_views_is_unmapped() -> None:
    blocks = PacketBlocks(block_bytes=1024)
    old = [put(blocks, b"x" * 300) for _ in range(3)]
    first = block_of(old[0])
    put(blocks, b"y" * 300)  # the next block: the first is no longer written
    del old
    gc.collect()
    assert first() is None


@pytest.mark.parametrize("bad", [0, -1])
def test_bad_sizes_are_refused(bad: int) -> None:
    with pytest.raises(ValueError):
        PacketBlocks(block_bytes=bad)
    if bad < 0:
        with pytest.raises(ValueError):
            PacketBlocks().copy(0, bad)


def test_a_moving_ring_holds_only_the_blocks_of_its_window() -> None:
    """Twelve seconds of video through a 2-second ring with small blocks: the blocks
    still mapped are those of the packets it holds (plus the one being filled), and a
    new session (the camera came back) lets go of the old session's blocks."""
    video = encode(12.0)
    ring = PacketRing(max_seconds=2.0, block_bytes=2048)
    fill(ring, video)
    src = ring.clip(100.0)
    assert src is not None
    held = {id(p.data.obj) for p in src.packets if isinstance(p.data, memoryview)}
    mapped, live = ring.blocks
    assert len(held) <= live <= len(held) + 1  # the window's, and the one being filled
    assert mapped > 2 * live  # the others were unmapped as the ring moved on
    alive = [weakref.ref(p.data.obj) for p in src.packets if isinstance(p.data, memoryview)]
    del src
    fill(ring, encode(1.0))  # a new session: the ring starts afresh
    gc.collect()
    assert sum(r() is not None for r in alive) <= 1  # at most the block being filled
