"""A folder of files the hub stored itself, under names it chose (`is_blob_name`).

The only way in is bytes the hub received (`write` a whole file, or `part` … `keep` for
an upload in chunks); the only way out is `path_of(name)`, which answers for a hub-chosen
name of a regular file directly in the folder and for nothing else: no client-given
path is ever opened. The folder is made 0700, the files 0600 (blocking calls: run them
off the loop).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dispatch.tasks.uploads import is_blob_name

_PART = ".part"


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _ensure(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)

    def path_of(self, name: str | None) -> Path | None:
        """The stored file called `name`, or None (not a hub-chosen name, or not here)."""
        if name is None or not is_blob_name(name):
            return None
        path = self.root / name
        return path if path.is_file() and not path.is_symlink() else None

    def write(self, name: str, data: bytes) -> Path:
        """Store `data` as `name`, atomically (the name comes from the content)."""
        part = self.part()
        try:
            with open(part, "wb") as f:
                f.write(data)
            return self.keep(part, name)
        finally:
            part.unlink(missing_ok=True)

    def part(self) -> Path:
        """A new, empty, private file in the folder to write an upload into."""
        self._ensure()
        path = self.root / f"{secrets.token_hex(12)}{_PART}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        return path

    def keep(self, part: Path, name: str) -> Path:
        """Make the finished `part` the stored file `name` (synced first)."""
        if not is_blob_name(name):
            raise ValueError(f"not a stored file name: {name!r}")
        with open(part, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(part, 0o600)
        final = self.root / name
        os.replace(part, final)
        return final

    def drop_parts(self) -> int:
        """Remove unfinished uploads (at start: their clients are gone); how many."""
        if not self.root.is_dir():
            return 0
        parts = [p for p in self.root.iterdir() if p.name.endswith(_PART)]
        for p in parts:
            p.unlink(missing_ok=True)
        return len(parts)
