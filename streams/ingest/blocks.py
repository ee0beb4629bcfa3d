"""Bytes kept for seconds (the evidence ring's packets) in anonymous mappings of their own.

A camera's evidence ring holds ~30 s of encoded packets: thousands of small pieces, each
living for the ring's span, made by the decode thread between the frames' buffers, which
live for a frame. In glibc's heap the two interleave, and each camera that dies and comes
back (its ring cleared and filled again) leaves holes that the heap keeps resident: the
soak's decode processes crept up a few MB an hour with nothing live behind it.

`PacketBlocks` appends the payloads to blocks of `BLOCK_BYTES` mapped with `mmap` (a
payload larger than that gets a block of its size). A payload is a read-only
`memoryview` of its block; a block is unmapped when nothing views it any more (the ring
dropped its packets and no clip being written still reads them), so what the ring holds
goes back to the system with the ring, not into the heap's free lists. Pages of a block
not yet written are not resident: a ring costs its packets and, at most, the part of its
oldest block already dropped.
"""

from __future__ import annotations

import ctypes
import mmap
import weakref

BLOCK_BYTES = 512 * 1024


class PacketBlocks:
    """One ring's chain of blocks. Used from one thread (the ring's decode thread)."""

    def __init__(self, block_bytes: int = BLOCK_BYTES) -> None:
        if block_bytes <= 0:
            raise ValueError(f"block_bytes must be positive, got {block_bytes}")
        self.block_bytes = block_bytes
        self._block: memoryview | None = None
        self._base = 0  # the address of the block's first byte
        self._used = 0
        self.mapped = 0  # blocks mapped so far
        self._blocks: list[weakref.ref[mmap.mmap]] = []  # those maybe still mapped

    def copy(self, address: int, size: int) -> memoryview:
        """A read-only view of a copy of the `size` bytes at `address` (a packet's
        `buffer_ptr`, in FFmpeg's memory)."""
        if size < 0:
            raise ValueError(f"size must not be negative, got {size}")
        if size == 0:
            return memoryview(b"")
        start = self._reserve(size)
        ctypes.memmove(self._base + start, address, size)
        return self._view(start, size)

    def _reserve(self, size: int) -> int:
        if self._block is None or self._used + size > len(self._block):
            self._map(max(self.block_bytes, size))
        start, self._used = self._used, self._used + size
        return start

    def _view(self, start: int, size: int) -> memoryview:
        assert self._block is not None
        return self._block[start : start + size].toreadonly()

    def _map(self, size: int) -> None:
        block = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)  # anonymous, not shared memory
        holder = ctypes.c_char.from_buffer(block)  # exports the block only while we ask
        self._base = ctypes.addressof(holder)
        del holder
        self._block = memoryview(block)
        self._used = 0
        self.mapped += 1
        self._blocks = [r for r in self._blocks if r() is not None]
        self._blocks.append(weakref.ref(block))

    @property
    def live(self) -> int:
        """Blocks still mapped (viewed by a payload, or the one being filled)."""
        return sum(r() is not None for r in self._blocks)
