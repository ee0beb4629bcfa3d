"""The wall controller against a fake frame source: which streams run, sizes, shedding, tours."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.wall.controller import WallController
from console.wall.model import WallModel
from streams.ingest.evidence import EvidenceError
from streams.ingest.types import CameraStatus
from tests.kit import FakeClock
from tests.unit.console.wall.test_wall_fakes import FakeStream


def make(tmp_path: Path, shape: str = "4", budget: int = 25) -> tuple[WallController, FakeClock]:
    FakeStream.instances.clear()
    clock = FakeClock()
    c = WallController(
        WallModel(shape),
        FakeStream,
        evidence_dir=tmp_path / "ev",
        names={"cam1": "东街"},
        clock=clock.monotonic,
        budget=budget,
    )
    return c, clock


def live(c: WallController) -> dict[int, str]:
    return {s: c.stream(s).camera_id for s in c.live_slots()}  # type: ignore[union-attr]


def test_streams_only_for_visible_assigned_tiles(tmp_path: Path) -> None:
    c, _ = make(tmp_path)
    c.model.assign_many([(0, "cam1"), (2, "cam2"), (5, "cam5")])
    assert c.live_slots() == []  # nothing before start
    c.start()
    assert live(c) == {0: "cam1", 2: "cam2"}
    c.model.set_page(1)
    assert live(c) == {5: "cam5"}
    assert c.wait_stopped(5.0)
    assert all(s.stopped == 1 for s in FakeStream.instances if s.camera_id != "cam5")
    c.stop()
    c.stop()
    assert all(s.stopped == 1 for s in FakeStream.instances)


def test_hidden_wall_decodes_nothing(tmp_path: Path) -> None:
    c, _ = make(tmp_path)
    c.model.assign(0, "cam1")
    c.start()
    c.set_hidden(True)
    assert c.live_slots() == []
    c.set_hidden(False)
    assert live(c) == {0: "cam1"}
    c.stop()


def test_maximise_keeps_only_that_tile_and_reassign_restarts(tmp_path: Path) -> None:
    c, _ = make(tmp_path)
    c.model.assign_many([(0, "cam1"), (1, "cam2")])
    c.start()
    first = c.stream(1)
    c.toggle_maximise(1)
    assert c.live_slots() == [1] and c.stream(1) is first
    c.assign(1, "cam3")
    assert c.wait_stopped(5.0)
    assert c.wait_stopped(5.0)
    assert live(c) == {1: "cam3"} and first is not None and first.stopped == 1  # type: ignore[attr-defined]
    c.stop()


def test_tile_size_reaches_the_stream_even(tmp_path: Path) -> None:
    c, _ = make(tmp_path)
    c.set_tile_size(0, 481, 271)
    c.model.assign(0, "cam1")
    c.start()
    s = c.stream(0)
    assert isinstance(s, FakeStream) and s.size == (480, 270)
    c.set_tile_size(0, 1920, 1080)
    assert s.size == (1920, 1080)
    c.stop()


def test_take_returns_each_frame_once_and_records_first_frame(tmp_path: Path) -> None:
    c, clock = make(tmp_path)
    c.model.assign(0, "cam1")
    c.start()
    clock.advance(0.25)
    f1 = c.take(0)
    f2 = c.take(0)
    assert f1 is not None and f2 is not None and f2.seq == f1.seq + 1
    assert c.first_frame_ms == [250.0]
    assert c.take(3) is None
    c.stop()


def test_budget_sheds_last_tiles_and_tells_the_model(tmp_path: Path) -> None:
    c, _ = make(tmp_path, shape="9", budget=6)
    c.model.assign_many([(i, f"cam{i}") for i in range(9)])
    c.start()
    assert c.model.shed == frozenset({6, 7, 8})
    kf = {s: c.stream(s).keyframes for s in range(9)}  # type: ignore[union-attr]
    assert [s for s, on in kf.items() if on] == [6, 7, 8]
    c.toggle_maximise(8)
    assert c.model.shed == frozenset() and not c.stream(8).keyframes  # type: ignore[union-attr]
    c.stop()


def test_measured_lag_sheds_more(tmp_path: Path) -> None:
    c, clock = make(tmp_path, shape="4")
    c.model.assign_many([(i, f"cam{i}") for i in range(4)])
    c.start()
    for _ in range(3):
        c.observe_lag(100.0)
        clock.advance(1.0)
    assert c.model.shed == frozenset({2, 3})
    c.stop()


def test_decoding_behind_the_cameras_sheds_and_one_slow_camera_does_not(
    tmp_path: Path,
) -> None:
    c, clock = make(tmp_path, shape="4")
    c.model.assign_many([(i, f"cam{i}") for i in range(4)])
    c.start()
    streams = {s: c.stream(s) for s in range(4)}
    streams[0].behind_ms = 5_000.0  # type: ignore[union-attr]  # its own network: nobody's load
    for _ in range(4):
        c.observe_lag(0.0)  # the GUI thread keeps time
        clock.advance(1.0)
    assert c.model.shed == frozenset()
    for s in streams.values():
        s.behind_ms = 900.0  # type: ignore[union-attr]  # all fall behind: the decode pool is short
    for _ in range(3):
        c.observe_lag(0.0)
        clock.advance(1.0)
    assert c.model.shed == frozenset({2, 3})
    assert [s for s, st in streams.items() if st.keyframes] == [2, 3]  # type: ignore[union-attr]
    c.stop()


def test_tour_advances_on_the_fake_clock(tmp_path: Path) -> None:
    c, clock = make(tmp_path, shape="1")
    c.start()
    c.start_tour(["a", "b", "c"], [0], dwell_s=10)
    assert live(c) == {0: "a"}
    clock.advance(9)
    c.tick()
    assert live(c) == {0: "a"}
    clock.advance(1)
    c.tick()
    assert live(c) == {0: "b"}
    c.pause_tour()
    clock.advance(100)
    c.tick()
    assert live(c) == {0: "b"}
    c.resume_tour()
    clock.advance(10)
    c.tick()
    assert live(c) == {0: "c"}
    c.stop()


def test_status_callbacks_carry_the_slot(tmp_path: Path) -> None:
    c, _ = make(tmp_path)
    got: list[tuple[int, CameraStatus]] = []
    c.status_changed.connect(lambda s: got.append((s.slot, s.status)))
    c.model.assign(2, "cam2")
    c.start()
    assert [(s, st.camera_id) for s, st in got] == [(2, "cam2")]
    assert set(c.camera_statuses()) == {"cam2"}
    c.stop()


def test_evidence_reports_the_path_or_the_error(tmp_path: Path) -> None:
    c, _ = make(tmp_path)
    c.model.assign(0, "cam1")
    c.start()
    snap = c.snapshot(0)
    clip = c.save_clip(0)
    assert snap is not None and clip is not None
    ok, bad = snap.result(timeout=10), clip.result(timeout=10)
    assert ok.path == tmp_path / "ev" / "东街.png" and ok.error is None
    assert bad.path is None and bad.error == "OSError: disk full"
    assert c.snapshot(3) is None  # nothing shown there
    c.stop()


def test_a_full_evidence_disk_is_reported_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: FakeStream, folder: Path, camera_name: str, seconds: float = 30.0) -> Path:
        raise EvidenceError(
            f"camera cam1: clip not saved: the disk of {folder} is full", no_space=True
        )

    monkeypatch.setattr(FakeStream, "save_clip", full)
    c, _ = make(tmp_path)
    c.model.assign(0, "cam1")
    c.start()
    clip = c.save_clip(0)
    assert clip is not None
    bad = clip.result(timeout=10)
    assert bad.no_space and bad.path is None and "is full" in (bad.error or "")
    snap = c.snapshot(0)  # nothing is stuck: the next save goes through
    assert snap is not None and snap.result(timeout=10).path is not None
    c.stop()


def test_unknown_slot_refused(tmp_path: Path) -> None:
    c, _ = make(tmp_path)
    with pytest.raises(ValueError):
        c.assign(10_000, "cam1")
