"""`hall-hub backup` and `hall-hub restore`: the hub's database and the files it stored
itself, in one archive (`dispatch.hub.backup_archive`: a tar with a SHA-256 manifest, 0600).

**What goes in.** The database first: SQLite through its online backup API
(`sqlite3.Connection.backup`, a consistent snapshot while the hub writes, WAL or not) or
`pg_dump --format=custom` for PostgreSQL; then the files: `uploads` (feedback photos),
`evidence`, `recordings`, `tls` (the hub's CA: phones keep trusting it), `keys` (the
CURVE key pair and the enrolment book: consoles stay enrolled), each under its own name
wherever it is configured, and `data`: the rest of the data folder (roll-call and patrol
snapshots, exports). Files come after the database, so every file a backed-up row names
is already there (files are written before their rows); a file still being uploaded
(`*.part`) is left out, and a file removed meanwhile is simply absent.

**Restore** goes into an EMPTY data folder (absent or empty; the same for the files'
folders configured elsewhere, and for PostgreSQL a database without tables): it checks
the archive whole first (every SHA-256), then writes folders 0700 and files 0600 and the
database, and never overwrites anything. Start the hub afterwards.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Literal

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from dispatch.hub.backup_archive import (
    ArchiveWriter,
    BackupError,
    Manifest,
    check_name,
    members,
    verify_archive,
)
from dispatch.hub.clock import utc_now
from dispatch.hub.config import HubConfig
from streams.private import private_dir, private_file

DB_SQLITE = "db/hall.db"
DB_PG = "db/hall.pgdump"
FOLDERS = ("uploads", "evidence", "recordings", "tls", "keys")
ROOTS = frozenset({"db", "data", *FOLDERS})
_SQLITE_SIDE = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest

    def summary(self) -> str:
        size = sum(m.size for m in self.manifest.members)
        files = sum(1 for m in self.manifest.members if not m.name.startswith("db/"))
        return (
            f"backup written (0600): {self.path}: {self.manifest.database} database and "
            f"{files} file(s), {size / 1e6:.1f} MB"
        )


# -- where things are --------------------------------------------------------------------


def sqlite_path(config: HubConfig) -> Path | None:
    url = make_url(config.db_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database).absolute()


def folder_roots(config: HubConfig) -> dict[str, Path]:
    """Each named root → the folder it is in this configuration (`data`: the data folder)."""
    data = config.data_dir().absolute()
    return {
        "data": data,
        "uploads": config.upload_dir().absolute(),
        "evidence": config.evidence_dir().absolute(),
        "recordings": (config.recordings or data / "recordings").absolute(),
        "tls": config.tls_dir().absolute(),
        "keys": config.keys_dir().absolute(),
    }


def _files_under(folder: Path, skip: set[Path]) -> Iterator[Path]:
    """Regular files under `folder` (sorted), not descending into `skip`, no links."""
    if not folder.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if here / d not in skip)
        for name in sorted(filenames):
            p = here / name
            if p in skip or name.endswith(".part") or not p.is_file() or p.is_symlink():
                continue
            yield p


def file_members(config: HubConfig) -> Iterator[tuple[str, Path]]:
    """(member name, file) of every file the hub stored itself (see the module)."""
    roots = folder_roots(config)
    skip = {roots[f] for f in FOLDERS}
    db = sqlite_path(config)
    if db is not None:
        skip |= {db.with_name(db.name + s) for s in _SQLITE_SIDE}
    for root, folder in roots.items():
        for p in _files_under(folder, skip if root == "data" else set()):
            yield f"{root}/{p.relative_to(folder).as_posix()}", p


# -- the database ------------------------------------------------------------------------


def copy_sqlite(src: Path, dest: Path) -> None:
    """A consistent copy of the live SQLite file through the online backup API."""
    if not src.is_file():
        raise BackupError(f"no SQLite database at {src}")
    source = sqlite3.connect(f"{src.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
            ok = target.execute("PRAGMA quick_check").fetchone()
            if ok is None or ok[0] != "ok":
                raise BackupError(f"the copy of {src} fails SQLite's quick_check: {ok}")
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup of {src} failed: {exc}") from exc
    finally:
        source.close()


def libpq(db_url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL of a SQLAlchemy PostgreSQL URL without its password, and the
    environment carrying it (never on a command line other users can read)."""
    url = make_url(db_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: postgresql-client)")
    return found


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise BackupError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-800:]}")


def dump_postgres(db_url: str, dest: Path) -> None:
    url, env = libpq(db_url)
    cmd = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(dest), url]
    _run(cmd, env, "pg_dump")


def restore_postgres(db_url: str, dump: Path) -> None:
    url, env = libpq(db_url)
    cmd = [_pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction"]
    _run([*cmd, "--dbname", url, str(dump)], env, "pg_restore")


def database_kind(config: HubConfig) -> Literal["sqlite", "postgresql"]:
    backend = make_url(config.db_url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {backend} database")
    return "sqlite" if backend == "sqlite" else "postgresql"


# -- backup --------------------------------------------------------------------------------


def archive_path(to: Path, now: datetime) -> Path:
    """`to`, or a dated file in it when it is a folder."""
    if to.is_dir():
        return to / f"hall-backup-{now.strftime('%Y%m%d-%H%M%S')}.tar"
    return to


def backup(config: HubConfig, to: Path, now: datetime | None = None) -> BackupResult:
    """Write the backup archive of the hub `config` describes (it may be running)."""
    now = now or utc_now()
    kind = database_kind(config)
    dest = archive_path(to, now)
    if dest.exists():
        raise BackupError(f"{dest} exists: a backup never overwrites a file")
    with tempfile.TemporaryDirectory(prefix="hall-backup-") as tmp, ArchiveWriter(dest) as out:
        os.chmod(tmp, 0o700)
        if kind == "sqlite":
            db = sqlite_path(config)
            assert db is not None
            copy = Path(tmp) / "hall.db"
            copy_sqlite(db, copy)
            out.add_file(DB_SQLITE, copy)
        else:
            dump = Path(tmp) / "hall.pgdump"
            dump_postgres(config.db_url, dump)
            out.add_file(DB_PG, dump)
        for name, path in file_members(config):
            out.add_file(name, path)
        manifest = out.finish(kind, now)
    return BackupResult(dest, manifest)


# -- restore -------------------------------------------------------------------------------


def _empty(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


def check_target(config: HubConfig, kind: str) -> None:
    """Refuse a target that holds anything: restore never mixes or overwrites."""
    for root, folder in folder_roots(config).items():
        if not _empty(folder):
            what = "data folder" if root == "data" else f"{root} folder"
            raise BackupError(f"the {what} {folder} is not empty: restore needs an empty one")
    if kind != database_kind(config):
        raise BackupError(f"the backup holds a {kind} database; the target is not {kind}")
    db = sqlite_path(config)
    if db is not None and any(db.with_name(db.name + s).exists() for s in _SQLITE_SIDE):
        raise BackupError(f"{db} exists: restore needs an empty place for the database")
    if kind == "postgresql":
        engine = create_engine(config.db_url)
        try:
            tables = inspect(engine).get_table_names()
        finally:
            engine.dispose()
        if tables:
            raise BackupError(
                f"the PostgreSQL database holds {len(tables)} table(s): restore needs an empty one"
            )


def _write_member(src: BinaryIO, dest: Path) -> None:
    private_file(dest)
    with open(dest, "wb") as f:
        shutil.copyfileobj(src, f, 1 << 20)


def restore(config: HubConfig, archive: Path) -> Manifest:
    """Restore `archive` into the empty places `config` names (see the module)."""
    manifest = verify_archive(archive, ROOTS)
    check_target(config, manifest.database)
    roots = folder_roots(config)
    private_dir(roots["data"])
    db = sqlite_path(config)
    with tempfile.TemporaryDirectory(prefix="hall-restore-") as tmp:
        for info, f in members(archive):
            name = check_name(info.name, ROOTS)
            root, rest = name.parts[0], name.parts[1:]
            if name.as_posix() == DB_SQLITE and db is not None:
                _write_member(f, db)
            elif name.as_posix() == DB_PG:
                _write_member(f, Path(tmp) / "hall.pgdump")
            elif root in roots and rest:
                _write_member(f, roots[root].joinpath(*rest))
        if manifest.database == "postgresql":
            restore_postgres(config.db_url, Path(tmp) / "hall.pgdump")
    return manifest
