"""How far a picture moved between two frames, read from the pixels (phase correlation).

Used by the PTZ tests and benchmark to see a camera turn in its decoded stream. Pure
numpy: luma frames in, the content's shift out (dx > 0: the content moved right, as
when the camera pans left; dy > 0: it moved down, as when the camera tilts up).
The stamp strip at the top and the name at the bottom are left out (`band`), and a
Hann window keeps the frame's edges from dominating.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Luma = npt.NDArray[np.uint8]


def _prepared(frame: Luma, band: tuple[float, float], step: int) -> npt.NDArray[np.float64]:
    h = frame.shape[0]
    part = frame[int(h * band[0]) : int(h * band[1]) : step, ::step].astype(np.float64)
    part -= part.mean()
    wy = np.hanning(part.shape[0])[:, None]
    wx = np.hanning(part.shape[1])[None, :]
    return part * wy * wx


def shift(
    before: Luma,
    after: Luma,
    *,
    band: tuple[float, float] = (0.06, 0.66),
    step: int = 2,
) -> tuple[int, int, float]:
    """(dx, dy, peak): the content's move from `before` to `after` in full-size pixels,
    and the correlation peak's share (near 1: a clean match; near 0: no match)."""
    if before.shape != after.shape:
        raise ValueError(f"frames differ in size: {before.shape} and {after.shape}")
    a, b = _prepared(before, band, step), _prepared(after, band, step)
    cross = np.fft.fft2(b) * np.conj(np.fft.fft2(a))
    cross /= np.maximum(np.abs(cross), 1e-9)
    corr = np.fft.ifft2(cross).real
    iy, ix = np.unravel_index(int(np.argmax(corr)), corr.shape)
    h, w = corr.shape
    dy = iy - h if iy > h // 2 else iy
    dx = ix - w if ix > w // 2 else ix
    return int(dx) * step, int(dy) * step, float(corr.max())


def moved(before: Luma, after: Luma, *, min_px: int = 2, min_peak: float = 0.05) -> bool:
    """Whether the picture as a whole moved (not only things in it)."""
    dx, dy, peak = shift(before, after)
    return peak >= min_peak and max(abs(dx), abs(dy)) >= min_px
