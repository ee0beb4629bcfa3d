"""`hall-hub enroll|revoke|consoles`: which console workstations may reach the hub.

    hall-hub enroll NAME [--out FILE] [--config FILE] [--db URL] [--data-dir DIR] [--zmq-keys DIR]
    hall-hub revoke NAME [--config FILE] [--db URL] [--data-dir DIR] [--zmq-keys DIR]
    hall-hub consoles    [--config FILE] [--db URL] [--data-dir DIR] [--zmq-keys DIR]

`enroll` writes the workstation's key file (0600; default `consoles/NAME.key` in the
hub's keys folder): copy it to the workstation as `~/.config/hall/console.key` or pass it
with `hall-console --keys FILE`. A running hub notices enrolment and revocation within
`[zmq] reload_s`; a revoked console is cut off at once, also while connected.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from dispatch.client.keys import write_console_keys
from dispatch.hub.config import ConfigError, HubConfig, build_config, read_toml
from dispatch.hub.enrol import EnrolError, describe, enrol, read_book, revoke
from dispatch.hub.keys import HubKeyError

COMMANDS = ("enroll", "revoke", "consoles")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hall-hub", description="enrolled console workstations")
    p.add_argument("command", choices=COMMANDS)
    p.add_argument("name", nargs="?", help="the workstation's name (enroll, revoke)")
    p.add_argument("--config", type=Path, help="hub configuration TOML file")
    p.add_argument("--db", help="database URL (its folder holds the default keys folder)")
    p.add_argument("--data-dir", type=Path, help="the hub's data folder ([hub] data_dir)")
    p.add_argument("--zmq-keys", type=Path, help="the hub's keys folder ([zmq] keys_dir)")
    p.add_argument("--out", type=Path, help="where enroll writes the key file")
    return p


def config_from_args(args: argparse.Namespace) -> HubConfig:
    """The hub's config from `--config`, `--db`, `--data-dir` and `--zmq-keys`."""
    data = read_toml(args.config) if args.config is not None else {}
    overrides: dict[tuple[str, ...], tuple[object, str]] = {}
    if args.db is not None:
        overrides[("db_url",)] = (args.db, "--db")
    if args.data_dir is not None:
        overrides[("hub", "data_dir")] = (str(args.data_dir), "--data-dir")
    if args.zmq_keys is not None:
        overrides[("zmq", "keys_dir")] = (str(args.zmq_keys), "--zmq-keys")
    return build_config(data, source=str(args.config or "<defaults>"), overrides=overrides)


def _fixed(endpoint: str) -> str:
    """A configured endpoint worth writing into a key file (not a random port)."""
    return "" if endpoint.endswith(":0") else endpoint


def _enroll(config: HubConfig, name: str, out: Path | None) -> int:
    keys_dir = config.keys_dir()
    keys = enrol(
        keys_dir, name, req_endpoint=_fixed(config.zmq.req), pub_endpoint=_fixed(config.zmq.pub)
    )
    path = out or keys_dir / "consoles" / f"{name}.key"
    write_console_keys(path, keys)
    print(f"workstation {name} enrolled; key file (0600): {path}")
    print(f"hub public key: {keys.hub_public_key}")
    print("copy it to the workstation as ~/.config/hall/console.key or use --keys FILE")
    return 0


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command != "consoles" and not args.name:
        print(f"hall-hub {args.command}: give the workstation's NAME", file=sys.stderr)
        return 2
    try:
        config = config_from_args(args)
        if args.command == "enroll":
            return _enroll(config, args.name, args.out)
        if args.command == "revoke":
            done = revoke(config.keys_dir(), args.name)
            print(f"workstation {done.name} revoked; a running hub cuts it off now")
            return 0
        lines = describe(read_book(config.keys_dir()))
        print("\n".join(lines) if lines else "no console enrolled")
        return 0
    except (ConfigError, EnrolError, HubKeyError) as exc:
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, EnrolError) else 2
    except OSError as exc:
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 1
