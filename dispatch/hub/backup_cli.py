"""`hall-hub backup|restore`: the hub's database and stored files in one archive
(`dispatch.hub.backup`).

    hall-hub backup --to FILE|DIR [--config FILE] [--db URL] [--data-dir DIR] [--zmq-keys DIR]
    hall-hub restore FILE [--config FILE] [--db URL] [--data-dir DIR] [--zmq-keys DIR]

`backup` runs beside a running hub (SQLite's online backup API, or `pg_dump`) and writes a
0600 tar with a SHA-256 manifest; given a folder it names the file by the time. `restore`
checks every SHA-256, then fills an EMPTY data folder (and an empty PostgreSQL database);
start the hub afterwards. Exit status 0 done, 1 refused or failed (the reason on stderr),
2 a wrong command line or configuration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from dispatch.hub.backup import backup, restore
from dispatch.hub.backup_archive import BackupError
from dispatch.hub.config import ConfigError
from dispatch.hub.consoles_cli import config_from_args
from streams.private import restrict_umask

COMMANDS = ("backup", "restore")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hall-hub", description="back up or restore the hub")
    p.add_argument("command", choices=COMMANDS)
    p.add_argument("archive", nargs="?", type=Path, help="restore: the backup archive")
    p.add_argument("--to", type=Path, help="backup: the archive to write, or a folder for it")
    p.add_argument("--config", type=Path, help="hub configuration TOML file")
    p.add_argument("--db", help="database URL (default: hall.db in the data folder)")
    p.add_argument("--data-dir", type=Path, help="the hub's data folder ([hub] data_dir)")
    p.add_argument("--zmq-keys", type=Path, help="the hub's keys folder ([zmq] keys_dir)")
    return p


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "backup" and args.to is None:
        print("hall-hub backup: give --to FILE (or a folder)", file=sys.stderr)
        return 2
    if args.command == "restore" and args.archive is None:
        print("hall-hub restore: give the backup FILE", file=sys.stderr)
        return 2
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 2
    restrict_umask()
    try:
        if args.command == "backup":
            print(backup(config, args.to).summary())
        else:
            manifest = restore(config, args.archive)
            print(
                f"restored {len(manifest.members)} member(s) of the backup of "
                f"{manifest.created_at.isoformat()} into {config.data_dir()}; start the hub"
            )
    except BackupError as exc:
        print(f"hall-hub {args.command}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"hall-hub {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0
