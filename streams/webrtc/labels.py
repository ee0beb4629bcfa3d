"""Name labels for the recording's picture, Chinese included.

`label_mask(text, height)` renders the text once with a CJK font (WenQuanYi Micro Hei,
Debian `fonts-wqy-microhei`) into an 8-bit coverage mask and caches it, so that the
recorder only blends a small array per tile and frame. `draw_label(canvas, text, x, y)`
puts it on an RGB/BGR canvas, white on a darkened strip, clipped to the canvas.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
PAD = 4


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in CJK_FONTS:
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default()  # no CJK font installed: Latin only, never a crash


@functools.lru_cache(maxsize=64)
def label_mask(text: str, size: int = 20) -> NDArray[np.uint8]:
    """Coverage 0..255 of `text` at `size` px, with PAD px around it (cached)."""
    font = _font(size)
    left, top, right, bottom = font.getbbox(text or " ")
    w, h = max(1, int(right - left)) + 2 * PAD, max(1, int(bottom - top)) + 2 * PAD
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).text((PAD - left, PAD - top), text, fill=255, font=font)
    arr = np.asarray(img, dtype=np.uint8).copy()
    arr.setflags(write=False)
    return arr


def draw_label(canvas: NDArray[np.uint8], text: str, x: int, y: int, size: int = 20) -> None:
    """Blend the label with its top-left corner at (x, y) into the (h, w, 3) canvas."""
    mask = label_mask(text, size)
    ch, cw = canvas.shape[:2]
    if x >= cw or y >= ch:
        return
    x0, y0 = max(0, x), max(0, y)
    mh, mw = min(mask.shape[0], ch - y0), min(mask.shape[1], cw - x0)
    if mh <= 0 or mw <= 0:
        return
    region = canvas[y0 : y0 + mh, x0 : x0 + mw].astype(np.uint16)
    a = mask[:mh, :mw, None].astype(np.uint16)
    region = region * 2 // 5  # darken the strip so white text reads on any picture
    region = (region * (255 - a) + 255 * a) // 255
    canvas[y0 : y0 + mh, x0 : x0 + mw] = region.astype(np.uint8)
