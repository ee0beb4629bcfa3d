"""Wrap a decoded BGRA frame in a QImage without copying (Format_RGB32, the array's stride)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtGui import QImage

from streams.ingest.types import Frame


def byte_view(image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], int]:
    """A 1-D contiguous view spanning the picture's rows (padding included) and the stride.

    Decoders give padded rows when the width is not a multiple of 16 pixels; QImage
    takes the stride, so the padded memory is used as it is, without a copy.
    """
    if image.ndim != 3 or image.shape[2] != 4 or image.dtype != np.uint8:
        raise ValueError(f"expected a (h, w, 4) uint8 BGRA array, got {image.shape} {image.dtype}")
    h, w = int(image.shape[0]), int(image.shape[1])
    if image.flags.c_contiguous:
        # the usual case (tile widths of 16-pixel multiples): a plain view, no as_strided
        # (which costs ~0.1 ms, in the GUI thread, per paint)
        return image.reshape(-1), w * 4
    if image.strides[1] != 4 or image.strides[2] != 1 or image.strides[0] < w * 4:
        image = np.ascontiguousarray(image)
    stride = int(image.strides[0])
    span = (h - 1) * stride + w * 4
    flat: npt.NDArray[np.uint8] = np.lib.stride_tricks.as_strided(
        image, shape=(span,), strides=(1,), writeable=False
    )
    return flat, stride


def frame_qimage(frame: Frame) -> tuple[QImage, npt.NDArray[np.uint8]]:
    """The QImage and the buffer it points into: keep the buffer alive while painting."""
    flat, stride = byte_view(frame.image)
    img = QImage(flat.data, frame.width, frame.height, stride, QImage.Format.Format_RGB32)
    return img, flat
