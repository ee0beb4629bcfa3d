"""Tour entries that name a preset, and alarm links to presets (pure)."""

from __future__ import annotations

from console.wall.ptz_model import linked_presets
from console.wall.tour import Tour, split_entry


def test_a_tour_entry_with_a_preset_turns_the_camera_at_its_step() -> None:
    assert split_entry("cam1@东门") == ("cam1", "东门") and split_entry("cam2") == ("cam2", None)
    tour = Tour(["cam1@东门", "cam2", "cam1@西门"], [0], 10.0)
    first = tour.start(0.0)
    assert first.assignments == ((0, "cam1"),)
    assert tour.presets_for(0) == (("cam1", "东门"),)
    assert tour.presets_for(1) == ()
    step = tour.advance(20.0)
    assert step is not None and tour.presets_for(step.index) == ()
    assert tour.presets_for(2) == (("cam1", "西门"),)


def test_an_alarm_turns_the_cameras_linked_to_its_village_or_grid() -> None:
    links = [("v01", "cam1", "东门"), ("v01g1", "cam2", "路口"), ("v02", "cam3", "桥")]
    assert linked_presets(links, ["v01", "v01g1"]) == [("cam1", "东门"), ("cam2", "路口")]
    assert linked_presets(links, ["v09", None]) == []
    assert linked_presets([("v01", "cam1", "a"), ("v01", "cam1", "b")], ["v01"]) == [("cam1", "a")]
