"""The frame stamp: capture wall-clock time (Unix ms) drawn into the picture as cells.

The strip is the top 1/20 of the picture, full width, split into `CELLS` equal cells,
each black or white::

    1 0 1 | 42 bits of ms, most significant first | 16-bit CRC of those bits | 0 1 0

The three sync cells at each end give the reader its black and white levels; the CRC
(CRC-16/CCITT-FALSE over the 42-bit value packed into 6 bytes) makes a misread return
None rather than a wrong time. 42 bits of milliseconds last until the year 2109.

`stamp_cells` is pure Python (the simulator runs it under the system Python, which may
lack numpy); `decode_stamp` uses numpy, imported inside it for the same reason.

The reader samples the middle of every cell in the upper rows of the strip, so it works
on the picture at any scale down to about 3 pixels per cell (192 pixels wide), after
H.264 compression and FAST_BILINEAR scaling, on BGRA, BGR or gray arrays with padded
rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

CELLS = 64
MS_BITS = 42
CRC_BITS = 16
SYNC_HEAD = (True, False, True)
SYNC_TAIL = (False, True, False)
MAX_MS = (1 << MS_BITS) - 1
STRIP_FRACTION = 20  # the strip is the top 1/STRIP_FRACTION of the picture

# Luma levels for the simulator's I420 frames (video range: decoders map 16 -> 0, 235 -> 255).
Y_BLACK = 16
Y_WHITE = 235

# A reader's minimum difference between the white and the black sync cells (0..255), and
# the minimum distance of every cell from the threshold, as a share of that difference.
MIN_CONTRAST = 60.0
MIN_MARGIN = 0.25

assert len(SYNC_HEAD) + MS_BITS + CRC_BITS + len(SYNC_TAIL) == CELLS


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _bits(value: int, width: int) -> list[bool]:
    return [bool((value >> (width - 1 - i)) & 1) for i in range(width)]


def stamp_cells(ms: int) -> list[bool]:
    """The `CELLS` cells (True = white) that stamp `ms`, left to right."""
    if not 0 <= ms <= MAX_MS:
        raise ValueError(f"stamp: {ms} ms is outside 0..{MAX_MS}")
    crc = crc16(ms.to_bytes(6, "big"))
    return [*SYNC_HEAD, *_bits(ms, MS_BITS), *_bits(crc, CRC_BITS), *SYNC_TAIL]


def strip_height(picture_height: int) -> int:
    """Rows of the strip in a picture of this height (even, for chroma subsampling)."""
    return max(2, (picture_height // STRIP_FRACTION) // 2 * 2)


def cell_edges(width: int) -> list[int]:
    """Column where each cell starts, plus `width` at the end (CELLS + 1 values)."""
    return [round(i * width / CELLS) for i in range(CELLS + 1)]


def stamp_row(ms: int, width: int, black: int = Y_BLACK, white: int = Y_WHITE) -> bytes:
    """One row of 8-bit luma for a strip `width` pixels wide (pure Python)."""
    edges = cell_edges(width)
    cells = stamp_cells(ms)
    parts = [
        bytes((white if on else black,)) * (edges[i + 1] - edges[i]) for i, on in enumerate(cells)
    ]
    return b"".join(parts)


def _cells_to_ms(bits: list[bool]) -> int | None:
    n_head = len(SYNC_HEAD)
    value = 0
    for b in bits[n_head : n_head + MS_BITS]:
        value = (value << 1) | int(b)
    crc = 0
    for b in bits[n_head + MS_BITS : n_head + MS_BITS + CRC_BITS]:
        crc = (crc << 1) | int(b)
    if crc != crc16(value.to_bytes(6, "big")):
        return None
    return value


def decode_stamp(image: npt.NDArray[np.uint8]) -> int | None:
    """The stamped Unix ms of a picture (BGRA, BGR or gray, any scale), or None.

    None means: no readable stamp (too small, too little contrast, an ambiguous cell,
    or a checksum mismatch). A value is returned only when every check passes.
    """
    import numpy as np

    if image.ndim == 3:
        if image.shape[2] >= 3:
            channels = image[:, :, :3]
        elif image.shape[2] == 1:
            channels = image
        else:
            raise ValueError(f"decode_stamp: unsupported channel count {image.shape[2]}")
    elif image.ndim == 2:
        channels = image[:, :, np.newaxis]
    else:
        raise ValueError(f"decode_stamp: expected a 2-D or 3-D array, got {image.ndim}-D")
    height, width = int(channels.shape[0]), int(channels.shape[1])
    if width < CELLS * 2:
        return None
    strip = height / STRIP_FRACTION
    # rows well inside the strip: away from the top edge and from the picture below
    r0 = int(strip * 0.15)
    r1 = max(r0 + 1, int(strip * 0.7))
    if r1 > height:
        return None
    profile = channels[r0:r1].astype(np.float32).mean(axis=(0, 2))  # one value per column
    cell_w = width / CELLS
    starts = np.floor((np.arange(CELLS) + 0.3) * cell_w).astype(np.int64)
    ends = np.maximum(starts + 1, np.ceil((np.arange(CELLS) + 0.7) * cell_w).astype(np.int64))
    cumsum = np.concatenate(([0.0], np.cumsum(profile, dtype=np.float64)))
    values = (cumsum[ends] - cumsum[starts]) / (ends - starts)

    head = len(SYNC_HEAD)
    sync_idx = [*range(head), *range(CELLS - len(SYNC_TAIL), CELLS)]
    sync_on = [*SYNC_HEAD, *SYNC_TAIL]
    whites = [float(values[i]) for i, on in zip(sync_idx, sync_on, strict=True) if on]
    blacks = [float(values[i]) for i, on in zip(sync_idx, sync_on, strict=True) if not on]
    low, high = max(blacks), min(whites)
    if high - low < MIN_CONTRAST:
        return None
    threshold = (sum(whites) / len(whites) + sum(blacks) / len(blacks)) / 2
    margin = MIN_MARGIN * (high - low)
    if bool(np.any(np.abs(values - threshold) < margin)):
        return None
    bits = [bool(v > threshold) for v in values]
    if tuple(bits[:head]) != SYNC_HEAD or tuple(bits[CELLS - len(SYNC_TAIL) :]) != SYNC_TAIL:
        return None
    return _cells_to_ms(bits)
