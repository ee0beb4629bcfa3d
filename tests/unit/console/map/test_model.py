from console.map.model import CameraState, Layer, MapModel
from console.map.projection import lonlat_to_world
from dispatch.domain.site import demo_site_path, load_site
from tests.unit.console.map.sample import COLOURS, map_event


def demo() -> MapModel:
    return MapModel(load_site(demo_site_path()))


def test_built_from_the_site() -> None:
    site = load_site(demo_site_path())
    m = MapModel(site)
    assert len(m.grids) == len([g for g in site.grids if len(g.polygon) >= 3]) > 0
    assert len(m.cameras) == len(site.cameras)
    assert len(m.outline) >= 3
    assert {p.kind for p in m.places} == {"township", "village", "grid", "camera"}
    g = site.grids[0]
    leader = next(p.name for p in site.people if p.id == g.leader)
    assert m.grids[0].leader == leader
    minx, miny, maxx, maxy = m.bounds()
    x, y = lonlat_to_world(*g.polygon[0])
    assert minx <= x <= maxx and miny <= y <= maxy


def test_events_placed_by_coordinates_or_grid_and_versioned() -> None:
    m = demo()
    seen: list[int] = []
    m.events_changed.connect(seen.append)
    grid = m.grids[0]
    rows = [
        (map_event("a", 112.541, 37.871), COLOURS[0]),
        (map_event("b", grid=grid.id), COLOURS[1]),
        (map_event("c"), COLOURS[2]),  # nowhere: not drawn
    ]
    m.set_events(rows)
    assert set(m.events) == {"a", "b"}
    assert m.events["b"].at == grid.centre
    assert m.events["a"].at == lonlat_to_world(112.541, 37.871)
    m.set_events(rows)  # the same: no change
    assert seen == [1]
    m.set_events(rows[:1])
    assert seen == [1, 2] and set(m.events) == {"a"}


def test_camera_states_layers_highlight_hotspots() -> None:
    m = demo()
    cid = next(iter(m.cameras))
    changed: list[frozenset[str]] = []
    m.cameras_changed.connect(changed.append)
    m.set_camera_states({cid: CameraState.FAULTY, "nope": CameraState.ONLINE})
    m.set_camera_states({cid: CameraState.FAULTY})
    assert changed == [frozenset({cid})] and m.cameras[cid].state is CameraState.FAULTY
    layers: list[Layer] = []
    m.layers_changed.connect(layers.append)
    m.set_layer(Layer.EVENTS, False)
    m.set_layer(Layer.EVENTS, False)
    assert layers == [Layer.EVENTS]
    lit: list[frozenset[str]] = []
    m.highlight_changed.connect(lit.append)
    m.highlight(["x"])
    m.highlight(["x"])
    assert lit == [frozenset({"x"})]
    m.set_hotspots([m.grids[0].id])
    assert m.hotspots == {m.grids[0].id}


def test_search_and_cameras_in() -> None:
    m = demo()
    hits = m.search("城关")
    assert hits and hits[0].name.startswith("城关")
    assert m.search("  ") == []
    assert m.search("不存在的地方") == []
    cam = next(iter(m.cameras.values()))
    x, y = cam.at
    assert cam.id in m.cameras_in(x - 1, y - 1, x + 1, y + 1)
    assert m.cameras_in(0, 0, 1, 1) == []
