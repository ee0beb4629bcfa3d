"""Wall widgets offscreen, against a fake frame source: painting, state words, gestures."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QColor, QDropEvent, QImage, QPainter
from PySide6.QtWidgets import QApplication

from console.kit import i18n
from console.kit.plain import shown_tooltip
from console.wall.controller import WallController
from console.wall.frames import byte_view
from console.wall.model import WallModel
from console.wall.tile import CAMERA_MIME, TileWidget
from console.wall.view import WallView
from streams.ingest.types import CameraState, CameraStatus, Frame
from tests.kit import pump_for, pump_until
from tests.unit.console.wall.test_wall_fakes import FakeStream


@pytest.fixture
def english() -> Iterator[None]:
    i18n.set_language("en")
    try:
        yield
    finally:
        i18n.set_language("zh_CN")


def padded_frame(w: int, h: int, bgr: tuple[int, int, int]) -> Frame:
    full = np.zeros((h, w + 14, 4), np.uint8)
    full[..., 0], full[..., 1], full[..., 2], full[..., 3] = (*bgr, 255)
    full[:, w:, :] = 255  # padding must never show
    return Frame("cam1", full[:, :w], 1, 0.0, time.monotonic(), 704, 576, "sub")


def test_byte_view_keeps_the_stride_without_copy() -> None:
    f = padded_frame(482, 10, (1, 2, 3))
    flat, stride = byte_view(f.image)
    assert stride == (482 + 14) * 4
    assert np.shares_memory(flat, f.image)
    with pytest.raises(ValueError, match="BGRA"):
        byte_view(np.zeros((4, 4, 3), np.uint8))


def test_tile_paints_a_padded_frame_one_to_one(qapp: QApplication) -> None:
    tile = TileWidget(0)
    tile.resize(482, 270)
    tile.set_camera("cam1", "东街十字路口")
    tile.set_status(CameraStatus("cam1", CameraState.LIVE))
    tile.set_status_visible(False)
    tile.set_frame(padded_frame(482, 270, (30, 60, 200)))  # BGR → red-ish
    img = tile.picture()
    assert img.pixelColor(100, 100) == QColor(200, 60, 30)
    assert img.pixelColor(480, 135) == QColor(200, 60, 30)  # the last column, not padding
    assert tile.paints >= 1
    assert tile.overlay_text() is None


@pytest.mark.parametrize(
    ("state", "retry", "zh", "en"),
    [
        (CameraState.CONNECTING, None, "连接中", "Connecting"),
        (CameraState.OFFLINE, None, "离线", "Offline"),
        (CameraState.RETRYING, 2.2, "重连中 3 秒", "Retrying in 3 s"),
        (CameraState.AUTH_FAILED, None, "认证失败", "Auth failed"),
        (CameraState.NOT_FOUND, None, "未找到", "Not found"),
        (CameraState.NO_VIDEO, None, "无视频流", "No video stream"),
        (CameraState.STALLED, None, "卡顿", "Stalled"),
    ],
)
def test_tile_says_its_state_in_both_languages(
    qapp: QApplication, state: CameraState, retry: float | None, zh: str, en: str
) -> None:
    tile = TileWidget(0)
    tile.set_camera("cam1", "东街")
    tile.set_status(CameraStatus("cam1", state, retry_in_s=retry))
    assert tile.overlay_text() == zh
    assert zh in tile.status_text()
    i18n.set_language("en")
    try:
        assert tile.overlay_text() == en
    finally:
        i18n.set_language("zh_CN")


def make_wall(tmp_path: Path, shape: str = "4") -> tuple[WallView, WallController]:
    model = WallModel(shape)
    c = WallController(
        model, FakeStream, evidence_dir=tmp_path, names={f"cam{i}": f"点位{i}" for i in range(40)}
    )
    view = WallView(c)
    view.resize(962, 542)
    return view, c


def test_wall_pulls_frames_of_the_tile_size_and_shows_status(
    qapp: QApplication, tmp_path: Path
) -> None:
    view, c = make_wall(tmp_path)
    c.model.assign_many([(i, f"cam{i}") for i in range(4)])
    c.start()
    view.start()
    view.show()
    # frames come every 20 ms; a loaded machine may need more than 0.3 s for 5 paints
    pump_until(lambda: all(t.paints >= 5 for t in view.tiles if not t.isHidden()), 10)
    assert [t.slot for t in view.tiles if not t.isHidden()] == [0, 1, 2, 3]
    for tile in view.tiles:
        assert tile.frame is not None
        assert (tile.frame.width, tile.frame.height) == (tile.width(), tile.height())
        assert tile.status_text().startswith(f"点位{tile.slot} · 在线 · 25 帧/秒")
        assert tile.status_text().endswith(" · 子码流")  # which stream the tile shows
        assert shown_tooltip(tile.toolTip()) == f"点位{tile.slot}\n子码流 704×576，画面 480×270"
        # the wall's one paintEvent paints the (transparent) tiles as their frames come
        assert tile.paints >= 5
    c.model.set_status_visible(False)
    before = view.grab(view.tiles[0].geometry()).toImage()
    c.model.set_status_visible(True)
    after = view.grab(view.tiles[0].geometry()).toImage()
    y = view.tiles[0].height() - 8
    assert before.pixelColor(3, y) != after.pixelColor(3, y)  # the status bar is drawn
    view.stop()
    c.stop()
    view.close()


def test_double_click_maximises_and_back(qapp: QApplication, tmp_path: Path) -> None:
    view, c = make_wall(tmp_path, "9")
    c.model.assign_many([(i, f"cam{i}") for i in range(9)])
    c.start()
    view.start()
    view.show()
    view.tiles[4].doubleClicked.emit(4)
    visible = [t for t in view.tiles if not t.isHidden()]
    assert [t.slot for t in visible] == [4]
    assert view.width() - visible[0].width() <= 1 and view.height() - visible[0].height() <= 1
    assert c.live_slots() == [4]
    view.tiles[0].doubleClicked.emit(4)
    assert len([t for t in view.tiles if not t.isHidden()]) == 9
    view.stop()
    c.stop()


def test_drop_a_camera_on_a_tile(qapp: QApplication, tmp_path: Path) -> None:
    view, c = make_wall(tmp_path)
    c.start()
    view.start()
    tile = view.tiles[2]
    data = QMimeData()
    data.setData(CAMERA_MIME, b"cam7")
    ev = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    tile.dropEvent(ev)
    assert c.model.camera(2) == "cam7"
    assert c.live_slots() == [2]
    view.stop()
    c.stop()


def test_menu_snapshot_and_failed_clip_reach_the_status_bar(
    qapp: QApplication, tmp_path: Path
) -> None:
    view, c = make_wall(tmp_path)
    c.model.assign(0, "cam1")
    c.start()
    view.start()
    messages: list[str] = []
    view.message.connect(messages.append)
    menu = view.build_menu(0)
    labels = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert labels == ["抓拍", "保存最近 30 秒", "最大化 / 还原", "关闭画面"]
    menu.actions()[0].trigger()
    menu.actions()[1].trigger()
    pump_until(lambda: len(messages) >= 3, 10, what=lambda: messages)
    assert f"抓拍已保存：{tmp_path / '点位1.png'}" in messages
    assert "保存失败：OSError: disk full" in messages
    assert (tmp_path / "点位1.png").exists()
    close = next(a for a in menu.actions() if a.text() == "关闭画面")
    close.trigger()
    assert c.model.camera(0) is None
    view.stop()
    c.stop()


def test_shed_tiles_say_so(qapp: QApplication, tmp_path: Path) -> None:
    model = WallModel("36")
    c = WallController(model, FakeStream, evidence_dir=tmp_path, budget=25)
    view = WallView(c)
    view.resize(1200, 700)
    counts: list[int] = []
    view.shedChanged.connect(counts.append)
    model.assign_many([(i, f"cam{i}") for i in range(36)])
    c.start()
    view.start()
    shed = [t for t in view.tiles if "仅关键帧" in t.status_text()]
    assert [t.slot for t in shed] == list(range(25, 36))
    assert counts[-1] == 11
    view.stop()
    c.stop()


def test_english_menu(qapp: QApplication, tmp_path: Path, english: None) -> None:
    view, _ = make_wall(tmp_path)
    menu = view.build_menu(0)
    assert menu.actions()[0].text() == "Snapshot"
    assert not menu.actions()[0].isEnabled()  # nothing live there


def test_a_tile_on_a_camera_without_a_small_stream_says_it_is_shed(
    qapp: QApplication, tmp_path: Path
) -> None:
    """36 tiles: on third streams none is shed; the cameras with only a sub-stream are."""
    model = WallModel("36")
    FakeStream.instances.clear()
    c = WallController(model, FakeStream, evidence_dir=tmp_path, budget=25)
    view = WallView(c)
    view.resize(1920, 1080)
    model.assign_many([(i, f"cam{i}") for i in range(36)])
    c.start()
    view.start()
    assert len(model.shed) == 11  # 36 D1 sub-streams weigh 36 > 25
    for s in FakeStream.instances:
        s.source = (640, 360)  # every camera on its third stream: 36 x 0.57 = 20.5
    c.apply_shedding()
    assert model.shed == frozenset()
    for s in FakeStream.instances[30:]:
        s.source = (704, 576)  # six cameras without a third stream: 30 x 0.57 + 6 = 23
    c.apply_shedding()
    assert model.shed == frozenset()
    for s in FakeStream.instances[20:]:
        s.source = (704, 576)  # 20 x 0.57 + 16 = 27.4: the last tiles go to key frames
    c.apply_shedding()
    assert model.shed == frozenset({33, 34, 35})
    pump_for(0.2)
    tile = view.tile_for(35)
    assert tile is not None
    assert tile.status_text().endswith(" · 子码流 · 仅关键帧")
    assert "仅解码关键帧" in shown_tooltip(tile.toolTip())
    view.stop()
    c.stop()


def test_status_line_is_a_translucent_bar_with_its_text_redrawn_on_change(
    qapp: QApplication,
) -> None:
    tile = TileWidget(0)
    tile.resize(320, 180)
    tile.set_camera("cam1", "东街十字路口")
    tile.set_status(CameraStatus("cam1", CameraState.LIVE, stream="third"))
    tile.set_frame(padded_frame(320, 180, (255, 255, 255)))  # a white picture

    def bar_rows() -> np.ndarray:
        img = tile.picture()
        rows = [[img.pixelColor(x, y).red() for x in range(1, 319)] for y in range(161, 179)]
        return np.array(rows)

    first = bar_rows()
    assert tile.picture().pixelColor(100, 100) == QColor(255, 255, 255)  # above the bar
    # the picture shows through the bar, darkened (black at alpha 150 over white: ~105)
    assert 90 <= int(np.median(first)) <= 120
    assert first.max() > 150  # the text's light pixels
    again = bar_rows()
    assert np.array_equal(first, again)  # nothing changed: the same bar
    tile.set_status(CameraStatus("cam1", CameraState.LIVE, stream="main"))
    assert not np.array_equal(first, bar_rows())  # 主码流 instead of 第三码流


def test_redrawing_the_status_line_keeps_no_reference_to_none(qapp: QApplication) -> None:
    """PySide6 6.11 on Python 3.11 keeps 6 references to None for every paint device a
    QPainter opens for the first time: a new bar image at each text change (twice a
    second per tile) leaked ~190 a second on the soak's 16-tile wall (issue 16)."""
    tile = TileWidget(0)
    tile.resize(320, 180)
    tile.set_camera("cam1", "东街十字路口")
    tile.set_frame(padded_frame(320, 180, (255, 255, 255)))
    target = QImage(320, 180, QImage.Format.Format_RGB32)
    texts: set[str] = set()

    def paint_with(stream: str) -> None:
        tile.set_status(CameraStatus("cam1", CameraState.LIVE, stream=stream))
        texts.add(tile.status_text())
        p = QPainter(target)
        tile.paint(p)
        p.end()

    paint_with("main")
    paint_with("sub")
    before = sys.getrefcount(None)
    for i in range(200):
        paint_with("main" if i % 2 else "sub")  # a new text: the bar is drawn again
    leaked = sys.getrefcount(None) - before
    assert len(texts) == 2
    assert leaked < 40, f"{leaked} references to None over 200 redraws of the status line"
