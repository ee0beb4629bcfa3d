"""The backup archive: a tar of named members and, last, `manifest.json` giving each
member's size and SHA-256 (`dispatch.hub.backup` decides what goes in).

- Writing (`ArchiveWriter`) goes to `FILE.part`, created 0600 and never readable by
  anyone else, renamed to FILE only when complete: a backup cut short leaves no file
  that looks whole. A member is hashed while it is copied, exactly the bytes stored.
- Reading (`verify_archive`) checks the manifest against the tar before anything is
  restored: every member listed, none unlisted, sizes and SHA-256 equal, names that are
  plain relative paths under a known root (a member name is data, never trusted as a
  path: no `..`, no absolute name, no link, no device).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tarfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Literal

from pydantic import BaseModel, Field, ValidationError

from dispatch.domain.strict import FROZEN

MANIFEST = "manifest.json"
CHUNK = 1 << 20
# a member name: segments of ordinary file-name characters, no dot-only segment
_SEGMENT = re.compile(r"^(?!\.{1,2}$)[^/\x00-\x1f\\]{1,255}$")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


class Member(BaseModel):
    model_config = FROZEN

    name: str = Field(max_length=4096)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Manifest(BaseModel):
    """What a backup holds (`manifest.json`, the archive's last member)."""

    model_config = FROZEN

    format: Literal["command-hall-backup"] = "command-hall-backup"
    version: Literal[1] = 1
    created_at: datetime
    database: Literal["sqlite", "postgresql"]
    members: tuple[Member, ...]


def check_name(name: str, roots: frozenset[str]) -> PurePosixPath:
    """`name` as a safe relative path whose first segment is one of `roots`."""
    path = PurePosixPath(name)
    parts = name.split("/")
    if path.is_absolute() or not all(_SEGMENT.match(p) for p in parts) or parts[0] not in roots:
        raise BackupError(f"the archive holds a member with an unsafe name: {name!r}")
    return path


class _HashingReader(io.RawIOBase):
    """Reads from `f`, hashing what passes (tarfile copies exactly the member's size)."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._f.read(size)
        self.digest.update(data)
        return data


class ArchiveWriter:
    """`add_file(name, path)` for each member, then `finish(database, created_at)`;
    `abort()` (also on leaving the `with` block by an exception) removes the part file."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.part = dest.with_name(dest.name + ".part")
        self._members: list[Member] = []
        self._file: BinaryIO | None = None
        self._tar: tarfile.TarFile | None = None

    def __enter__(self) -> ArchiveWriter:
        try:
            fd = os.open(self.part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError as exc:
            raise BackupError(
                f"{self.part} exists: another backup is running, or remove it"
            ) from exc
        except OSError as exc:
            raise BackupError(f"cannot write {self.part}: {exc.strerror}") from exc
        os.fchmod(fd, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._tar = tarfile.open(fileobj=self._file, mode="w", format=tarfile.PAX_FORMAT)
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None or self._tar is not None:
            self.abort()

    def add_file(self, name: str, path: Path) -> bool:
        """Copy the regular file `path` in as `name`; False when it vanished meanwhile."""
        assert self._tar is not None
        try:
            f = open(path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            return False
        with f:
            st = os.fstat(f.fileno())
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = st.st_size, 0o600, int(st.st_mtime)
            reader = _HashingReader(f)
            self._tar.addfile(info, reader)
        self._members.append(Member(name=name, size=info.size, sha256=reader.digest.hexdigest()))
        return True

    def finish(self, database: Literal["sqlite", "postgresql"], created_at: datetime) -> Manifest:
        """Write the manifest, close, fsync and rename the part file to the archive."""
        assert self._tar is not None and self._file is not None
        manifest = Manifest(created_at=created_at, database=database, members=tuple(self._members))
        body = manifest.model_dump_json(indent=1).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(body), 0o600, int(created_at.timestamp())
        self._tar.addfile(info, io.BytesIO(body))
        self._tar.close()
        self._tar = None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        os.replace(self.part, self.dest)
        return manifest

    def abort(self) -> None:
        if self._tar is not None:
            with contextlib.suppress(OSError):
                self._tar.close()
            self._tar = None
        if self._file is not None:
            self._file.close()
            self._file = None
        self.part.unlink(missing_ok=True)


def read_manifest(tar: tarfile.TarFile) -> Manifest:
    try:
        info = tar.getmember(MANIFEST)
    except KeyError as exc:
        raise BackupError("not a Command Hall backup: it has no manifest.json") from exc
    f = tar.extractfile(info)
    if f is None or info.size > 64 << 20:
        raise BackupError("the backup's manifest.json is not a readable file")
    try:
        return Manifest.model_validate_json(f.read())
    except ValidationError as exc:
        raise BackupError(f"the backup's manifest.json is not valid: {exc}") from exc


def open_archive(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:")
    except FileNotFoundError as exc:
        raise BackupError(f"no backup at {path}") from exc
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path} is not a readable backup archive: {exc}") from exc


def _hash_member(tar: tarfile.TarFile, info: tarfile.TarInfo) -> str:
    f = tar.extractfile(info)
    assert f is not None
    digest = hashlib.sha256()
    while chunk := f.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def verify_archive(path: Path, roots: frozenset[str]) -> Manifest:
    """The archive's manifest, after checking every member against it (see the module)."""
    with open_archive(path) as tar:
        manifest = read_manifest(tar)
        listed = {m.name: m for m in manifest.members}
        seen: set[str] = set()
        try:
            for info in tar:
                if info.name == MANIFEST:
                    continue
                check_name(info.name, roots)
                m = listed.get(info.name)
                if m is None or info.name in seen or not info.isreg():
                    raise BackupError(f"member {info.name!r} is not in the manifest as a file")
                if info.size != m.size or _hash_member(tar, info) != m.sha256:
                    raise BackupError(f"member {info.name!r} does not match its SHA-256: damaged")
                seen.add(info.name)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"the backup archive is damaged: {exc}") from exc
        missing = sorted(set(listed) - seen)
        if missing:
            raise BackupError(f"the backup lacks {len(missing)} member(s), e.g. {missing[0]!r}")
    return manifest


def members(path: Path) -> Iterator[tuple[tarfile.TarInfo, BinaryIO]]:
    """Each regular member but the manifest with its content (after `verify_archive`)."""
    with open_archive(path) as tar:
        for info in tar:
            if info.name == MANIFEST or not info.isreg():
                continue
            f = tar.extractfile(info)
            assert f is not None
            yield info, f  # type: ignore[misc]
