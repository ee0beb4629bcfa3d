"""Pure wall models: shapes, the WallModel, saved layouts, tours (fake clock), load shedding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.wall.layouts import LayoutStore
from console.wall.model import Change, ChangeKind, WallModel, WallState
from console.wall.shapes import SHAPE_NAMES, UnknownShapeError, cell_rects, shape
from console.wall.shedding import LoadShedder, default_budget, stream_cost
from console.wall.tour import Tour, TourError

# -- shapes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tiles", "size"),
    [
        ("1", 1, 1),
        ("4", 4, 2),
        ("9", 9, 3),
        ("16", 16, 4),
        ("25", 25, 5),
        ("36", 36, 6),
        ("1+5", 6, 3),
        ("1+7", 8, 4),
    ],
)
def test_shapes_have_their_tile_counts(name: str, tiles: int, size: int) -> None:
    s = shape(name)
    assert s.tiles == tiles and s.size == size


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_cells_cover_the_grid_exactly_once(name: str) -> None:
    s = shape(name)
    covered: list[tuple[int, int]] = []
    for c in s.cells:
        covered += [
            (r, k) for r in range(c.row, c.row + c.rowspan) for k in range(c.col, c.col + c.colspan)
        ]
    assert sorted(covered) == [(r, k) for r in range(s.size) for k in range(s.size)]


def test_one_large_tile_comes_first_and_is_largest() -> None:
    rects = cell_rects(shape("1+7"), 1920, 1080)
    assert rects[0] == (0, 0, 1440, 810)
    assert all(w * h < 1440 * 810 for _, _, w, h in rects[1:])


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_cell_rects_are_even_and_leave_at_most_a_pixel_seam(name: str) -> None:
    s = shape(name)
    rects = cell_rects(s, 1001, 601)
    assert all(w % 2 == 0 and h % 2 == 0 for _, _, w, h in rects)
    area = sum(w * h for _, _, w, h in rects)
    assert 1001 * 601 - area <= (1001 + 601) * s.size
    for i, (x, y, w, h) in enumerate(rects):  # no overlaps
        for x2, y2, w2, h2 in rects[i + 1 :]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y


def test_unknown_shape_names_the_choices() -> None:
    with pytest.raises(UnknownShapeError, match=r"'12'.*1\+7"):
        shape("12")


# -- the model ----------------------------------------------------------------


def test_model_emits_changes_and_pages_slots() -> None:
    m = WallModel("4")
    seen: list[Change] = []
    m.changed.connect(seen.append)
    m.assign(0, "cam1")
    m.assign(5, "cam2")
    assert m.pages == 2
    assert m.visible_slots() == [0, 1, 2, 3]
    m.set_page(1)
    assert m.visible_slots() == [4, 5, 6, 7]
    assert [c.kind for c in seen] == [ChangeKind.ASSIGNMENT, ChangeKind.ASSIGNMENT, ChangeKind.PAGE]
    assert seen[1].slot == 5


def test_same_assignment_emits_nothing() -> None:
    m = WallModel()
    m.assign(1, "cam1")
    seen: list[Change] = []
    m.changed.connect(seen.append)
    m.assign(1, "cam1")
    assert seen == []


def test_maximise_shows_one_slot_and_toggles_back() -> None:
    m = WallModel("9")
    m.toggle_maximise(4)
    assert m.visible_slots() == [4]
    m.toggle_maximise(4)
    assert m.visible_slots() == list(range(9))


def test_layout_change_keeps_assignments_and_unmaximises() -> None:
    m = WallModel("9")
    m.assign(7, "cam7")
    m.toggle_maximise(7)
    m.set_shape("4")
    assert m.maximised is None and m.camera(7) == "cam7"
    assert m.visible_slots() == [0, 1, 2, 3]
    assert m.pages == 2


def test_bad_slot_and_page_are_refused() -> None:
    m = WallModel()
    with pytest.raises(ValueError, match="slot -1"):
        m.assign(-1, "x")
    with pytest.raises(ValueError, match="page -1"):
        m.set_page(-1)


def test_state_round_trip() -> None:
    m = WallModel("16")
    m.assign(3, "cam3")
    m.set_status_visible(False)
    other = WallModel()
    other.restore(m.state())
    assert other.state() == m.state()
    assert other.shape.name == "16" and not other.status_visible


# -- saved layouts ------------------------------------------------------------


def test_layouts_persist_across_stores(tmp_path: Path) -> None:
    a = LayoutStore(tmp_path)
    assert a.load().last is None
    a.save_named("夜班", WallState("1+5", {0: "cam1", 1: "cam2"}, False, 0))
    a.save_last(WallState("16", {15: "cam9"}))
    b = LayoutStore(tmp_path)
    res = b.load()
    assert res.error is None
    assert res.last == WallState("16", {15: "cam9"})
    assert b.names() == ["夜班"]
    assert b.get("夜班").assignments == {0: "cam1", 1: "cam2"}
    b.delete("夜班")
    assert LayoutStore(tmp_path).load().named == {}


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("{not json", "not valid JSON"),
        ('{"version": 1, "last": {"shape": "7"}}', "last.shape"),
        ('{"version": 1, "named": {"a": {"assignments": {"x": "cam1"}}}}', "named.a.assignments.x"),
        ('{"version": 1, "named": {"a": {"page": -2}}}', "named.a.page"),
        ('{"version": 1, "named": {"a": {"colour": 1}}}', "named.a.colour"),
        ('{"version": 9}', "version"),
    ],
)
def test_damaged_layout_file_is_kept_aside_and_named(
    tmp_path: Path, content: str, field: str
) -> None:
    path = tmp_path / "layouts.json"
    path.write_text(content, encoding="utf-8")
    store = LayoutStore(tmp_path)
    res = store.load()
    assert res.error is not None and field in res.error and str(path) in res.error
    assert res.moved_aside is not None
    assert res.moved_aside.read_text(encoding="utf-8") == content  # nothing lost
    store.save_last(WallState())  # a new file; the damaged one stays aside
    assert json.loads(path.read_text(encoding="utf-8"))["last"]["shape"] == "9"
    assert res.moved_aside.read_text(encoding="utf-8") == content


def test_empty_layout_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="name"):
        LayoutStore(tmp_path).save_named("  ", WallState())


# -- tours with a fake clock --------------------------------------------------


def test_tour_on_one_tile_cycles_with_dwell() -> None:
    t = Tour(["a", "b", "c"], [0], dwell_s=10)
    assert t.start(100.0).assignments == ((0, "a"),)
    assert t.advance(109.9) is None
    step = t.advance(110.0)
    assert step is not None and step.assignments == ((0, "b"),)
    s3 = t.advance(120.0)
    s4 = t.advance(130.0)
    assert s3 is not None and s4 is not None
    assert [s3.assignments, s4.assignments] == [((0, "c"),), ((0, "a"),)]


def test_tour_over_the_wall_pages_through_the_group() -> None:
    t = Tour([f"c{i}" for i in range(6)], [0, 1, 2, 3], dwell_s=5)
    assert t.start(0).assignments == ((0, "c0"), (1, "c1"), (2, "c2"), (3, "c3"))
    step = t.advance(5)
    assert step is not None
    assert step.assignments == ((0, "c4"), (1, "c5"), (2, "c0"), (3, "c1"))


def test_pause_keeps_time_left_and_resume_continues() -> None:
    t = Tour(["a", "b"], [0], dwell_s=10)
    t.start(0)
    t.pause(4)
    assert t.paused and t.advance(100) is None
    assert t.time_left(100) == 6
    t.resume(200)
    assert t.advance(205.9) is None
    step = t.advance(206)
    assert step is not None and step.assignments == ((0, "b"),)


def test_late_tick_takes_one_step_not_a_burst() -> None:
    t = Tour(["a", "b", "c"], [0], dwell_s=10)
    t.start(0)
    assert t.advance(1000) is not None
    assert t.advance(1000) is None
    assert t.time_left(1000) == 10


@pytest.mark.parametrize(
    ("cams", "slots", "dwell"), [([], [0], 5), (["a"], [], 5), (["a"], [0], 0)]
)
def test_bad_tours_are_refused(cams: list[str], slots: list[int], dwell: float) -> None:
    with pytest.raises(TourError):
        Tour(cams, slots, dwell)


# -- load shedding ------------------------------------------------------------


def test_budget_on_two_cores_is_25() -> None:
    assert default_budget(2) == 25


def test_budget_counts_what_each_tile_decodes() -> None:
    """A tile weighs its stream's pixels over a D1 stream's: third streams fit 36 tiles."""
    assert stream_cost(704, 576) == 1.0
    assert round(stream_cost(640, 360), 3) == 0.568
    s = LoadShedder(budget=25)
    third = dict.fromkeys(range(36), stream_cost(640, 360))
    assert s.plan(list(range(36)), None, third).slots == frozenset()
    mixed = {**third, **dict.fromkeys(range(26, 36), 1.0)}  # ten without: 24.8 still fits
    assert s.plan(list(range(36)), None, mixed).slots == frozenset()
    mixed = {**third, **dict.fromkeys(range(21, 36), 1.0)}  # fifteen without: 26.9
    plan = s.plan(list(range(36)), None, mixed)
    assert plan.slots == frozenset({34, 35}) and plan.by_budget == 2
    main = dict.fromkeys(range(16), stream_cost(1280, 720))  # 16 tiles on main streams
    assert s.plan(list(range(16)), None, main).by_budget == 5  # 11 x 720p = 25 D1


def test_tiles_beyond_budget_are_shed_from_the_end() -> None:
    s = LoadShedder(budget=25)
    plan = s.plan(list(range(36)), None)
    assert plan.slots == frozenset(range(25, 36)) and plan.by_budget == 11
    assert s.plan(list(range(16)), None).slots == frozenset()


def test_lag_sheds_more_and_calm_gives_back() -> None:
    s = LoadShedder(budget=25, hold_s=2, recover_s=10, step=2)
    visible = list(range(16))
    s.observe(80, now=0)
    s.observe(80, now=1)
    assert s.plan(visible, None).slots == frozenset()
    s.observe(80, now=2)
    plan = s.plan(visible, None)
    assert plan.slots == frozenset({14, 15}) and plan.by_lag == 2
    s.observe(5, now=3)
    s.observe(5, now=12)
    assert s.plan(visible, None).slots == frozenset({14, 15})
    s.observe(5, now=13)
    assert s.plan(visible, None).slots == frozenset({15})


def test_decoding_behind_sheds_like_lag() -> None:
    s = LoadShedder(budget=25, hold_s=2, recover_s=10, step=2, behind_threshold_ms=400)
    visible = list(range(16))
    for t in range(3):
        s.observe(0, now=t, behind_ms=300)  # a little behind: jitter, not a backlog
    assert s.plan(visible, None).slots == frozenset()
    for t in range(3, 6):
        s.observe(0, now=t, behind_ms=1200)
    assert s.plan(visible, None).by_lag == 2


def test_maximised_tile_is_never_shed() -> None:
    s = LoadShedder(budget=0)
    assert s.plan([4], 4).slots == frozenset()
    assert s.plan(list(range(9)), None).slots == frozenset(range(1, 9))
