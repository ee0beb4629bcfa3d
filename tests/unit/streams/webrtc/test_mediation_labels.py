"""Recording labels: Chinese names are drawn with a CJK font, not as '#' or boxes."""

from __future__ import annotations

import numpy as np

from streams.webrtc.labels import draw_label, label_mask


def test_chinese_glyphs_are_distinct_and_cached() -> None:
    a, b = label_mask("王"), label_mask("李")
    # a font without CJK draws the same "missing glyph" box for both
    assert a.shape[0] >= 20 and a.max() == 255
    assert a.shape != b.shape or not np.array_equal(a, b)
    assert label_mask("法官 王法官") is label_mask("法官 王法官")  # rendered once
    assert label_mask("法官 王法官").shape[1] > label_mask("法官").shape[1]


def test_draw_label_blends_white_text_and_clips_at_the_edge() -> None:
    canvas = np.full((60, 80, 3), 100, dtype=np.uint8)
    draw_label(canvas, "当事人 张三", 10, 10)
    assert canvas.max() == 255  # text
    assert (canvas[10:30, 10:] < 100).any()  # the darkened strip
    assert (canvas[:10] == 100).all()  # nothing above the label
    draw_label(canvas, "当事人 张三", 70, 50)  # mostly outside: clipped, no error
    draw_label(canvas, "x", 200, 200)
