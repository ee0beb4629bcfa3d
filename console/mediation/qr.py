"""A join link as a QR code picture (the `qrcode` package's module matrix → QImage)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import qrcode
from PySide6.QtGui import QImage


def qr_matrix(text: str, border: int = 2) -> npt.NDArray[np.bool_]:
    """Dark modules as True, quiet zone included."""
    if not text:
        raise ValueError("QR code: empty text")
    q = qrcode.QRCode(border=border, error_correction=qrcode.constants.ERROR_CORRECT_M)
    q.add_data(text)
    q.make(fit=True)
    return np.array(q.get_matrix(), dtype=bool)


def qr_image(text: str, scale: int = 4) -> QImage:
    """Black on white, `scale` pixels per module (a deep copy: owns its pixels)."""
    m = qr_matrix(text)
    pix = np.where(m, 0, 255).astype(np.uint8)
    pix = np.ascontiguousarray(np.repeat(np.repeat(pix, scale, axis=0), scale, axis=1))
    h, w = pix.shape
    img = QImage(pix.data, w, h, w, QImage.Format.Format_Grayscale8)
    return img.copy()
