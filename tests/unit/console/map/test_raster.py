"""The point layers' kept pictures: tiles painted once per scale and blitted on a pan, the
same pixels as painting directly, thrown away on new data; the grid index behind them."""

from __future__ import annotations

import random
import sys

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QTransform
from PySide6.QtWidgets import QApplication, QGraphicsScene, QStyleOptionGraphicsItem

from console.map.geometry import Cluster, ClusterCache, GridIndex, cluster
from console.map.items import CameraLayer, EventLayer
from console.map.model import CameraState, MapModel
from console.map.panel import MapPanel
from console.map.projection import world_to_lonlat
from console.map.raster import TILE_PX, RasterTiles, tileable, tiles_for
from console.map.squares import CameraArrays, squares
from dispatch.domain.site import demo_site_path, load_site
from tests.unit.console.map.sample import COLOURS, map_event


def test_grid_index_gives_the_cells_a_rectangle_touches() -> None:
    rng = random.Random(5)
    points = [(i, (rng.uniform(0, 1000), rng.uniform(0, 1000))) for i in range(500)]
    index = GridIndex(points, 100.0)
    assert len(index) == 500
    got = set(index.query(250, 250, 420, 380))
    inside = {i for i, (x, y) in points if 250 <= x <= 420 and 250 <= y <= 380}
    assert inside <= got  # a superset: whole cells
    assert all(200 <= points[i][1][0] < 500 and 200 <= points[i][1][1] < 400 for i in got)
    assert index.query(5000, 5000, 6000, 6000) == []
    assert set(index.query(-1e9, -1e9, 1e9, 1e9)) == set(range(500))


def test_camera_squares_by_array_pick_the_worst_per_cell() -> None:
    cams = CameraArrays.of([((0.0, 0.0), 3), ((1.0, -1.0), 0), ((100.0, 0.0), 2), ((1e6, 0), 1)])
    got = squares(cams, (1.0, 1.0, 10.0, 20.0), (-50.0, -50.0, 150.0, 50.0), 5.0)
    assert list(got) == [2, 0]  # drawn in that order: the most alarming last
    assert got[0][0].tolist() == [11.0] and got[0][1].tolist() == [21.0]  # the faulty one
    assert got[2][0].tolist() == [110.0]
    assert squares(cams, (1.0, 1.0, 0.0, 0.0), (5e6, 0.0, 6e6, 1.0), 5.0) == {}


def test_tiles_cover_an_area_and_only_plain_transforms_are_tiled() -> None:
    cols, rows = tiles_for(QRectF(0, 0, 2 * TILE_PX, TILE_PX / 2), 1.0)
    assert (list(cols), list(rows)) == ([0, 1, 2], [0])
    assert tileable(QTransform.fromScale(0.5, 0.5).translate(10, 20))
    assert not tileable(QTransform().rotate(10))
    assert not tileable(QTransform.fromScale(1.0, 2.0))


def paint_layer(layer: CameraLayer | EventLayer, tr: QTransform, size: tuple[int, int]) -> QImage:
    image = QImage(*size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setWorldTransform(tr)
    option = QStyleOptionGraphicsItem()
    option.exposedRect = layer.boundingRect()
    layer.paint(painter, option)
    painter.end()
    return image


def differing(a: QImage, b: QImage) -> int:
    return sum(
        a.pixel(x, y) != b.pixel(x, y) for y in range(0, a.height(), 2) for x in range(a.width())
    )


def test_kept_tiles_paint_the_same_pixels_and_pans_reuse_them(qapp: QApplication) -> None:
    model = MapModel(load_site(demo_site_path()))
    states = [CameraState.ONLINE, CameraState.FAULTY, CameraState.OFFLINE]
    model.set_camera_states({c: states[i % 3] for i, c in enumerate(model.cameras)})
    model.set_events(
        [(map_event(f"e{i}", grid=g.id), COLOURS[i % 3]) for i, g in enumerate(model.grids)]
    )
    minx, miny, maxx, maxy = model.bounds()
    bounds = QRectF(minx, -maxy, maxx - minx, maxy - miny)
    scene = QGraphicsScene()
    s = 600 / bounds.width()
    tr = QTransform(s, 0, 0, s, round(-bounds.left() * s) + 20, round(-bounds.top() * s) + 20)
    for layer in (CameraLayer(model, bounds), EventLayer(model, bounds)):
        scene.addItem(layer)
        raster = layer.raster
        assert isinstance(raster, RasterTiles)
        kept = paint_layer(layer, tr, (640, 480))
        first = raster.rendered
        assert first > 0 and len(raster) >= first  # blank tiles are remembered too
        layer.raster = None
        direct = paint_layer(layer, tr, (640, 480))
        layer.raster = raster
        assert differing(kept, direct) < 0.002 * 640 * 240, type(layer).__name__
        paint_layer(layer, tr * QTransform.fromTranslate(-37, 11), (640, 480))  # a pan
        paint_layer(layer, tr, (640, 480))  # and back
        assert raster.rendered - first <= 2 * 3  # at most a new column and a new row
        layer.invalidate()
        paint_layer(layer, tr, (640, 480))
        assert raster.rendered >= 2 * first - 1


def test_view_pans_blit(qapp: QApplication) -> None:
    panel = MapPanel(MapModel(load_site(demo_site_path())))
    panel.resize(900, 600)
    panel.show()
    qapp.processEvents()
    view, model = panel.view, panel.model
    model.set_events(
        [(map_event(f"e{i}", grid=g.id), COLOURS[0]) for i, g in enumerate(model.grids)]
    )
    view.fit_county()
    view.zoom(4.0)
    view.viewport().repaint()
    raster = view.events.raster
    assert raster is not None
    rendered = raster.rendered
    centre = view.mapToScene(view.viewport().rect().center())
    for dx in (1, -1, 0):
        view.centerOn(QPointF(centre.x() + dx * 100 / view.scale_px_per_m, centre.y()))
        view.viewport().repaint()
    view.centerOn(centre)
    view.viewport().repaint()
    after_pans = raster.rendered
    view.viewport().repaint()
    assert raster.rendered == after_pans  # the same view again: nothing painted anew
    assert after_pans - rendered <= 2 * (view.viewport().height() // TILE_PX + 2)
    panel.close()


def test_changed_markers_repaint_only_their_tiles_and_look_as_painted_anew(
    qapp: QApplication,
) -> None:
    panel = MapPanel(MapModel(load_site(demo_site_path())))
    panel.resize(900, 600)
    panel.show()
    qapp.processEvents()
    view, model = panel.view, panel.model
    rng = random.Random(9)
    minx, miny, maxx, maxy = model.bounds()
    lonlat = [world_to_lonlat(rng.uniform(minx, maxx), rng.uniform(miny, maxy)) for _ in range(400)]
    rows = [(map_event(f"e{i}", lon, lat), COLOURS[i % 3]) for i, (lon, lat) in enumerate(lonlat)]
    model.set_events(rows)
    view.fit_county()
    view.viewport().repaint()
    raster = view.events.raster
    assert raster is not None
    before = raster.rendered
    rows[7] = (rows[7][0], COLOURS[(COLOURS.index(rows[7][1]) + 1) % 3])  # a colour change
    rows[11] = (map_event("e11", *lonlat[200]), rows[11][1])  # moved
    del rows[23]  # gone
    rows.append((map_event("new", *lonlat[5]), COLOURS[0]))  # new
    model.set_events(rows)
    assert set(model.event_changes) == {"e7", "e11", "e23", "new"}
    view.viewport().repaint()
    incremental = view.viewport().grab().toImage()
    assert 0 < raster.rendered - before < len(raster)  # some tiles, not all
    view.events.invalidate()
    view.viewport().repaint()
    anew = view.viewport().grab().toImage()
    assert differing(incremental, anew) == 0
    panel.close()


def test_clusters_updated_in_place_equal_clustering_anew() -> None:
    rng = random.Random(4)
    where = {
        f"m{i}": ((rng.uniform(0, 5000), rng.uniform(0, 3000)), rng.randrange(3))
        for i in range(3000)
    }

    def items(
        w: dict[str, tuple[tuple[float, float], int]],
    ) -> list[tuple[str, tuple[float, float], int]]:
        return [(k, at, r) for k, (at, r) in w.items()]

    def shape(clusters: list[Cluster[str]]) -> set[tuple[frozenset[str], int, float, float]]:
        return {(frozenset(c.members), c.rank, round(c.x, 6), round(c.y, 6)) for c in clusters}

    cache: ClusterCache[str] = ClusterCache()
    for level, cell in ((1, 50.0), (2, 400.0), (3, 2000.0)):
        cache.get(1, level, cell, items(where))
    new = dict(where)
    changed: dict[str, tuple[tuple[float, float] | None, tuple[float, float] | None]] = {}
    for k in rng.sample(sorted(where), 60):
        kind = rng.randrange(3)
        if kind == 0:
            new[k] = (where[k][0], (where[k][1] + 1) % 3)
        elif kind == 1:
            new[k] = ((rng.uniform(0, 5000), rng.uniform(0, 3000)), where[k][1])
        else:
            del new[k]
        changed[k] = (where[k][0], new[k][0] if k in new else None)
    for i in range(20):
        new[f"n{i}"] = ((rng.uniform(0, 5000), rng.uniform(0, 3000)), 0)
        changed[f"n{i}"] = (None, new[f"n{i}"][0])
    touched = cache.update(1, 2, changed, new)
    assert touched
    for level, cell in ((1, 50.0), (2, 400.0), (3, 2000.0)):
        assert shape(cache.get(2, level, cell, [])) == shape(cluster(items(new), cell))
    assert cache.update(1, 3, changed, new) is None  # not the version it holds: cleared
    assert cache.get(3, 1, 50.0, []) == []


def test_map_repaints_do_not_leak_none(qapp: QApplication) -> None:
    """Blitting the kept tiles is many drawPixmap calls from Python per repaint; PySide6
    6.12 on Python < 3.12 leaks a reference to None on each (shared TESTING.md)."""
    panel = MapPanel(MapModel(load_site(demo_site_path())))
    panel.resize(900, 600)
    panel.show()
    qapp.processEvents()
    view, model = panel.view, panel.model
    model.set_events(
        [(map_event(f"e{i}", grid=g.id), COLOURS[i % 3]) for i, g in enumerate(model.grids)]
    )
    view.fit_county()
    view.viewport().repaint()
    raster = view.events.raster
    assert raster is not None and raster.pictures >= 3
    before = sys.getrefcount(None)
    for _ in range(60):
        view.viewport().repaint()
    assert sys.getrefcount(None) >= before - 60  # a leak: ≥ 60 × 3 blits
    panel.close()


def test_markers_changing_all_day_do_not_leak_none(qapp: QApplication) -> None:
    """Tiles around changed markers are painted again into the pixmaps of forgotten
    tiles: PySide6 6.11 on Python 3.11 keeps 6 references to None for every paint
    device a QPainter opens for the first time (a new pixmap a tile was ~6 a tile)."""
    panel = MapPanel(MapModel(load_site(demo_site_path())))
    panel.resize(900, 600)
    panel.show()
    qapp.processEvents()
    view, model = panel.view, panel.model
    events = [map_event(f"e{i}", grid=g.id) for i, g in enumerate(model.grids)]

    def colours(k: int) -> None:
        model.set_events([(e, COLOURS[(i + k) % 3]) for i, e in enumerate(events)])
        view.viewport().repaint()

    colours(0)
    view.fit_county()
    for k in range(1, 4):
        colours(k)
    raster = view.events.raster
    assert raster is not None
    rendered = raster.rendered
    before = sys.getrefcount(None)
    for k in range(4, 34):
        colours(k)
    painted = raster.rendered - rendered
    leaked = sys.getrefcount(None) - before
    assert painted >= 30, "changed markers paint their tiles again"
    assert leaked < painted, f"{leaked} references to None for {painted} tiles painted"
    panel.close()
