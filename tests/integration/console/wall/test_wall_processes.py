"""The wall decoding in worker processes (`--decode-processes`), against the real simulator:
live moving pictures through shared memory, a camera killed and back, a decode process
killed and replaced, evidence written by a worker, and nothing left behind at stop."""

from __future__ import annotations

import glob
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from PySide6.QtWidgets import QApplication

from console.cameras.tree import build_tree
from console.shell.main_window import MainWindow
from console.wall.controller import WallController
from console.wall.decoders import Decoders
from console.wall.layouts import LayoutStore
from console.wall.model import WallModel
from console.wall.sources import camera_names, rtsp_factory
from console.wall.tile import TileWidget
from dispatch.domain.site import Site
from streams.ingest.remote import RemoteStream
from streams.ingest.stamp import decode_stamp
from streams.ingest.types import CameraState
from streams.ingest.workers import DecodeWorkers
from tests.integration.console.wall.test_wall_support import camsim_site
from tests.kit import pump_for, pump_until

pytestmark = pytest.mark.integration


def shm_segments() -> set[str]:
    return set(glob.glob("/dev/shm/psm_*"))


def decode_children() -> list[psutil.Process]:
    """This process's children that are decode workers (spawned multiprocessing children;
    the resource tracker is `-c ... resource_tracker`, not `spawn_main`)."""
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if any("spawn_main" in part for part in child.cmdline()):
                out.append(child)
        except psutil.NoSuchProcess:
            continue
    return out


Make = Callable[[Site, int], MainWindow]


@pytest.fixture
def make_window(qapp: QApplication, tmp_path: Path) -> Iterator[Make]:
    """A console window whose wall decodes in `n` processes; at the end it is closed and
    must leave no decode process and no shared memory behind."""
    before = shm_segments()
    made: list[MainWindow] = []

    def make(site: Site, processes: int) -> MainWindow:
        decoders = Decoders(processes)
        c = WallController(
            WallModel(),
            rtsp_factory(site, decoders),
            evidence_dir=tmp_path / "evidence",
            names=camera_names(site),
            decoders=decoders,
        )
        w = MainWindow(c, build_tree(site), LayoutStore(tmp_path))
        w.resize(1280, 720)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()
        assert w.controller.live_slots() == []
    assert decode_children() == []
    assert shm_segments() - before == set()


def all_painted(w: MainWindow) -> bool:
    tiles = [t for t in w.wall.tiles if not t.isHidden() and t.camera_id]
    return bool(tiles) and all(t.frame is not None and t.overlay_text() is None for t in tiles)


def stamps(tiles: list[TileWidget]) -> list[int | None]:
    return [decode_stamp(t.frame.image) if t.frame is not None else None for t in tiles]


def workers_of(w: MainWindow) -> DecodeWorkers:
    stream = w.controller.stream(w.controller.live_slots()[0])
    assert isinstance(stream, RemoteStream)
    return stream.workers


def test_tiles_decoded_in_two_processes_show_moving_pictures(
    make_window: Make, camsim: Any
) -> None:
    site = camsim_site(camsim)
    cams = [c.id for c in site.cameras]
    window = make_window(site, 2)
    window.start("4", default_cameras=cams)
    window.model.assign_many([(i, cams[i % len(cams)]) for i in range(4)])
    window.show()
    pump_until(
        lambda: all_painted(window), 30, what=lambda: [t.status_text() for t in window.wall.tiles]
    )
    tiles = [t for t in window.wall.tiles if not t.isHidden()]
    first = stamps(tiles)
    pump_for(1.0)
    second = stamps(tiles)
    for tile, a, b in zip(tiles, first, second, strict=True):
        assert a is not None and b is not None, tile.status_text()
        assert 500 <= b - a <= 2500, (a, b)  # the picture moves on in real time
        assert tile.frame is not None and not tile.frame.image.flags.owndata  # shared memory
        assert (tile.frame.width, tile.frame.height) == (tile.width(), tile.height())
        assert "在线" in tile.status_text()
    workers = workers_of(window)
    hosts = set(workers.hosts().values())
    assert len(hosts) == 2 and len(decode_children()) == 2  # spread over both processes
    assert os.getpid() not in hosts


def test_a_killed_camera_goes_offline_then_live_again(
    make_window: Make, camsim_faulty: Any
) -> None:
    site = camsim_site(camsim_faulty)
    cam = site.cameras[0].id
    window = make_window(site, 1)
    window.start("1", default_cameras=[cam])
    window.model.assign(0, cam)
    window.show()
    tile = window.wall.tiles[0]
    pump_until(lambda: all_painted(window), 30, what=lambda: tile.status_text())
    camsim_faulty.kill(cam)
    try:
        down = ("离线", "重连中", "连接中")
        pump_until(
            lambda: any(w in (tile.overlay_text() or "") for w in down),
            5,
            what=lambda: tile.status_text(),
        )
    finally:
        camsim_faulty.revive(cam)
    pump_until(lambda: all_painted(window), 10, what=lambda: tile.status_text())
    assert tile.status is not None and tile.status.state is CameraState.LIVE


def test_a_killed_decode_process_is_reported_and_replaced(make_window: Make, camsim: Any) -> None:
    site = camsim_site(camsim)
    cams = [c.id for c in site.cameras][:2]
    window = make_window(site, 1)
    window.start("4", default_cameras=cams)
    window.model.assign_many([(0, cams[0]), (1, cams[1])])
    window.show()
    pump_until(lambda: all_painted(window), 30)
    tiles = [window.wall.tiles[0], window.wall.tiles[1]]
    workers = workers_of(window)
    [old] = workers.pids()
    os.kill(old, signal.SIGKILL)
    pump_until(
        lambda: all("解码进程退出" in (t.overlay_text() or "") for t in tiles),
        5,
        what=lambda: [t.status_text() for t in tiles],
    )
    pump_until(lambda: all_painted(window), 30, what=lambda: [t.status_text() for t in tiles])
    first = stamps(tiles)
    pump_for(1.0)
    second = stamps(tiles)
    for a, b in zip(first, second, strict=True):
        assert a is not None and b is not None and b > a  # moving again
    assert workers.workers_lost == 1 and workers.restarts == 2
    [new] = workers.pids()
    assert new != old and not psutil.pid_exists(old)


def test_evidence_is_written_by_the_decode_process(make_window: Make, camsim: Any) -> None:
    site = camsim_site(camsim)
    cam = site.cameras[1].id
    window = make_window(site, 1)
    window.start("1", default_cameras=[cam])
    window.model.assign(0, cam)
    window.show()
    pump_until(lambda: all_painted(window), 30)
    stream = window.controller.stream(0)
    assert stream is not None and isinstance(stream, RemoteStream)
    pump_until(lambda: stream.evidence_seconds() >= 2.0, 15)
    clip = window.controller.save_clip(0)
    snap = window.controller.snapshot(0)
    assert clip is not None and snap is not None
    got = clip.result(60)
    assert got.error is None and got.path is not None, got.error
    assert got.path.stat().st_size > 10_000
    assert got.path.with_name(got.path.name + ".sha256").exists()
    shot = snap.result(30)
    assert shot.error is None and shot.path is not None and shot.path.suffix == ".png"
