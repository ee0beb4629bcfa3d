"""The simulator's fault modes: bad input is refused clearly; every mode makes frames."""

from __future__ import annotations

import pytest

from streams.simulator import CamSim, SpecError
from streams.simulator.cli import build_parser
from streams.simulator.picture import MODES, PictureSource
from streams.simulator.spec import numbered_spec, parse_fault, with_faults


def test_with_faults_sets_modes_and_refuses_unknown_cameras_and_modes() -> None:
    spec = with_faults(numbered_spec(3), {"cam2": "blur"})
    assert [c.mode for c in spec.cameras] == ["normal", "blur", "normal"]
    with pytest.raises(SpecError, match="unknown camera 'cam9'"):
        with_faults(numbered_spec(3), {"cam9": "blur"})
    with pytest.raises(SpecError, match="unknown picture mode 'fuzzy'"):
        with_faults(numbered_spec(3), {"cam1": "fuzzy"})


def test_parse_fault() -> None:
    assert parse_fault("cam3=covered") == ("cam3", "covered")
    for bad in ("cam3", "=blur", "cam3=", "cam3=fuzzy"):
        with pytest.raises(SpecError, match="CAMERA=MODE"):
            parse_fault(bad)


def test_cli_fault_option(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(
        ["--cameras", "4", "--fault", "cam3=blur", "--fault", "cam1=black"]
    )
    assert dict(args.fault) == {"cam3": "blur", "cam1": "black"}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--fault", "cam3=sideways"])
    assert "CAMERA=MODE" in capsys.readouterr().err


def test_camsim_refuses_bad_modes_before_any_io() -> None:
    sim = CamSim(cameras=2, faults={"cam1": "noise"})  # no I/O in the constructor
    assert sim.spec.cameras[0].mode == "noise"
    with pytest.raises(ValueError, match="unknown picture mode"):
        sim.set_mode("cam1", "sideways")
    with pytest.raises(SpecError):
        CamSim(cameras=2, faults={"cam7": "black"})


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_makes_whole_frames(mode: str) -> None:
    src = PictureSource(64, 48, seed=3, strip_rows=4)
    src.set_mode(mode)
    frames = [src.frame(i, bytes(64)) for i in range(0, 300, 37)]
    assert all(len(f) == src.frame_size for f in frames)
    moving = len(set(frames)) > 1
    assert moving is (mode not in ("frozen", "black"))


def test_unknown_mode_is_refused() -> None:
    src = PictureSource(64, 48, seed=1, strip_rows=4)
    with pytest.raises(ValueError, match="known: normal, black"):
        src.set_mode("upside_down")
    assert src.mode == "normal"
