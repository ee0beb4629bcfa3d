"""The point layers' paint helpers: only what is exposed, cameras sharing a pixel cell
drawn once in the most alarming state, single events batched by colour."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QApplication, QGraphicsItem

from console.map.geometry import Cluster
from console.map.items import CAMERA_PX, CameraLayer, visible_camera_rects, visible_clusters
from console.map.model import CameraState, MapModel
from dispatch.domain.site import demo_site_path, load_site


def model_with_states(states: dict[str, CameraState]) -> MapModel:
    model = MapModel(load_site(demo_site_path()))
    model.set_camera_states(states)
    return model


def test_cameras_in_one_cell_share_a_square_in_the_worst_state(qapp: QApplication) -> None:
    model = model_with_states({})
    ids = sorted(model.cameras)
    a, b = ids[0], ids[1]
    model.set_camera_states(
        {a: CameraState.ONLINE, b: CameraState.FAULTY} | {c: CameraState.ONLINE for c in ids[2:]}
    )
    everything = QRectF(-1e9, -1e9, 2e9, 2e9)
    tiny = QTransform.fromScale(1e-6, 1e-6)  # the whole county inside one pixel cell
    rects = visible_camera_rects(model, tiny, everything)
    assert list(rects) == [CameraState.FAULTY] and len(rects[CameraState.FAULTY]) == 1
    assert rects[CameraState.FAULTY][0].width() == CAMERA_PX
    near = QTransform.fromScale(1.0, 1.0)  # a pixel per metre: every camera its own square
    rects = visible_camera_rects(model, near, everything)
    assert sum(len(r) for r in rects.values()) == len({model.cameras[c].at for c in ids})
    assert len(rects[CameraState.FAULTY]) == 1


def test_cameras_outside_the_exposed_area_are_not_drawn(qapp: QApplication) -> None:
    model = model_with_states({})
    cam = next(iter(model.cameras.values()))
    x, y = cam.at[0], -cam.at[1]
    around = QRectF(x - 1, y - 1, 2, 2)
    drawn = visible_camera_rects(model, QTransform(), around)
    assert sum(len(r) for r in drawn.values()) >= 1
    away = QRectF(x + 1e6, y, 10, 10)
    assert visible_camera_rects(model, QTransform(), away) == {}


def test_single_events_by_rank_and_clusters_apart() -> None:
    clusters = [
        Cluster(0.0, 0.0, ("a",), 0),
        Cluster(10.0, 0.0, ("b",), 2),
        Cluster(20.0, 0.0, ("c",), 0),
        Cluster(30.0, 0.0, ("d", "e"), 1),
        Cluster(5e6, 0.0, ("far",), 0),
    ]
    tr = QTransform.fromTranslate(100, 50)
    singles, groups = visible_clusters(clusters, tr, QRectF(-100, -100, 1000, 200))
    assert {rank: len(pts) for rank, pts in singles.items()} == {0: 2, 2: 1}
    assert singles[0][1].x() == 120 and singles[0][1].y() == 50
    assert [c.members for c, _ in groups] == [("d", "e")]


def test_point_layers_are_told_the_exposed_area(qapp: QApplication) -> None:
    layer = CameraLayer(model_with_states({}), QRectF(0, 0, 10, 10))
    assert layer.flags() & QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption
