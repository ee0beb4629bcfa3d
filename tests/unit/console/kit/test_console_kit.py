"""console/kit: the observable primitive, its Qt lifetime helper, the string tables and
the shared picture widget (offscreen Qt, real widgets)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from console.kit import i18n
from console.kit.observable import Observable, Subscription
from console.kit.picture import CaptionStyle, PictureWidget
from console.kit.plain import (
    BIDI_CONTROLS,
    escape,
    inert_bidi,
    plain_label,
    plain_static_text,
    plain_tooltip,
    rich_label,
    risky_labels,
    shown_text,
    shown_tooltip,
)
from console.kit.qt_observe import follow
from tests.kit.hostile import (
    ENTITIES,
    HEADING,
    HOSTILE,
    IMAGE,
    LINK,
    RTL,
    assert_literal,
    assert_tooltip_literal,
)


def test_observable_calls_in_order_and_disconnects_once() -> None:
    changed: Observable[int] = Observable()
    seen: list[str] = []
    a = changed.connect(lambda v: seen.append(f"a{v}"))
    changed.connect(lambda v: seen.append(f"b{v}"))
    changed.emit(1)
    a.disconnect()
    a.disconnect()  # safe twice
    changed.emit(2)
    assert seen == ["a1", "b1", "b2"] and len(changed) == 1 and not a.connected


def test_a_callback_that_disconnects_during_an_emit_takes_effect_next_time() -> None:
    changed: Observable[None] = Observable()
    seen: list[str] = []
    subs: list[Subscription] = []

    def first(_v: None) -> None:
        seen.append("first")
        subs[1].disconnect()

    subs.append(changed.connect(first))
    subs.append(changed.connect(lambda _v: seen.append("second")))
    changed.emit(None)
    changed.emit(None)
    assert seen == ["first", "second", "first"]


def test_follow_stops_calling_a_destroyed_widget(qapp: QApplication) -> None:
    changed: Observable[int] = Observable()
    seen: list[int] = []
    w = QWidget()
    follow(w, changed, seen.append)
    changed.emit(1)
    w.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    changed.emit(2)
    assert seen == [1] and len(changed) == 0


def test_string_tables_must_be_complete_and_keys_unique() -> None:
    with pytest.raises(i18n.StringTableError, match="without English"):
        i18n.add_strings("kit_test_a", {"x": "甲", "y": "乙"}, {"x": "A"})
    t = i18n.add_strings("kit_test_b", {"x": "甲 {n}"}, {"x": "A {n}"})
    assert t("x", "en", n=1) == "A 1" and t("x", "zh_CN", n=2) == "甲 2"
    with pytest.raises(i18n.StringTableError, match="defined twice"):
        i18n.add_strings("kit_test_b", {"x": "丙"}, {"x": "C"})
    with pytest.raises(KeyError, match=r"kit_test_b\.nope"):
        t("nope")


def test_language_switch_is_observable() -> None:
    before = i18n.language()
    i18n.set_language("zh_CN")
    seen: list[str] = []
    sub = i18n.changed.connect(seen.append)
    try:
        i18n.set_language("en")
        i18n.set_language("zh_CN")
    finally:
        sub.disconnect()
        i18n.set_language(before)
    assert seen == ["en", "zh_CN"]


def test_picture_widget_paints_the_frame_centred_and_the_caption(qapp: QApplication) -> None:
    w = PictureWidget(caption_style=CaptionStyle(height=20, always=True))
    w.resize(80, 60)
    w.clear("…")
    frame = np.zeros((20, 40, 4), np.uint8)
    frame[..., 2] = 255  # BGRA red
    w.show_frame(frame)
    img = w.grab().toImage()
    centre, corner = img.pixelColor(40, 30), img.pixelColor(2, 2)
    assert (centre.red(), centre.green(), centre.blue()) == (255, 0, 0)
    assert corner.red() < 40 and w.frames == 1
    bar = img.pixelColor(70, 55)  # the caption bar darkens the background
    assert bar.blue() < corner.blue()
    w.speaking = True
    edge = w.grab().toImage().pixelColor(3, 30)
    assert edge.green() > 150 and edge.red() < 120


def test_plain_helpers_show_outside_text_as_typed(qapp: QApplication) -> None:
    """Hole 3: Qt's guess turns these into markup; the kit's helpers never do."""
    assert shown_tooltip(ENTITIES) != ENTITIES  # what an unescaped tooltip would show
    assert shown_tooltip(HEADING) == "已核实，无需处置"
    for text in HOSTILE:
        assert_tooltip_literal(plain_tooltip(text), text)
        label = plain_label(text)
        assert_literal(label, text)
    guessing = QLabel(HEADING)
    box = QWidget()
    guessing.setParent(box)
    plain_label(HEADING, box)
    assert risky_labels(box) == [guessing]
    assert "<" not in shown_text(rich_label(f"<b>{escape(IMAGE)}</b>")).replace(IMAGE, "")
    assert plain_static_text(LINK).textFormat() == Qt.TextFormat.PlainText


def test_direction_controls_are_shown_not_obeyed(qapp: QApplication) -> None:
    """A right-to-left override would make "置处需无" read "无需处置": labels, tooltips
    and escaped text show the control instead, and keep the rest as it came."""
    label = plain_label(RTL)
    assert label.text() == "[U+202E]置处需无[U+202C] 王五"
    label.setText("a\u2067b\u200fc")  # later texts too (follow() connects setText)
    assert label.text() == "a[U+2067]b[U+200F]c"
    assert not any(c in shown_tooltip(plain_tooltip(RTL)) for c in BIDI_CONTROLS)
    assert shown_text(rich_label(escape(RTL))) == inert_bidi(RTL)
    assert inert_bidi("无需处置 ok") == "无需处置 ok"


def test_a_painted_caption_shows_direction_controls_too(qapp: QApplication) -> None:
    """A party's or camera's name painted under a picture: the override is shown as
    [U+202E], so the tile looks exactly like one captioned with that visible form."""
    grabs = []
    for caption in (RTL, inert_bidi(RTL)):
        w = PictureWidget(caption_style=CaptionStyle(height=24, left=6, baseline=7))
        w.resize(320, 80)
        w.caption = caption
        grabs.append(w.grab().toImage())
        w.deleteLater()
    assert grabs[0] == grabs[1]
