"""streams.private: folders 0700 and files 0600 whatever the umask, shared parents left
alone, old data tightened, and the user's state folder as the default (never the current
directory). Real files in tmp_path; the umask is set to the usual 022 around each test."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from streams.private import (
    default_state_dir,
    private_dir,
    private_file,
    tighten_tree,
    write_private,
)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_private_dir_makes_every_missing_folder_0700_and_leaves_existing_ones(
    tmp_path: Path,
) -> None:
    tmp_path.chmod(0o755)
    leaf = private_dir(tmp_path / "a" / "b" / "c")
    assert [mode(p) for p in (leaf, leaf.parent, leaf.parent.parent)] == [0o700] * 3
    assert mode(tmp_path) == 0o755  # a shared parent (think /tmp) is not changed
    (tmp_path / "open").mkdir(mode=0o755)
    private_dir(tmp_path / "open")
    assert mode(tmp_path / "open") == 0o755
    private_dir(leaf)  # safe twice


def test_private_file_and_write_private_are_0600(tmp_path: Path) -> None:
    f = private_file(tmp_path / "snap" / "x.png")
    assert mode(f) == 0o600 and mode(f.parent) == 0o700 and f.read_bytes() == b""
    f.write_bytes(b"png")  # a library opening it for writing keeps the mode
    assert mode(f) == 0o600 and f.read_bytes() == b"png"
    old = tmp_path / "old.csv"
    old.write_text("x")
    assert mode(old) == 0o644
    assert mode(private_file(old)) == 0o600 and old.read_text() == "x"
    out = write_private(tmp_path / "exports" / "w.csv", b"a,b\n")
    assert mode(out) == 0o600 and out.read_bytes() == b"a,b\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["w.csv"]  # no .part left


def test_a_muxer_writing_into_a_private_file_keeps_it_0600(tmp_path: Path) -> None:
    """What the mediation recorder and the console's clips rely on: FFmpeg opens the
    file with O_TRUNC and keeps its mode."""
    path = private_file(tmp_path / "recordings" / "m.mp4")
    with av.open(str(path), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=10)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i, np.uint8), "rgb24")
            for pkt in vs.encode(frame):
                out.mux(pkt)
        for pkt in vs.encode(None):
            out.mux(pkt)
    assert path.stat().st_size > 0 and mode(path) == 0o600


def test_tighten_tree_fixes_old_data_and_follows_no_link(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "uploads" / "t1").mkdir(parents=True)
    (root / "uploads" / "t1" / "p.jpg").write_bytes(b"x")
    (root / "hall.db").write_bytes(b"")
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    (root / "link").symlink_to(outside)
    tighten_tree(root)
    assert {p.name: mode(p) for p in root.rglob("*") if not p.is_symlink()} == {
        "uploads": 0o700,
        "t1": 0o700,
        "p.jpg": 0o600,
        "hall.db": 0o600,
    }
    assert mode(root) == 0o700 and mode(outside) == 0o644


def test_the_default_state_folder_is_the_users_never_the_current_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert default_state_dir({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "command-hall"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    want = tmp_path / "home" / ".local" / "state" / "command-hall"
    assert default_state_dir({}) == want
    assert default_state_dir({"XDG_STATE_HOME": "relative"}) == want  # spec: ignore it
