"""The main window offscreen with a fake frame source: layouts persist, language, panels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from console.cameras.panel import CameraTreePanel
from console.cameras.tree import build_tree, matches, online_count
from console.kit import i18n
from console.shell.main_window import MainWindow
from console.wall.controller import WallController
from console.wall.layouts import LayoutStore
from console.wall.model import WallModel
from console.wall.tile import CAMERA_MIME
from dispatch.domain.site import demo_site_path, load_site
from streams.ingest.types import CameraState, CameraStatus
from tests.kit.hostile import HEADING, HOSTILE, LINK, RTL, assert_no_risky_labels
from tests.unit.console.wall.test_wall_fakes import FakeStream

SITE = load_site(demo_site_path())
CAMS = [c.id for c in SITE.cameras]


def window(cfg: Path) -> MainWindow:
    c = WallController(
        WallModel(),
        FakeStream,
        evidence_dir=cfg / "evidence",
        names={c.id: c.name for c in SITE.cameras},
    )
    w = MainWindow(c, build_tree(SITE), LayoutStore(cfg))
    w.resize(1280, 720)
    return w


def test_first_start_shows_nine_cameras_and_layout_survives_restart(
    qapp: QApplication, tmp_path: Path
) -> None:
    w = window(tmp_path)
    w.start(default_cameras=CAMS)
    assert w.model.shape.name == "9"
    assert w.model.assignments() == dict(enumerate(CAMS[:9]))
    assert len(w.controller.live_slots()) == 9
    w.model.set_shape("1+5")
    w.controller.assign(0, "cam12")
    w.model.set_status_visible(False)
    w.save_layout("巡查")
    w.model.set_shape("16")
    w.close()
    assert w.controller.live_slots() == []

    again = window(tmp_path)
    again.start(default_cameras=CAMS)
    assert again.model.shape.name == "16"
    assert again.model.camera(0) == "cam12" and not again.model.status_visible
    assert again.saved_box.itemText(0) == "巡查"
    again.load_layout("巡查")
    assert again.model.shape.name == "1+5"
    assert "已调用布局：巡查" in again.statusBar().currentMessage()
    again.close()


def test_layout_argument_picks_shape_or_saved_name(qapp: QApplication, tmp_path: Path) -> None:
    w = window(tmp_path)
    w.start("25", default_cameras=CAMS)
    assert w.model.shape.name == "25"
    # a first start (no last layout) fills the asked shape, not the default 9 tiles
    assert w.model.assignments() == dict(enumerate(CAMS[:25]))
    w.controller.assign(0, "cam12")
    w.close()
    again = window(tmp_path)  # a last layout is kept, not filled again
    again.start("16", default_cameras=CAMS)
    assert again.model.shape.name == "16" and again.model.camera(0) == "cam12"
    again.close()
    w2 = window(tmp_path)
    w2.start("nonsense", default_cameras=CAMS)
    assert "nonsense" in w2.statusBar().currentMessage()
    w2.close()


def test_damaged_layout_file_is_reported_not_lost(qapp: QApplication, tmp_path: Path) -> None:
    (tmp_path / "layouts.json").write_text("{oops", encoding="utf-8")
    w = window(tmp_path)
    w.start(default_cameras=CAMS)
    msg = w.statusBar().currentMessage()
    assert "布局文件损坏" in msg and "layouts.json.damaged-1" in msg
    assert (tmp_path / "layouts.json.damaged-1").read_text(encoding="utf-8") == "{oops"
    assert w.model.shape.name == "9"
    w.close()


def test_saved_wall_naming_a_removed_camera_leaves_an_empty_tile_and_a_note(
    qapp: QApplication, tmp_path: Path
) -> None:
    """The site's own stream factory (the one that raised KeyError "unknown camera
    'cam1'" at start), a saved wall naming one camera the site no longer has, no names
    to hide it: the console starts, the tile is empty with a note, the status bar says
    which camera."""
    from console.wall.sources import rtsp_factory

    layout = {
        "version": 1,
        "last": {"shape": "4", "assignments": {"0": "cam_gone"}, "page": 0},
        "named": {},
    }
    (tmp_path / "layouts.json").write_text(json.dumps(layout), encoding="utf-8")
    c = WallController(WallModel(), rtsp_factory(SITE), evidence_dir=tmp_path / "ev")
    w = MainWindow(c, build_tree(SITE), LayoutStore(tmp_path))
    w.resize(1280, 720)
    w.start(default_cameras=CAMS)
    try:
        assert w.model.camera(0) == "cam_gone"  # kept: the site may get it back
        assert c.live_slots() == [] and c.missing_cameras() == ["cam_gone"]
        tile = w.wall.tile_for(0)
        assert tile is not None
        assert tile.overlay_text() == "监控点位 cam_gone 已不在站点中\n拖入其他监控点位"
        msg = w.statusBar().currentMessage()
        assert "1 个监控点位已不在站点中" in msg and "cam_gone" in msg
        i18n.set_language("en")
        assert tile.overlay_text() == (
            "Camera cam_gone is no longer in the site\nDrop another camera here"
        )
        w.grab()  # paints without a status line or a crash
        w.controller.assign(0, CAMS[0])  # another camera dropped on it: it is a tile again
        assert w.controller.live_slots() == [0] and tile.overlay_text() != ""
    finally:
        i18n.set_language("zh_CN")
        w.close()


def test_language_switch_retranslates(qapp: QApplication, tmp_path: Path) -> None:
    w = window(tmp_path)
    w.start(default_cameras=CAMS)
    assert w.windowTitle() == "综治中心 指挥调度大厅"
    w.lang_actions["en"].trigger()
    try:
        assert i18n.language() == "en"
        assert w.windowTitle().startswith("Command Hall")
        assert w.act_tour_wall.text() == "Tour whole wall"
        assert w.shape_box.itemText(6) == "1 large + 5"
    finally:
        i18n.set_language("zh_CN")
    assert w.act_tour_wall.text() == "整墙轮巡"
    w.close()


def test_side_panel_docks_right_and_fullscreen_round_trip(
    qapp: QApplication, tmp_path: Path
) -> None:
    w = window(tmp_path)
    w.start(default_cameras=CAMS)
    w.show()
    dock = w.add_side_panel(QLabel("事件"), "事件队列")
    assert w.dockWidgetArea(dock).name == "RightDockWidgetArea"
    w.toggle_wall_fullscreen()
    assert w.wall_window is not None and w.wall.window() is w.wall_window
    assert "副屏" in w.statusBar().currentMessage()  # offscreen has one screen
    assert w.act_fullscreen.text() == "视频墙返回主窗口"
    w.toggle_wall_fullscreen()
    assert w.wall_window is None and w.wall.window() is w
    assert len(w.controller.live_slots()) == 9
    w.close()


def test_tour_from_tree_selection(qapp: QApplication, tmp_path: Path) -> None:
    w = window(tmp_path)
    w.start("1", default_cameras=CAMS)
    w.cameras.search.setText("社区")
    cams = w.tour_cameras()
    assert cams and all("社区" in SITE.camera(c).name or c in cams for c in cams)
    w.dwell.setValue(3)
    w.start_tour(one_tile=True)
    assert w.controller.tour is not None
    assert w.model.camera(0) == cams[0]
    w.toggle_tour_pause()
    assert w.controller.tour.paused and w.act_tour_pause.text() == "继续轮巡"
    w.stop_tour()
    assert w.controller.tour is None
    w.close()


def test_camera_tree_counts_search_and_drag(qapp: QApplication) -> None:
    root = build_tree(SITE)
    assert [n.kind.value for n in root.children] == ["township"] * 3
    assert sorted(root.camera_ids()) == sorted(CAMS)
    live = {
        "cam1": CameraStatus("cam1", CameraState.LIVE),
        "cam2": CameraStatus("cam2", CameraState.OFFLINE),
    }
    assert online_count(root, live) == (1, len(CAMS))
    keep = matches(root, SITE.camera("cam2").name)
    assert "camera:cam2" in keep and "camera:cam1" not in keep and "county:county" in keep
    panel = CameraTreePanel(root)
    panel.set_statuses(live)
    assert panel.text("county:county") == f"{SITE.name}（1/{len(CAMS)}）"
    assert panel.text("camera:cam1").startswith("●")
    assert panel.online_total() == (1, len(CAMS))
    # lazy: the county and its townships are rows, nothing below them yet
    assert panel.model.fetched_rows == 1 + len(root.children)
    assert not panel.model.find("camera:cam1").isValid()
    panel.search.setText("农贸")
    assert panel.visible_camera_ids() == ["cam2"]
    cam2 = panel.model.find("camera:cam2")  # a small search is opened out
    assert cam2.isValid() and panel.tree.isExpanded(cam2.parent())
    assert cam2.data().startswith("○")
    mime = panel.model.mimeData([cam2])
    assert bytes(mime.data(CAMERA_MIME).data()) == b"cam2"
    panel.search.setText("")
    assert sorted(panel.visible_camera_ids()) == sorted(CAMS)


@pytest.mark.integration  # starts hall-console as a process
def test_bad_site_file_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    text = (
        demo_site_path().read_text(encoding="utf-8").replace("lon = 112.5420", "lon = 512.5420", 1)
    )
    bad.write_text(text, encoding="utf-8")
    exe = Path(sys.executable).parent / "hall-console"
    run = subprocess.run(
        [str(exe), "--site", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 2
    assert str(bad) in run.stderr and "cameras.0.lon" in run.stderr
    assert "Traceback" not in run.stderr
    missing = subprocess.run(
        [str(exe), "--site", str(tmp_path / "none.toml")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert missing.returncode == 2 and "none.toml" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_hostile_camera_and_place_names_read_literally_on_the_wall_and_tree(
    qapp: QApplication, tmp_path: Path
) -> None:
    """Hole 3: camera and place names come from site files; the tree shows them as typed,
    each tile's painted status line is plain text, and no label of the window guesses."""
    cams = [c.model_copy(update={"name": HOSTILE[i % 5]}) for i, c in enumerate(SITE.cameras)]
    towns = [t.model_copy(update={"name": RTL + t.name}) for t in SITE.townships]
    site = SITE.model_copy(update={"cameras": cams, "townships": towns, "name": HEADING})
    c = WallController(
        WallModel(), FakeStream, evidence_dir=tmp_path / "ev", names={c.id: c.name for c in cams}
    )
    w = MainWindow(c, build_tree(site), LayoutStore(tmp_path))
    w.resize(1280, 720)
    w.start(default_cameras=CAMS)
    tree = w.findChild(CameraTreePanel)
    assert tree is not None
    assert tree.text(f"camera:{cams[0].id}")[2:] == cams[0].name
    assert tree.text("county:county").startswith(HEADING)
    town = tree.text(f"township:{towns[0].id}")
    assert town.startswith("[U+202E]置处需无[U+202C] 王五") and "\u202e" not in town
    for tile in w.wall.tiles[:5]:
        assert tile.status_text().startswith(HOSTILE[tile.slot % 5])
        assert tile._line.textFormat() == Qt.TextFormat.PlainText
    w.show_message(LINK)
    assert w.statusBar().currentMessage() == LINK
    assert_no_risky_labels(w)
    w.close()


@pytest.mark.integration  # starts hall-console as a process
def test_a_trim_interval_that_is_not_seconds_exits_2(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "hall-console"
    run = subprocess.run(
        [str(exe), "--demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
             "HALL_TRIM_EVERY_S": "soon", "HALL_CONFIG_DIR": str(tmp_path / "cfg")},
    )  # fmt: skip
    assert run.returncode == 2, run.stderr[-2000:]
    assert "hall-console: HALL_TRIM_EVERY_S='soon': seconds expected" in run.stderr
    assert "Traceback" not in run.stderr
