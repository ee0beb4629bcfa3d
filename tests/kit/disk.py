"""A small filesystem for disk-full tests: `small_disk(size_mb)` mounts a tmpfs of that
size on a new folder under the test's tmp_path (root only; unmounted after the test, also
when it fails, lazily if a process still holds a file there); `fill(folder)` writes a
filler file until the filesystem says ENOSPC and returns it (delete it to give the space
back)."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SmallDisk = Callable[[int], Path]


def fill(folder: Path, name: str = "filler.bin") -> Path:
    """Write `folder/name` until the disk is full; the file stays (remove it to free)."""
    path = folder / name
    chunk = b"\0" * (64 << 10)
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
        try:  # the last partial chunk's room too
            while True:
                f.write(b"\0" * 512)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return path


def free_bytes(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    if os.geteuid() != 0:
        pytest.fail("small_disk mounts a tmpfs: run the tests as root (scripts/test.sh does)")
    mounted: list[Path] = []

    def mount(size_mb: int) -> Path:
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(folder)],
            check=True,
            capture_output=True,
            timeout=30,
        )
        mounted.append(folder)
        return folder

    try:
        yield mount
    finally:
        for folder in reversed(mounted):
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)
