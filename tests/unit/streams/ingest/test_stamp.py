"""The frame stamp: encode as the simulator does, render like a decoder, read it back."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from streams.ingest.stamp import (
    CELLS,
    MAX_MS,
    Y_BLACK,
    Y_WHITE,
    crc16,
    decode_stamp,
    stamp_cells,
    stamp_row,
    strip_height,
)

MS = 1_763_771_234_567  # a Unix ms in 2025
SIZES = [(704, 576), (1280, 720)]


def luma_picture(ms: int, width: int, height: int, fill: int = 120) -> npt.NDArray[np.uint8]:
    """A gray picture with the strip drawn as the simulator draws it (video-range luma)."""
    img = np.full((height, width), fill, dtype=np.uint8)
    row = np.frombuffer(stamp_row(ms, width), dtype=np.uint8)
    img[: strip_height(height)] = row
    # a decoder maps video range 16..235 to full range 0..255
    full = (img.astype(np.float32) - 16.0) * (255.0 / 219.0)
    out: npt.NDArray[np.uint8] = np.clip(full, 0, 255).astype(np.uint8)
    return out


def u8(image: object) -> npt.NDArray[np.uint8]:
    """An OpenCV result as a typed uint8 array."""
    return np.ascontiguousarray(image, dtype=np.uint8)


def bgra(gray: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    return u8(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGRA))


def resize(image: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    return u8(cv2.resize(image, size, interpolation=cv2.INTER_LINEAR))


def test_cells_frame_the_value_with_sync_and_crc() -> None:
    cells = stamp_cells(MS)
    assert len(cells) == CELLS
    assert cells[:3] == [True, False, True]
    assert cells[-3:] == [False, True, False]
    value = int("".join("1" if c else "0" for c in cells[3:45]), 2)
    crc = int("".join("1" if c else "0" for c in cells[45:61]), 2)
    assert value == MS
    assert crc == crc16(MS.to_bytes(6, "big"))


def test_crc16_matches_the_ccitt_false_check_value() -> None:
    assert crc16(b"123456789") == 0x29B1


@pytest.mark.parametrize("ms", [-1, MAX_MS + 1])
def test_out_of_range_ms_is_refused_with_a_clear_error(ms: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        stamp_cells(ms)


def test_row_uses_the_video_range_levels_and_spans_the_width() -> None:
    row = stamp_row(MS, 704)
    assert len(row) == 704
    assert set(row) == {Y_BLACK, Y_WHITE}


@pytest.mark.parametrize("ms", [0, 1, MS, MAX_MS])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_round_trip_at_full_size(ms: int, width: int, height: int) -> None:
    pic = luma_picture(ms, width, height)
    assert decode_stamp(pic) == ms
    assert decode_stamp(bgra(pic)) == ms
    assert decode_stamp(u8(cv2.cvtColor(pic, cv2.COLOR_GRAY2BGR))) == ms


@pytest.mark.parametrize("tile", [(240, 135), (480, 270)])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_round_trip_scaled_to_tile_sizes(width: int, height: int, tile: tuple[int, int]) -> None:
    pic = bgra(luma_picture(MS, width, height))
    small = resize(pic, tile)
    assert small.shape[:2] == (tile[1], tile[0])
    assert decode_stamp(small) == MS


def test_round_trip_with_noise() -> None:
    rng = np.random.default_rng(7)
    pic = luma_picture(MS, 704, 576).astype(np.int16)
    noisy = np.clip(pic + rng.normal(0, 12, pic.shape), 0, 255).astype(np.uint8)
    assert decode_stamp(noisy) == MS
    small = resize(bgra(noisy), (240, 135))
    assert decode_stamp(small) == MS


def test_round_trip_on_padded_rows() -> None:
    """A 350-pixel BGRA tile stored in rows padded to 1408 bytes (a view, not a copy)."""
    pic = bgra(luma_picture(MS, 704, 576))
    tile = resize(pic, (350, 197))
    padded = np.zeros((197, 352, 4), dtype=np.uint8)
    padded[:, :350] = tile
    view = padded[:, :350]
    assert view.strides[0] == 352 * 4
    assert not view.flags["C_CONTIGUOUS"]
    assert decode_stamp(view) == MS


def test_successive_stamps_read_back_in_order() -> None:
    values = [MS + 40 * i for i in range(25)]
    assert [decode_stamp(luma_picture(v, 704, 576)) for v in values] == values


def test_flipped_bit_is_rejected_by_the_checksum() -> None:
    pic = luma_picture(MS, 704, 576)
    rows = strip_height(576)
    cell = 704 / CELLS
    # invert one value cell (cell 20): a different, wrong 42-bit number
    x0, x1 = round(20 * cell), round(21 * cell)
    pic[:rows, x0:x1] = 255 - pic[:rows, x0:x1]
    assert decode_stamp(pic) is None


def test_smeared_cell_is_rejected_as_ambiguous() -> None:
    pic = luma_picture(MS, 704, 576)
    rows = strip_height(576)
    cell = 704 / CELLS
    x0, x1 = round(30 * cell), round(31 * cell)
    pic[:rows, x0:x1] = 128  # half-way grey: neither black nor white
    assert decode_stamp(pic) is None


@pytest.mark.parametrize(
    "picture",
    [
        np.zeros((576, 704), dtype=np.uint8),  # black
        np.full((576, 704), 255, dtype=np.uint8),  # white
        np.random.default_rng(1).integers(0, 256, (576, 704), dtype=np.uint8),  # noise
    ],
    ids=["black", "white", "noise"],
)
def test_picture_without_a_stamp_gives_none(picture: npt.NDArray[np.uint8]) -> None:
    assert decode_stamp(picture) is None


def test_too_narrow_picture_gives_none() -> None:
    pic = luma_picture(MS, 704, 576)
    assert decode_stamp(resize(pic, (100, 82))) is None


def test_unsupported_array_shapes_raise() -> None:
    with pytest.raises(ValueError, match="2-D or 3-D"):
        decode_stamp(np.zeros((4, 4, 4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="channel count"):
        decode_stamp(np.zeros((576, 704, 2), dtype=np.uint8))
