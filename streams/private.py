"""Data at rest that only its owner can read: folders 0700, files 0600 (issue 12, hole 5).

The database, uploads, recordings, roll-call and patrol snapshots, evidence and exports
hold personal data. The hub sets its umask to 077 when it starts (`restrict_umask`) and,
so that a library's own `open` or another umask cannot widen them, every place that
creates such a folder or file goes through `private_dir` / `private_file` /
`write_private`. `tighten_tree` brings a data folder written by an older hub (0644
files, 0755 folders) to the same modes.

`default_state_dir` is where a user's hub keeps its data when no folder is configured:
`$XDG_STATE_HOME/command-hall`, else `~/.local/state/command-hall` (never the current
directory). Deployments set `/var/lib/command-hall` (systemd's `StateDirectory`).

It lives in `streams`, the lowest package, because the hub, the media code and the
console all create such files and `streams` may import neither of the others.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
UMASK = 0o077
APP_DIR = "command-hall"


def default_state_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """`$XDG_STATE_HOME/command-hall`, else `~/.local/state/command-hall`."""
    base = environ.get("XDG_STATE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / APP_DIR


def restrict_umask() -> int:
    """Files and folders made from now on by this process are its owner's only; returns
    the previous umask."""
    return os.umask(UMASK)


def _chmod(path: Path, mode: int) -> None:
    with contextlib.suppress(PermissionError):  # not ours (e.g. a shared parent): leave it
        if stat.S_IMODE(path.lstat().st_mode) != mode:
            os.chmod(path, mode)


def private_dir(path: Path) -> Path:
    """Make `path` and any missing parents as 0700 folders (whatever the umask). Folders
    that exist are left as they are: a data folder may sit in a shared one (`/tmp`);
    `tighten_tree` is for a folder known to be the hub's own."""
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by another thread or process: not ours to change
        _chmod(d, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """An empty 0600 file at `path` (kept if it exists, its mode set to 0600), in a
    private folder: a library that then opens it for writing keeps that mode."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, data: bytes) -> Path:
    """Write `data` to `path` (0600, in a private folder) through a `.part` file and an
    atomic rename, synced: a reader never sees half a file."""
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def tighten_tree(root: Path) -> None:
    """Set every folder under `root` (and `root`) to 0700 and every file to 0600;
    symbolic links are neither followed nor changed."""
    if not root.is_dir() or root.is_symlink():
        return
    _chmod(root, DIR_MODE)
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        for name in dirs:
            if not (base / name).is_symlink():
                _chmod(base / name, DIR_MODE)
        for name in files:
            p = base / name
            if not p.is_symlink() and p.is_file():
                _chmod(p, FILE_MODE)
