"""The backup archive on its own: members hashed as copied, a 0600 file that appears
only when complete, unsafe member names refused, a changed byte or a member the manifest
does not list refused before anything is restored."""

from __future__ import annotations

import io
import stat
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dispatch.hub.backup import ROOTS, archive_path
from dispatch.hub.backup_archive import ArchiveWriter, BackupError, check_name, verify_archive

NOW = datetime(2026, 12, 2, 2, 30, tzinfo=UTC)


def write(tmp_path: Path, files: dict[str, bytes]) -> Path:
    dest = tmp_path / "b.tar"
    with ArchiveWriter(dest) as out:
        for name, body in files.items():
            src = tmp_path / "src" / name
            src.parent.mkdir(parents=True, exist_ok=True)
            src.write_bytes(body)
            assert out.add_file(name, src)
        assert not dest.exists()  # only the part file while writing
        out.finish("sqlite", NOW)
    return dest


def test_an_archive_is_0600_and_verifies(tmp_path: Path) -> None:
    dest = write(tmp_path, {"db/hall.db": b"db" * 1000, "evidence/a.png": b"\x89PNG"})
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert not (tmp_path / "b.tar.part").exists()
    manifest = verify_archive(dest, ROOTS)
    assert [m.name for m in manifest.members] == ["db/hall.db", "evidence/a.png"]
    assert manifest.created_at == NOW and manifest.database == "sqlite"


def test_a_failed_backup_leaves_no_file(tmp_path: Path) -> None:
    dest = tmp_path / "b.tar"
    with pytest.raises(RuntimeError), ArchiveWriter(dest):
        raise RuntimeError("disk gone")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "/etc/passwd", "data/../../x", "data/./x", "other/x", "data//x"]
)
def test_unsafe_member_names_are_refused(name: str) -> None:
    with pytest.raises(BackupError, match="unsafe name"):
        check_name(name, ROOTS)


def test_a_changed_byte_or_an_unlisted_member_is_refused(tmp_path: Path) -> None:
    dest = write(tmp_path, {"db/hall.db": b"x" * 4096})
    data = bytearray(dest.read_bytes())
    with tarfile.open(dest) as tar:
        off = tar.getmember("db/hall.db").offset_data
    data[off + 10] ^= 1
    bad = tmp_path / "bad.tar"
    bad.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="SHA-256"):
        verify_archive(bad, ROOTS)
    extra = tmp_path / "extra.tar"
    extra.write_bytes(dest.read_bytes())
    with tarfile.open(extra, "a") as tar:
        info = tarfile.TarInfo("data/smuggled")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(BackupError, match="not in the manifest"):
        verify_archive(extra, ROOTS)


def test_a_folder_target_gets_a_dated_name(tmp_path: Path) -> None:
    assert archive_path(tmp_path, NOW) == tmp_path / "hall-backup-20261202-023000.tar"
    assert archive_path(tmp_path / "x.tar", NOW) == tmp_path / "x.tar"
